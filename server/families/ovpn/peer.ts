// ovpn messages → sascope's shapes: peer-get replies and peer-del/peer-float notifications (OVPN_A_PEER),
// key-get replies and key-swap notifications (OVPN_A_KEYCONF). Requests for peer-get and key-get.
import { AttrWriter } from '../../netlink/attr.ts';
import { DecodeError, decodeAttrs, type Decoded, type UnknownAttr } from '../../netlink/spec.ts';
import type { NetlinkMessage } from '../../netlink/message.ts';
import { parseGenl, type GenlHeader } from '../../genl/genl.ts';
import type { OvpnCounters, OvpnKeySlot, OvpnPeer } from '../../wire/ovpn.ts';
import { OVPN_A, OVPN_A_KEYCONF_PEER_ID, OVPN_A_KEYCONF_SLOT, ovpnAttrs } from './spec.ts';

/** What one OVPN_A_PEER nest says; notifications carry only some of it. */
export type OvpnPeerAttrs = Partial<Omit<OvpnPeer, 'key' | 'ifindex' | 'device' | 'keys' | 'keysError' | 'state' | 'rotations' | 'lastRotation'>> & {
  id: number;
  /** peer-del-ntf: why the kernel deleted the peer. */
  delReason?: string;
};

/** What one OVPN_A_KEYCONF nest says (no key material is ever decoded). */
export interface OvpnKeyconfAttrs {
  peerId: number;
  slot?: string;
  keyId?: number;
  cipher?: string;
  unknown?: UnknownAttr[];
}

export interface OvpnMessage {
  cmd: number;
  ifindex?: number;
  peer?: OvpnPeerAttrs;
  keyconf?: OvpnKeyconfAttrs;
  unknown?: UnknownAttr[];
}

function counters(d: Decoded, prefix: 'vpn' | 'link'): OvpnCounters | undefined {
  const names = ['rx-bytes', 'tx-bytes', 'rx-packets', 'tx-packets'] as const;
  if (names.every((n) => d[`${prefix}-${n}`] === undefined)) return undefined;
  const v = (n: string) => (d[`${prefix}-${n}`] as bigint | undefined) ?? 0n;
  return { rxBytes: v('rx-bytes'), txBytes: v('tx-bytes'), rxPackets: v('rx-packets'), txPackets: v('tx-packets') };
}

export function peerFromAttrs(d: Decoded, what: string): OvpnPeerAttrs {
  if (d['id'] === undefined) throw new DecodeError(what, 0, 'peer without OVPN_A_PEER_ID');
  const p: OvpnPeerAttrs = { id: d['id'] as number };
  const set = <K extends keyof OvpnPeerAttrs>(k: K, attr: string) => {
    if (d[attr] !== undefined) p[k] = d[attr] as OvpnPeerAttrs[K];
  };
  set('txId', 'tx-id');
  set('remoteAddress', 'remote-ipv4');
  set('remoteAddress', 'remote-ipv6');
  set('remotePort', 'remote-port');
  set('remoteScopeId', 'remote-ipv6-scope-id');
  set('localAddress', 'local-ipv4');
  set('localAddress', 'local-ipv6');
  set('localPort', 'local-port');
  set('vpnIPv4', 'vpn-ipv4');
  set('vpnIPv6', 'vpn-ipv6');
  set('socket', 'socket');
  set('socketNetnsId', 'socket-netnsid');
  set('keepaliveIntervalSeconds', 'keepalive-interval');
  set('keepaliveTimeoutSeconds', 'keepalive-timeout');
  if (d['del-reason'] !== undefined) p.delReason = String(d['del-reason']);
  const vpn = counters(d, 'vpn');
  if (vpn) p.vpn = vpn;
  const link = counters(d, 'link');
  if (link) p.link = link;
  if (d.unknown) p.unknown = d.unknown;
  return p;
}

export function keyconfFromAttrs(d: Decoded, what: string): OvpnKeyconfAttrs {
  if (d['peer-id'] === undefined) throw new DecodeError(what, 0, 'keyconf without OVPN_A_KEYCONF_PEER_ID');
  const k: OvpnKeyconfAttrs = { peerId: d['peer-id'] as number };
  if (d['slot'] !== undefined) k.slot = String(d['slot']);
  if (d['key-id'] !== undefined) k.keyId = d['key-id'] as number;
  if (d['cipher-alg'] !== undefined) k.cipher = String(d['cipher-alg']);
  if (d.unknown) k.unknown = d.unknown;
  return k;
}

/** One key slot for the entity, from a key-get reply. */
export function keySlot(k: OvpnKeyconfAttrs): OvpnKeySlot {
  const s: OvpnKeySlot = { slot: k.slot ?? 'unknown', keyId: k.keyId ?? -1, cipher: k.cipher ?? 'unknown' };
  if (k.unknown) s.unknown = k.unknown;
  return s;
}

/** Decode the attributes of an ovpn genl message (reply or notification). Throws DecodeError on bad bytes. */
export function decodeOvpnGenl(g: GenlHeader, what = 'ovpn message'): OvpnMessage {
  const d = decodeAttrs(ovpnAttrs, g.attrs, what);
  const out: OvpnMessage = { cmd: g.cmd };
  if (d['ifindex'] !== undefined) out.ifindex = d['ifindex'] as number;
  if (d['peer']) out.peer = peerFromAttrs(d['peer'] as Decoded, what);
  if (d['keyconf']) out.keyconf = keyconfFromAttrs(d['keyconf'] as Decoded, what);
  if (d.unknown) out.unknown = d.unknown;
  return out;
}

/** A whole netlink message (fixtures, fuzzers). */
export function decodeOvpnMessage(m: NetlinkMessage): OvpnMessage {
  return decodeOvpnGenl(parseGenl(m, 'ovpn message'), 'ovpn message');
}

/** peer-get dump request: OVPN_A_IFINDEX only. */
export function peerDumpRequest(ifindex: number): Buffer {
  return new AttrWriter().u32(OVPN_A.IFINDEX, ifindex).encode();
}

/** key-get request: OVPN_A_IFINDEX + OVPN_A_KEYCONF { PEER_ID, SLOT } (the kernel rejects anything more). */
export function keyGetRequest(ifindex: number, peerId: number, slot: number): Buffer {
  return new AttrWriter()
    .u32(OVPN_A.IFINDEX, ifindex)
    .nest(OVPN_A.KEYCONF, (w) => w.u32(OVPN_A_KEYCONF_PEER_ID, peerId).u32(OVPN_A_KEYCONF_SLOT, slot))
    .encode();
}

// ovpn messages → sascope's shapes: peer-get replies and peer-del/peer-float notifications (OVPN_A_PEER),
// key-get replies and key-swap notifications (OVPN_A_KEYCONF). Requests for peer-get and key-get.
import { DecodeError, decodeAttrs, encodeAttrs, type Decoded, type UnknownAttr } from '../../netlink/spec.ts';
import type { NetlinkMessage } from '../../netlink/message.ts';
import { parseGenl, type GenlHeader } from '../../genl/genl.ts';
import type { OvpnCounters, OvpnKeySlot, OvpnPeer } from '../../wire/ovpn.ts';
import { keyconfAttrs, ovpnAttrs, peerAttrs } from './spec.ts';

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

function counters(d: Decoded<typeof peerAttrs>, prefix: 'vpn' | 'link'): OvpnCounters | undefined {
  const names = ['rx-bytes', 'tx-bytes', 'rx-packets', 'tx-packets'] as const;
  if (names.every((n) => d[`${prefix}-${n}`] === undefined)) return undefined;
  const v = (n: (typeof names)[number]) => d[`${prefix}-${n}`] ?? 0n;
  return { rxBytes: v('rx-bytes'), txBytes: v('tx-bytes'), rxPackets: v('rx-packets'), txPackets: v('tx-packets') };
}

export function peerFromAttrs(d: Decoded<typeof peerAttrs>, what: string): OvpnPeerAttrs {
  if (d.id === undefined) throw new DecodeError(what, 0, 'peer without OVPN_A_PEER_ID');
  const p: OvpnPeerAttrs = { id: d.id };
  const set = <K extends keyof OvpnPeerAttrs>(k: K, v: OvpnPeerAttrs[K] | undefined) => {
    if (v !== undefined) p[k] = v;
  };
  set('txId', d['tx-id']);
  set('remoteAddress', d['remote-ipv4']);
  set('remoteAddress', d['remote-ipv6']);
  set('remotePort', d['remote-port']);
  set('remoteScopeId', d['remote-ipv6-scope-id']);
  set('localAddress', d['local-ipv4']);
  set('localAddress', d['local-ipv6']);
  set('localPort', d['local-port']);
  set('vpnIPv4', d['vpn-ipv4']);
  set('vpnIPv6', d['vpn-ipv6']);
  set('socket', d.socket);
  set('socketNetnsId', d['socket-netnsid']);
  set('keepaliveIntervalSeconds', d['keepalive-interval']);
  set('keepaliveTimeoutSeconds', d['keepalive-timeout']);
  if (d['del-reason'] !== undefined) p.delReason = String(d['del-reason']);
  const vpn = counters(d, 'vpn');
  if (vpn) p.vpn = vpn;
  const link = counters(d, 'link');
  if (link) p.link = link;
  if (d.unknown) p.unknown = d.unknown;
  return p;
}

export function keyconfFromAttrs(d: Decoded<typeof keyconfAttrs>, what: string): OvpnKeyconfAttrs {
  if (d['peer-id'] === undefined) throw new DecodeError(what, 0, 'keyconf without OVPN_A_KEYCONF_PEER_ID');
  const k: OvpnKeyconfAttrs = { peerId: d['peer-id'] };
  if (d.slot !== undefined) k.slot = String(d.slot);
  if (d['key-id'] !== undefined) k.keyId = d['key-id'];
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
  if (d.ifindex !== undefined) out.ifindex = d.ifindex;
  if (d.peer) out.peer = peerFromAttrs(d.peer, what);
  if (d.keyconf) out.keyconf = keyconfFromAttrs(d.keyconf, what);
  if (d.unknown) out.unknown = d.unknown;
  return out;
}

/** A whole netlink message (fixtures, fuzzers). */
export function decodeOvpnMessage(m: NetlinkMessage): OvpnMessage {
  return decodeOvpnGenl(parseGenl(m, 'ovpn message'), 'ovpn message');
}

/** peer-get dump request: OVPN_A_IFINDEX only. */
export function peerDumpRequest(ifindex: number): Buffer {
  return encodeAttrs(ovpnAttrs, { ifindex });
}

/** key-get request: OVPN_A_IFINDEX + OVPN_A_KEYCONF { PEER_ID, SLOT } (the kernel rejects anything more). */
export function keyGetRequest(ifindex: number, peerId: number, slot: number): Buffer {
  return encodeAttrs(ovpnAttrs, { ifindex, keyconf: { 'peer-id': peerId, slot } });
}

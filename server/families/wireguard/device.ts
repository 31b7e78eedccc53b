// wireguard messages → sascope's shapes: get-device dump replies (WGDEVICE_A_*, peers WGPEER_A_*, allowed
// IPs WGALLOWEDIP_A_*), one device's replies joined into one, and the get-device request. The private and
// preshared keys are read by the table as lengths only and dropped here: nothing below returns them.
import { DecodeError, decodeAttrs, encodeAttrs, type Decoded } from '../../netlink/spec.ts';
import type { NetlinkMessage } from '../../netlink/message.ts';
import { parseGenl, type GenlHeader } from '../../genl/genl.ts';
import { AF_INET, AF_INET6 } from '../../sys/libc.ts';
import { formatIPv4, formatIPv6 } from '../address.ts';
import type { WireguardDevice, WireguardPeer } from '../../wire/wireguard.ts';
import { deviceAttrs, type allowedIpAttrs, type peerAttrs } from './spec.ts';

/** What one WGPEER_A nest says (a continuation of a split peer: public key and allowed IPs only). */
export type WireguardPeerAttrs = Omit<WireguardPeer, 'key' | 'ifindex' | 'device' | 'persistentKeepaliveSeconds' | 'rxBytes' | 'txBytes'> &
  Partial<Pick<WireguardPeer, 'persistentKeepaliveSeconds' | 'rxBytes' | 'txBytes'>>;

/** What one get-device reply says of its device (later replies of a dump: name and more peers only). */
export type WireguardDeviceAttrs = Partial<Pick<WireguardDevice, 'ifindex' | 'publicKey' | 'listenPort' | 'fwmark' | 'unknown'>> & {
  name?: string;
  peers: WireguardPeerAttrs[];
};

export interface WireguardMessage {
  cmd: number;
  device: WireguardDeviceAttrs;
}

/** struct sockaddr_in / sockaddr_in6 (WGPEER_A_ENDPOINT) as "ip:port" / "[ip6]:port"; family 0: none. */
export function endpointText(b: Buffer, what: string): string | undefined {
  if (b.length < 2) throw new DecodeError(what, 0, `endpoint of ${b.length} bytes`);
  const family = b.readUInt16LE(0);
  if (family === 0) return undefined;
  if (family === AF_INET && b.length >= 16) return `${formatIPv4(b, 4)}:${b.readUInt16BE(2)}`;
  if (family === AF_INET6 && b.length >= 28) {
    const scope = b.readUInt32LE(24);
    return `[${formatIPv6(b, 8)}${scope ? `%${scope}` : ''}]:${b.readUInt16BE(2)}`;
  }
  throw new DecodeError(what, 0, `endpoint of family ${family} in ${b.length} bytes`);
}

function allowedIp(a: Decoded<typeof allowedIpAttrs>, what: string): string {
  const len = a.family === AF_INET ? 4 : a.family === AF_INET6 ? 16 : 0;
  if (!len || !a.ipaddr || a.ipaddr.length !== len || a['cidr-mask'] === undefined || a['cidr-mask'] > len * 8) {
    throw new DecodeError(what, 0, `allowed IP of family ${a.family ?? '?'}, ${a.ipaddr?.length ?? 0} address bytes, /${a['cidr-mask'] ?? '?'}`);
  }
  return `${len === 4 ? formatIPv4(a.ipaddr) : formatIPv6(a.ipaddr)}/${a['cidr-mask']}`;
}

function peerFromAttrs(d: Decoded<typeof peerAttrs>, what: string): WireguardPeerAttrs {
  if (!d['public-key']) throw new DecodeError(what, 0, 'peer without WGPEER_A_PUBLIC_KEY');
  const p: WireguardPeerAttrs = { publicKey: d['public-key'].toString('base64'), allowedIps: (d.allowedips ?? []).map((a) => allowedIp(a, `${what}.allowedips`)) };
  const endpoint = d.endpoint && endpointText(d.endpoint, `${what}.endpoint`);
  if (endpoint) p.endpoint = endpoint;
  if (d['persistent-keepalive-interval'] !== undefined) p.persistentKeepaliveSeconds = d['persistent-keepalive-interval'];
  const hs = d['last-handshake-time'];
  if (hs && (hs.sec || hs.nsec)) p.lastHandshake = Number(hs.sec) * 1000 + Math.floor(Number(hs.nsec) / 1e6);
  if (d['rx-bytes'] !== undefined) p.rxBytes = d['rx-bytes'];
  if (d['tx-bytes'] !== undefined) p.txBytes = d['tx-bytes'];
  if (d['protocol-version'] !== undefined) p.protocolVersion = d['protocol-version'];
  if (d.unknown) p.unknown = d.unknown;
  return p; // preshared-key: decoded as a length by the table, left here
}

/** Decode a get-device reply. Throws DecodeError on bad bytes. */
export function decodeWireguardGenl(g: GenlHeader, what = 'wireguard message'): WireguardMessage {
  const d = decodeAttrs(deviceAttrs, g.attrs, what);
  const dev: WireguardDeviceAttrs = { peers: (d.peers ?? []).map((p, i) => peerFromAttrs(p, `${what}.peers[${i}]`)) };
  if (d.ifindex !== undefined) dev.ifindex = d.ifindex;
  if (d.ifname !== undefined) dev.name = d.ifname;
  if (d['public-key']) dev.publicKey = d['public-key'].toString('base64');
  if (d['listen-port'] !== undefined) dev.listenPort = d['listen-port'];
  if (d.fwmark !== undefined) dev.fwmark = d.fwmark;
  if (d.unknown) dev.unknown = d.unknown;
  return { cmd: g.cmd, device: dev }; // private-key: decoded as a length by the table, left here
}

/** A whole netlink message (fixtures, fuzzers). */
export function decodeWireguardMessage(m: NetlinkMessage): WireguardMessage {
  return decodeWireguardGenl(parseGenl(m, 'wireguard message'), 'wireguard message');
}

/**
 * One device's dump replies joined: the first carries the device, later ones its name and more peers; a
 * peer whose allowed IPs did not fit is repeated at the head of the next reply with its public key and the
 * rest of its allowed IPs (drivers/net/wireguard/netlink.c, wg_get_device_dump), and is joined here.
 */
export function joinDeviceReplies(parts: WireguardDeviceAttrs[]): WireguardDeviceAttrs {
  const [first, ...rest] = parts;
  const out: WireguardDeviceAttrs = { ...first, peers: [...(first?.peers ?? [])] };
  for (const part of rest) {
    for (const p of part.peers) {
      const last = out.peers.at(-1);
      if (last && last.publicKey === p.publicKey) out.peers[out.peers.length - 1] = { ...last, ...p, allowedIps: [...last.allowedIps, ...p.allowedIps] };
      else out.peers.push(p);
    }
    if (part.unknown) out.unknown = [...(out.unknown ?? []), ...part.unknown];
  }
  return out;
}

/** get-device dump request for one device (WGDEVICE_A_IFINDEX; the kernel wants it or the name). */
export function getDeviceRequest(ifindex: number): Buffer {
  return encodeAttrs(deviceAttrs, { ifindex });
}

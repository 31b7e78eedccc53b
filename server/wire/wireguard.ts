// WireGuard entities (wireguard generic netlink family), shared with the browser. Counters are bigint in
// the server and decimal strings on the wire (OnWire<T>). Public keys only, base64 as `wg` prints them:
// the device's private key and the peers' preshared keys are never decoded (server/families/wireguard).
import type { UnknownAttribute } from './entities.ts';

/** One wireguard link (rtnetlink kind "wireguard") and what get-device said of it. Key: ifindex. */
export interface WireguardDevice {
  ifindex: number;
  name: string;
  operState: string;
  /** WGDEVICE_A_PUBLIC_KEY in base64; absent until a private key is set. */
  publicKey?: string;
  /** UDP port the device listens on (0: none yet). */
  listenPort?: number;
  /** Firewall mark of its outgoing packets (0: none). */
  fwmark?: number;
  /** Peers the last get-device dump returned. */
  peers: number;
  /** Why the device could not be read (the get-device error), absent when it was. */
  error?: string;
  unknown?: UnknownAttribute[];
}

/**
 * A peer's tunnel (server/model/tunnels/adapters/wireguard.ts): "wireguard:<ifname>:<public key>", by the
 * interface's name, not its ifindex, so an interface made again under its name keeps its peers' tunnels.
 */
export const wireguardTunnelKey = (p: Pick<WireguardPeer, 'device' | 'publicKey'>) => `wireguard:${p.device}:${p.publicKey}`;

/** A peer of a wireguard device (WGPEER_A_*). Key: "ifindex:public key (base64)". */
export interface WireguardPeer {
  key: string;
  ifindex: number;
  /** The device's name when the peer was read. */
  device: string;
  publicKey: string;
  /** Where its packets go: "192.0.2.1:51820" or "[2001:db8::1]:51820"; absent until known. */
  endpoint?: string;
  /** Seconds between keepalives when there is no other traffic; 0 = off. */
  persistentKeepaliveSeconds: number;
  /** Last completed handshake, ms since the epoch; absent: none yet. */
  lastHandshake?: number;
  rxBytes: bigint;
  txBytes: bigint;
  /** Addresses routed to this peer, "10.0.0.2/32", "fd00::/64". */
  allowedIps: string[];
  protocolVersion?: number;
  unknown?: UnknownAttribute[];
}


// OpenVPN data-channel offload (ovpn) entities, shared with the browser. Counters are bigint in the
// server and decimal strings on the wire (OnWire<T>). No key material: only key-id and cipher per slot.
import type { UnknownAttribute } from './entities.ts';

/** One ovpn link (rtnetlink kind "ovpn") and what sascope could read of it. Key: ifindex. */
export interface OvpnDevice {
  ifindex: number;
  name: string;
  /** IFLA_OVPN_MODE: p2p or mp. */
  mode?: string;
  operState: string;
  /** Peers the last peer-get dump returned. */
  peers: number;
  /** Why peers could not be read (the peer-get error), absent when they were. */
  error?: string;
  /** The last peer-del-ntf seen on this device. */
  lastPeerDeleted?: { peerId: number; reason: string; time: number };
}

export interface OvpnCounters {
  rxBytes: bigint;
  txBytes: bigint;
  rxPackets: bigint;
  txPackets: bigint;
}

/** A key slot of a peer as key-get returns it (OVPN_A_KEYCONF_*): never the key itself. */
export interface OvpnKeySlot {
  /** primary (used for TX and RX) or secondary (RX only, the next or previous key). */
  slot: string;
  keyId: number;
  /** none, aes-gcm, chacha20-poly1305. */
  cipher: string;
  unknown?: UnknownAttribute[];
}

/**
 * ok: keys present; rekey-needed: the kernel sent key-swap-ntf (IV space of the primary key
 * exhausted) and the keys have not changed since; no-key: no key in the primary slot.
 */
export const OVPN_PEER_STATES = ['ok', 'rekey-needed', 'no-key'] as const;
export type OvpnPeerState = (typeof OVPN_PEER_STATES)[number];

/** A peer of an ovpn device (OVPN_A_PEER_*). Key: "ifindex:peer-id". */
export interface OvpnPeer {
  key: string;
  ifindex: number;
  /** The device's name when the peer was read. */
  device: string;
  id: number;
  txId?: number;
  /** Transport endpoint: "192.0.2.1" or "2001:db8::1". */
  remoteAddress?: string;
  remotePort?: number;
  remoteScopeId?: number;
  localAddress?: string;
  localPort?: number;
  /** Addresses inside the tunnel. */
  vpnIPv4?: string;
  vpnIPv6?: string;
  socket?: number;
  /** The netns id of the peer's UDP/TCP socket where it is not sascope's own. */
  socketNetnsId?: number;
  keepaliveIntervalSeconds?: number;
  keepaliveTimeoutSeconds?: number;
  /** Inside the tunnel (vpn-*) and on the transport (link-*). */
  vpn: OvpnCounters;
  link: OvpnCounters;
  /** Slots holding a key, primary first (an empty slot is simply absent). */
  keys: OvpnKeySlot[];
  /** Why the keys could not be read (other than an empty slot). */
  keysError?: string;
  state: OvpnPeerState;
  /** Key changes sascope saw on this peer (primary key-id changed: swap or new key), and the last one's time. */
  rotations: number;
  lastRotation?: number;
  unknown?: UnknownAttribute[];
}

/** Event types the ovpn source writes into the event log, and what each is for the UI. */
export const OVPN_EVENT_TYPES = {
  'peer-del-ntf': 'alarm',
  'key-swap-ntf': 'alarm',
  'peer-float-ntf': 'info',
  'key-swap': 'rotation',
  'peer-new': 'info',
  'ovpn-dev-new': 'info',
  'ovpn-dev-del': 'info',
} as const;

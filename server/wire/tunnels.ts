// What an operator asks about, derived from the raw entities by server/model/: tunnels (SAs grouped by
// what stays the same across rekeys), rotations (one record per rekey), alarms. Shared with the browser.
// Times are ms since epoch; 64-bit counters bigint in the server, decimal strings on the wire.
import type { OnWire } from './entities.ts';
import type { TunnelIke } from './vici.ts';

/** ike: a CHILD_SA configured in strongSwan (VICI) with no SA now, down until its XFRM SAs come (TunnelIke). */
export const TUNNEL_FAMILIES = ['xfrm', 'ovpn', 'wireguard', 'ike'] as const;
export type TunnelFamily = (typeof TUNNEL_FAMILIES)[number];
/** Which limit gives an expiry time: 'add' (since the SA was added) or 'use' (since first use). */
export const EXPIRY_BASES = ['add', 'use'] as const;
/** 32, or 64 with ESN. */
export const SEQUENCE_BITS = [32, 64] as const;

/** Countdowns of a tunnel's current SA. Absent fields: that limit is not set ("no limit"). */
export interface Countdown {
  /** Soft and hard expiry by time: the earlier of add-based (addTime + limit) and use-based (useTime + limit). */
  softExpiresAt?: number;
  hardExpiresAt?: number;
  /** Which limit gives the time above (EXPIRY_BASES). */
  softBasis?: (typeof EXPIRY_BASES)[number];
  hardBasis?: (typeof EXPIRY_BASES)[number];
  /** Use-based limits that have not started (the SA was never used). */
  useLimitPending?: boolean;
  bytesToSoft?: bigint;
  bytesToHard?: bigint;
  packetsToSoft?: bigint;
  packetsToHard?: bigint;
  /** Share of the sequence number space used, in percent (never the raw counter). */
  sequenceUsedPercent?: number;
  sequenceBits?: (typeof SEQUENCE_BITS)[number];
}

/** idle (wireguard): no recent handshake and none expected (no keepalive, nothing being sent): not a fault. */
export const TUNNEL_STATES = ['up', 'rekeying', 'down', 'idle'] as const;
export type TunnelState = (typeof TUNNEL_STATES)[number];

/**
 * A tunnel: XFRM SAs with the same family, protocol, addresses, reqid, mode, selector, mark and if_id
 * (what a rekey keeps), one direction each; or an ovpn peer (its key slots rotate inside it); or a
 * wireguard peer (its session keys rotate at each handshake).
 * Key: "xfrm:<proto>:<src>><dst>:reqid=<n>[…]", "ovpn:<ifindex>:<peer-id>" or "wireguard:<ifname>:<peer public key>"
 * (the interface's name, not its ifindex: a wireguard interface deleted and made again under its name, as
 * wg-quick down/up does, keeps its peers' tunnels and their counters).
 */
export interface Tunnel {
  key: string;
  family: TunnelFamily;
  /** Short human name: "10.0.0.1 → 10.0.0.2 esp reqid 1", or "conn/child (peer id)" once joined with strongSwan's view. */
  name: string;
  /**
   * strongSwan's names for it, when charon knows it. The join (server/model/tunnels/ike-join.ts): an XFRM SA
   * belongs to the vici-child row whose spi-in or spi-out is its SPI when both reqids agree; a tunnel takes the
   * join of its newest SA that has one, both ways live (row after the SAs, SAs after the row); with no row it
   * has its plain name again. Family 'ike': the configured CHILD_SA with no SA, and why (downReason).
   */
  ike?: TunnelIke;
  src: string;
  dst: string;
  proto?: string | number;
  reqid?: number;
  mode?: string | number;
  /** in / out / fwd: the SA's XFRMA_SA_DIR, else the direction of the policy whose template names it. */
  direction?: string;
  selector?: { src: string; dst: string; proto: string | number; sport: number; dport: number };
  mark?: { value: number; mask: number };
  ifId?: number;
  /** Policy entity keys whose templates lead to this tunnel. */
  policies: string[];
  /** The tunnel of the opposite direction (same pair of addresses and reqid), when seen. */
  reverse?: string;
  state: TunnelState;
  /** Live SA entity keys (kind 'sa'), newest first; the first is the current SA. */
  sas: string[];
  /** The current SA (newest): SPI, when it was added, key fingerprint and algorithm. */
  current?: { sa: string; spi: number; addedAt: number; fingerprint?: string; algorithm?: string; offload?: string };
  /** ovpn: the primary key slot's key id. */
  keyId?: number;
  firstSeen: number;
  /** Bytes and packets since the tunnel was first seen, continuous across rotations (and sascope restarts, with history). */
  bytes: bigint;
  packets: bigint;
  /** Same, for the kernel's per-SA failure counters (struct xfrm_stats). */
  integrityFailed: number;
  replayFailed: number;
  replayWindowFailed: number;
  rotations: number;
  lastRotation?: number;
  countdown?: Countdown;
  /** Alarm types raised on this tunnel now. */
  alarms: AlarmType[];
}

/**
 * Why a rotation happened, read from what the kernel said before it:
 * soft-expire: the old SA had a soft EXPIRE (the usual IKE rekey); daemon-rekey: a new SA came while the
 * old one was alive and not soft-expired (the daemon's own timer); hard-expire: the old SA died by hard
 * EXPIRE before any replacement; manual: the old SA was deleted (DELSA) before the new one came, without
 * an expire; key-swap / new-key (ovpn): the secondary key became primary / a new primary key id;
 * key-rotate (PSP): the device rotated its key; handshake (wireguard): the peer's last-handshake time moved
 * (a new session key); operator: an operator's rekey of the CHILD SA the tunnel carries (a vici-action row,
 * POST /api/v1/vici/rekey?child-id=) started within OPERATOR_REKEY_WINDOW_MS before it.
 */
export const ROTATION_CAUSES = ['soft-expire', 'daemon-rekey', 'hard-expire', 'manual', 'key-swap', 'new-key', 'key-rotate', 'handshake', 'operator'] as const;
export type RotationCause = (typeof ROTATION_CAUSES)[number];
/** Rotations happen to tunnels of each TunnelFamily and to PSP devices. */
export const ROTATION_FAMILIES = ['xfrm', 'ovpn', 'psp', 'wireguard'] as const;
/**
 * overlapping: old and new both alive; done: the old one is gone (or there was no overlap); aborted: the
 * new SA went while the old one stayed (a failed rekey: not counted as a rotation of the tunnel).
 */
export const ROTATION_STATES = ['overlapping', 'done', 'aborted'] as const;

/** One rekey. Key: "<tunnel>#<new SPI or key id>@<time>". */
export interface Rotation {
  key: string;
  family: (typeof ROTATION_FAMILIES)[number];
  /** Tunnel key (psp: "psp:<device id>"). */
  tunnel: string;
  tunnelName: string;
  /** When the new SA / key appeared. */
  time: number;
  cause: RotationCause;
  /** cause 'operator': the token's name of who asked. */
  by?: string;
  oldSpi?: number;
  newSpi?: number;
  oldFingerprint?: string;
  newFingerprint?: string;
  /** ovpn key ids. */
  oldKeyId?: number;
  newKeyId?: number;
  state: (typeof ROTATION_STATES)[number];
  /** Old and new alive together, ms (0: the old one was gone first). */
  overlapMs?: number;
  /** When the old SA went (hard-expire / manual: before `time`). */
  oldGoneAt?: number;
  /**
   * wireguard: the handshake came more than REKEY_AFTER_TIME (120 s) after both the previous one seen and the
   * previous read of the peer, so handshakes between the two reads may have gone unseen: counted as this one.
   */
  skippedHandshakes?: boolean;
}

export const ALARM_TYPES = [
  'expiring-soon', 'rekey-overdue', 'hard-expired', 'tunnel-down', 'sequence-space', 'integrity-failures', 'replay-failures',
  'offload-fallback', 'ovpn-key-swap-needed', 'peer-deleted', 'source-stale', 'host-stale', 'host-unreachable',
  'ike-down', 'ike-auth-failed', 'cert-expiring', 'cert-expired', 'wg-handshake-stale',
] as const;
export type AlarmType = (typeof ALARM_TYPES)[number];
export const ALARM_SEVERITIES = ['warning', 'critical'] as const;

/** A raised alarm. Key: "<type>:<ref>". It is removed from the model when it clears (history keeps both). */
export interface Alarm {
  key: string;
  type: AlarmType;
  severity: (typeof ALARM_SEVERITIES)[number];
  /** The entity it is about: "tunnel:<key>", "ovpn-peer:<key>", "source:<id>", "host:<name>" (the fleet console). */
  ref: string;
  summary: string;
  since: number;
  /** The measured value and the configured threshold, where the alarm has one. */
  value?: number;
  threshold?: number;
}

/** clean: stopped by a signal; crash: the last write is all we know; stale: sascope ran but the source that feeds it was stale. */
export const GAP_ENDINGS = ['clean', 'crash', 'stale'] as const;

/** The history database's state (kind 'source', id 'history', carries the status; this is the detail). */
export interface HistoryGap {
  /** sascope was not running (or, how 'stale', `source` was stale) from `from` to `to` (ms): nothing was recorded, nothing is invented. */
  from: number;
  to: number;
  how: (typeof GAP_ENDINGS)[number];
  /** The stale source's id (how 'stale'). */
  source?: string;
}

/** One history sample of a tunnel (GET /api/v1/history/samples): its counters at `time`, 64-bit ones as decimal strings. */
export interface TunnelSample {
  time: number;
  bytes: string;
  packets: string;
  integrityFailed: number;
  replayFailed: number;
  rotations: number;
}

/** An alarm as the history keeps it (GET /api/v1/alarms). */
export interface HistoryAlarm extends OnWire<Alarm> {
  /** When it cleared; absent while raised (or when sascope stopped with it raised). */
  clearedAt?: number;
}

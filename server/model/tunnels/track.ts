// What the tunnel tracker keeps per SA and per tunnel between passes (the rows it publishes are built from these).
import type { OnWire } from '../../wire/entities.ts';
import type { SecurityAssociation } from '../../wire/xfrm.ts';
import type { OvpnPeer } from '../../wire/ovpn.ts';
import type { WireguardPeer } from '../../wire/wireguard.ts';
import type { Rotation, Tunnel, TunnelFamily } from '../../wire/tunnels.ts';
import { tunnelBaseOf } from './grouping.ts';

export type Sa = OnWire<SecurityAssociation>;
export const hex32 = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/** What the tunnel tracker keeps per SA: its counters, algorithm and offload are read from its model row (`value`). */
export interface SaTrack {
  readonly key: string;
  tunnel: string;
  readonly spi: number;
  /** ms: the kernel's add time when it has one, else when sascope first saw the SA. */
  addedAt: number;
  /** Order of arrival, to break addedAt ties (the kernel's add time has 1 s resolution). */
  order: number;
  readonly fingerprint?: string | undefined;
  readonly algorithm?: string | undefined;
  readonly offload?: string | undefined;
  readonly bytes: bigint;
  readonly packets: bigint;
  readonly integrityFailed: number;
  readonly replay: number;
  readonly replayWindow: number;
  softExpiredAt?: number | undefined;
  value: Sa;
}

/**
 * An XFRM SA as the tracker keeps it: five fields, the rest read from the model's row on demand (a record
 * of copies was 208 B with its bigints, ~130 B more per SA at 100k SAs). `tunnel` is the tunnel's own key
 * string, not a copy.
 */
export class XfrmSaTrack implements SaTrack {
  softExpiredAt: number | undefined = undefined;
  constructor(public value: Sa, public tunnel: string, public addedAt: number, public order: number) {}
  get key(): string {
    return this.value.key;
  }
  get spi(): number {
    return this.value.spi;
  }
  get fingerprint(): string | undefined {
    return (this.value.aead ?? this.value.enc ?? this.value.auth)?.fingerprint;
  }
  get algorithm(): string | undefined {
    return (this.value.aead ?? this.value.enc ?? this.value.auth)?.name;
  }
  get offload(): string | undefined {
    const o = this.value.offload;
    return o ? `${o.type}@${o.ifindex}` : undefined;
  }
  get bytes(): bigint {
    return BigInt(this.value.lifetime.current.bytes);
  }
  get packets(): bigint {
    return BigInt(this.value.lifetime.current.packets);
  }
  get integrityFailed(): number {
    return this.value.stats.integrityFailed;
  }
  get replay(): number {
    return this.value.stats.replay;
  }
  get replayWindow(): number {
    return this.value.stats.replayWindow;
  }
}

/** The parts of a tunnel's row its adapter sets once, when the tunnel is made. */
export type TunnelBase = Omit<Tunnel, 'key' | 'family' | 'state' | 'sas' | 'current' | 'firstSeen' | 'bytes' | 'packets' | 'integrityFailed' | 'replayFailed' | 'replayWindowFailed' | 'rotations' | 'lastRotation' | 'countdown' | 'alarms' | 'policies' | 'reverse' | 'direction'> & { saDir?: string };

export interface TunnelTrack {
  key: string;
  family: TunnelFamily;
  base: TunnelBase;
  firstSeen: number;
  retired: { bytes: bigint; packets: bigint; integrityFailed: number; replay: number; replayWindow: number };
  live: SaTrack[];
  rotations: number;
  lastRotation?: number;
  /** Rotations still overlapping, by the old SA's key (absent when none: most tunnels, most of the time). */
  open?: Map<string, Rotation>;
  /** The last SA that went with none left, and how. */
  lastGone?: { sa: SaTrack; at: number; cause: 'hard-expire' | 'manual' };
  everOffloaded: boolean;
  /** Failure counters over time, for "rising" (the oldest kept is the baseline before the window). */
  failureMarks: Array<{ t: number; integrity: number; replay: number }>;
  /** Down since (ms), for lingering removal. */
  downSince?: number;
  /** ovpn: the peer as last seen, and when it was deleted. */
  peer?: OnWire<OvpnPeer>;
  peerDeletedAt?: number;
  /** Live counters of a tunnel without SAs (a wireguard peer), under the key history keeps them by (as an SA's). */
  counting?: { key: string; bytes: bigint };
  /** wireguard: the peer as last read, and what its alarm and state rules need (alarm-rules.ts). */
  wg?: WireguardTrack;
}

export interface WireguardTrack {
  peer: OnWire<WireguardPeer>;
  /** When it was last read with a change (ms). */
  readAt: number;
  /** When its tx bytes were last seen rising (ms): it is sending, or trying to handshake. */
  txRoseAt?: number;
  /** When the peer or its interface went (ms). */
  deletedAt?: number;
}

/**
 * Failure marks of a tunnel that has seen no failure: one shared baseline at zero (its time is never read,
 * only that of the mark after it). A tunnel gets marks of its own when its counters move (markFailures).
 */
export const NO_FAILURES: TunnelTrack['failureMarks'] = [Object.freeze({ t: 0, integrity: 0, replay: 0 })];
Object.freeze(NO_FAILURES);

/** A tunnel with nothing counted yet, as each adapter makes it (every field in one literal: one compact shape for all, no property store beside it); XFRM's are XfrmTunnelTrack. */
export function newTunnel(key: string, family: TunnelFamily, base: TunnelBase, firstSeen: number): TunnelTrack {
  return {
    key, family, base, firstSeen, retired: NO_COUNTS, live: [], rotations: 0, lastRotation: undefined,
    open: undefined, lastGone: undefined, everOffloaded: false, failureMarks: NO_FAILURES, downSince: undefined, peer: undefined, peerDeletedAt: undefined,
    counting: undefined, wg: undefined,
  };
}

/** No live SA (shared, never changed: a tunnel's SAs are replaced, not changed in place). */
const NO_SAS = Object.freeze([]) as unknown as SaTrack[];

/**
 * An XFRM tunnel as the tracker keeps it. Its base (what its row shows of its identity) is made on demand
 * from one of its SAs' rows, `identity` — any will do, each SA of a tunnel has its identity — which the SA
 * record holds anyway (a kept base was 80 B per tunnel); `family` is the class's.
 */
export class XfrmTunnelTrack implements TunnelTrack {
  retired = NO_COUNTS;
  /** The live SAs: none, the one (most tunnels, most of the time: no array of its own, 56 B), or an array of them. */
  private held: SaTrack | SaTrack[] | undefined = undefined;
  rotations = 0;
  lastRotation: number | undefined = undefined;
  open: Map<string, Rotation> | undefined = undefined;
  lastGone: TunnelTrack['lastGone'] = undefined;
  everOffloaded = false;
  failureMarks = NO_FAILURES;
  downSince: number | undefined = undefined;
  /** `identity`: the row of its newest live SA, or of the last one once none is left (that SA's record holds the row too). */
  constructor(readonly key: string, public identity: Sa, public firstSeen: number) {}
  get family(): TunnelFamily {
    return 'xfrm';
  }
  /** Newest first, as TunnelTrack.live (a new array for a lone SA: readers only read it). */
  get live(): SaTrack[] {
    const h = this.held;
    return h === undefined ? NO_SAS : Array.isArray(h) ? h : [h];
  }
  set live(sas: SaTrack[]) {
    this.held = sas.length === 0 ? undefined : sas.length === 1 ? sas[0] : sas;
  }
  get base(): TunnelBase {
    return tunnelBaseOf(this.identity);
  }
}

/** A tunnel's or an SA's counters (history keeps the 64-bit ones as decimal strings). */
export interface Counters { bytes: bigint | string; packets: bigint | string; integrityFailed: number; replay: number; replayWindow: number }

/** Counters of a tunnel none of whose SAs has gone yet: one shared (frozen) object, replaced by addCounters' result. */
export const NO_COUNTS: TunnelTrack['retired'] = Object.freeze({ bytes: 0n, packets: 0n, integrityFailed: 0, replay: 0, replayWindow: 0 });

/** from + sign × c, counter by counter (a new object: from may be NO_COUNTS). */
export function addCounters(from: TunnelTrack['retired'], c: Counters, sign: 1 | -1 = 1): TunnelTrack['retired'] {
  return {
    bytes: from.bytes + BigInt(sign) * BigInt(c.bytes),
    packets: from.packets + BigInt(sign) * BigInt(c.packets),
    integrityFailed: from.integrityFailed + sign * c.integrityFailed,
    replay: from.replay + sign * c.replay,
    replayWindow: from.replayWindow + sign * c.replayWindow,
  };
}

/** The current SA: live is kept newest first. */
export function newest(live: SaTrack[]): SaTrack | undefined {
  return live[0];
}

// The entities sascope shows, shared by server and browser (the UI imports server code only from server/wire).
// 64-bit counters are bigint in the server and decimal strings on the wire: OnWire<T> says so.
import type { EntityKind } from './protocol.ts';

export type OnWire<T> = T extends bigint
  ? string
  : T extends Buffer
    ? string
    : T extends Array<infer U>
      ? Array<OnWire<U>>
      : T extends object
        ? { [K in keyof T]: OnWire<T[K]> }
        : T;

/** An attribute the decoder does not know, kept with its number (bytes only where no secret can hide). */
export interface UnknownAttribute {
  type: number;
  nested: boolean;
  length: number;
  hex?: string;
}

// Enums are one const array each: the type, zod schemas, the OpenAPI document and metrics derive from it.
export const SOURCE_STATES = ['starting', 'ok', 'stale', 'no-permission', 'not-available', 'error'] as const;
export type SourceState = (typeof SOURCE_STATES)[number];

export interface SourceStatus {
  id: string;
  label: string;
  state: SourceState;
  /** Why the state is what it is, in words that repeat neither the source's name nor its state ("module af_key
   * not loaded"; an error keeps the socket it came from: "xfrm: dump SAs: EPERM (needs CAP_NET_ADMIN)"). Where
   * the text stands alone (a banner, the API's refusal), sourceSentence puts the name and state before it. */
  reason?: string;
  /** When the state last changed (ms since epoch). */
  since: number;
  /** Last kernel event or successful dump (ms since epoch). */
  lastData?: number;
  lastResync?: number;
  resyncs: number;
  decodeErrors: number;
  lastDecodeError?: string;
}

/** A source's state in words, as its badge shows it. */
export const SOURCE_STATE_WORDS: Record<SourceState, string> = {
  starting: 'starting', ok: 'OK', stale: 'stale', 'no-permission': 'no permission', 'not-available': 'not available', error: 'error',
};

/** A source's state where the text stands alone: "PF_KEY not available (module af_key not loaded)". */
export function sourceSentence(name: string, s: Pick<SourceStatus, 'state' | 'reason'>): string {
  return `${name} ${SOURCE_STATE_WORDS[s.state]}${s.reason ? ` (${s.reason})` : ''}`;
}

export interface LinkStats {
  rxPackets: bigint;
  txPackets: bigint;
  rxBytes: bigint;
  txBytes: bigint;
  rxErrors: bigint;
  txErrors: bigint;
  rxDropped: bigint;
  txDropped: bigint;
}

export interface Link {
  index: number;
  name: string;
  /** IFLA_INFO_KIND: veth, xfrm, ovpn, dummy, vti, netdevsim has none … */
  kind?: string;
  /** ARPHRD_* of ifi_type, by name where known. */
  type: string;
  flags: string[];
  operState: string;
  mtu?: number;
  address?: string;
  master?: number;
  /** IFLA_LINK: the lower device. */
  link?: number;
  /** xfrm interfaces: IFLA_XFRM_IF_ID. */
  xfrmIfId?: number;
  /** ovpn devices: IFLA_OVPN_MODE. */
  ovpnMode?: string;
  stats?: LinkStats;
  unknown?: UnknownAttribute[];
}

// XFRM entities live in ./xfrm.ts; re-exported here so existing imports keep working.
export type {
  XfrmSelector, XfrmLifetimeConfig, XfrmLifetimeCurrent, XfrmMark, XfrmTemplate, XfrmPolicy,
} from './xfrm.ts';

/** What an event means, for code that acts on it (the tunnel tracker, the wall's ticker); `type` and
 * `summary` are words for people, never read by logic. */
export const EVENT_CODES = ['sa-deleted', 'sa-soft-expire', 'sa-hard-expire', 'policy-soft-expire', 'policy-hard-expire', 'peer-deleted'] as const;
export type EventCode = (typeof EVENT_CODES)[number];

export interface KernelEvent {
  /** Monotonic id. */
  id: number;
  time: number;
  source: string;
  /** e.g. NEWPOLICY, DELPOLICY, NEWLINK, resync */
  type: string;
  summary: string;
  /** What happened as a code (EVENT_CODES), on the events something acts on. */
  code?: EventCode;
  /** The entity it concerns, if any: "policy:12:out". */
  ref?: string;
  /** The same entity, typed (where a source names it so; `ref` is then made from it). */
  subject?: { kind: EntityKind; key: string };
}

// The entities sascope shows, shared by server and browser (the only server file the UI imports).
// 64-bit counters are bigint in the server and decimal strings on the wire: OnWire<T> says so.

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

export type SourceState = 'starting' | 'ok' | 'stale' | 'no-permission' | 'not-available' | 'error';

export interface SourceStatus {
  id: string;
  label: string;
  state: SourceState;
  /** Why the state is what it is, in words ("needs CAP_NET_ADMIN", "module af_key not loaded"). */
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

export interface XfrmSelector {
  family: string;
  /** "10.0.0.0/24" */
  src: string;
  dst: string;
  sport: number;
  sportMask: number;
  dport: number;
  dportMask: number;
  proto: string | number;
  ifindex: number;
  user: number;
}

export interface XfrmLifetimeConfig {
  softByteLimit: bigint;
  hardByteLimit: bigint;
  softPacketLimit: bigint;
  hardPacketLimit: bigint;
  softAddExpiresSeconds: bigint;
  hardAddExpiresSeconds: bigint;
  softUseExpiresSeconds: bigint;
  hardUseExpiresSeconds: bigint;
}

export interface XfrmLifetimeCurrent {
  bytes: bigint;
  packets: bigint;
  /** Seconds since epoch (0 = never). */
  addTime: bigint;
  useTime: bigint;
}

export interface XfrmMark {
  value: number;
  mask: number;
}

export interface XfrmTemplate {
  dst: string;
  spi: number;
  proto: string | number;
  family: string;
  src: string;
  reqid: number;
  mode: string | number;
  share: string | number;
  optional: boolean;
  aalgos: number;
  ealgos: number;
  calgos: number;
}

export interface XfrmPolicy {
  /** index:dir — the kernel's policy index is unique per table; dir kept for readability. */
  key: string;
  index: number;
  dir: string | number;
  action: string | number;
  priority: number;
  flags: string[];
  share: string | number;
  type: string | number;
  selector: XfrmSelector;
  lifetime: { config: XfrmLifetimeConfig; current: XfrmLifetimeCurrent };
  templates: XfrmTemplate[];
  mark?: XfrmMark;
  ifId?: number;
  securityContext?: { doi: number; alg: number; context: string };
  offload?: { ifindex: number; flags: string[] };
  unknown?: UnknownAttribute[];
}

export interface KernelEvent {
  /** Monotonic id. */
  id: number;
  time: number;
  source: string;
  /** e.g. NEWPOLICY, DELPOLICY, NEWLINK, resync */
  type: string;
  summary: string;
  /** The entity it concerns, if any: "policy:12:out". */
  ref?: string;
}

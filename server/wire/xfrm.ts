// XFRM entities (the kernel's SA and policy databases and their totals), shared by server and browser.
// Names follow iproute2's vocabulary (`ip -s xfrm state`): enc, auth, aead, comp, encap, anti-replay,
// output-mark (setMark), if_id, offload, dir. 64-bit counters are bigint in the server, strings on the wire.
// Key material never appears here: an algorithm carries its name, key length and a keyed fingerprint.
import type { UnknownAttribute } from './entities.ts';

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

/** struct xfrm_algo{,_auth,_aead} without the key: name, key length and a keyed fingerprint. */
export interface XfrmAlgorithm {
  name: string;
  keyBits: number;
  /** auth-trunc: truncation length in bits. */
  truncBits?: number;
  /** aead: ICV length in bits. */
  icvBits?: number;
  /**
   * First 8 hex digits of HMAC-SHA256(key) under this host's fingerprint secret (data dir, mode 0600):
   * equal keys give equal fingerprints, a rekey changes it; nothing about the key can be learned from it.
   * Absent for empty keys.
   */
  fingerprint?: string;
}

/** struct xfrm_encap_tmpl: NAT-T (UDP) or TCP encapsulation. */
export interface XfrmEncap {
  /** espinudp, espinudp-nonike, espintcp, or the number. */
  type: string | number;
  sport: number;
  dport: number;
  /** Original address (encap_oa). */
  oa: string;
}

/** XFRMA_REPLAY_VAL (struct xfrm_replay_state) or XFRMA_REPLAY_ESN_VAL (struct xfrm_replay_state_esn). */
export interface XfrmAntiReplay {
  esn: boolean;
  seq: number;
  oseq: number;
  /** ESN only: high 32 bits. */
  seqHi?: number;
  oseqHi?: number;
  /** ESN only: replay window in packets and bitmap length in 32-bit words. */
  replayWindow?: number;
  bitmapLength?: number;
  /** Legacy only: the 32-bit bitmap. */
  bitmap?: number;
}

/** XFRMA_OFFLOAD_DEV (struct xfrm_user_offload). */
export interface XfrmOffload {
  ifindex: number;
  /** SA: in or out (XFRM_OFFLOAD_INBOUND); policies carry raw flags. */
  dir: 'in' | 'out';
  /** crypto, or packet (XFRM_OFFLOAD_PACKET). */
  type: 'crypto' | 'packet';
}

/** IP-TFS parameters (mode iptfs, RFC 9347), in: drop time and reorder window; out: the rest. */
export interface XfrmIptfs {
  dropTimeUs?: number;
  reorderWindow?: number;
  dontFrag?: boolean;
  initDelayUs?: number;
  maxQueueSize?: number;
  pktSize?: number;
}

/** An SPI as the keys and iproute2 print it: "0x00001000". */
export const spiHex = (spi: number): string => `0x${spi.toString(16).padStart(8, '0')}`;

/** A mark and its mask: "0x10/0xff". */
export const markText = (m: XfrmMark): string => `0x${m.value.toString(16)}/0x${m.mask.toString(16)}`;

/** What the kernel finds an SA by (xfrm_state_lookup: mark, daddr, spi, proto, family); an SA row is one. */
export interface SaIdentity {
  family: string;
  proto: string | number;
  dst: string;
  spi: number;
  mark?: XfrmMark;
}

/** The 'sa' key: "inet:esp:10.0.0.2:0x00001000", "inet6:esp:[fd00::2]:0x00001006", ":mark=0x10/0xff" after it when set. */
export function saKey(family: string, proto: string | number, dst: string, spi: number, mark?: XfrmMark): string {
  const d = dst.includes(':') ? `[${dst}]` : dst;
  const m = mark && (mark.value || mark.mask) ? `:mark=${markText(mark)}` : '';
  return `${family}:${proto}:${d}:${spiHex(spi)}${m}`;
}

/**
 * One security association (struct xfrm_usersa_info + XFRMA_*). Key: the kernel's SA identity
 * (family, proto, daddr, spi, and mark when set), see saKey().
 */
export interface SecurityAssociation {
  key: string;
  src: string;
  dst: string;
  /** The 32-bit SPI as a number (iproute2 prints it in hex). */
  spi: number;
  /** esp, ah, comp, route2, hao, or the number. */
  proto: string | number;
  family: string;
  /** transport, tunnel, ro, in_trigger, beet, iptfs, or the number. */
  mode: string | number;
  reqid: number;
  /** km.seq: the ACQUIRE sequence this SA answers (0 when none). */
  seq: number;
  /** replay-window of the header (the ESN window is in antiReplay). */
  replayWindow: number;
  /** noecn, decap-dscp, nopmtudisc, wildrecv, icmp, af-unspec, align4, esn. */
  flags: string[];
  /** XFRMA_SA_EXTRA_FLAGS: dont-encap-dscp, oseq-may-wrap. */
  extraFlags?: string[];
  selector: XfrmSelector;
  lifetime: { config: XfrmLifetimeConfig; current: XfrmLifetimeCurrent };
  /** struct xfrm_stats. */
  stats: { replayWindow: number; replay: number; integrityFailed: number };
  aead?: XfrmAlgorithm;
  /** XFRMA_ALG_AUTH_TRUNC (or XFRMA_ALG_AUTH when only that came). */
  auth?: XfrmAlgorithm;
  enc?: XfrmAlgorithm;
  comp?: XfrmAlgorithm;
  encap?: XfrmEncap;
  antiReplay?: XfrmAntiReplay;
  mark?: XfrmMark;
  /** XFRMA_SET_MARK / _MASK (iproute2: output-mark). */
  setMark?: XfrmMark;
  ifId?: number;
  offload?: XfrmOffload;
  /** XFRMA_SA_DIR. */
  dir?: string | number;
  tfcpad?: number;
  coaddr?: string;
  securityContext?: { doi: number; alg: number; context: string };
  /** XFRMA_NAT_KEEPALIVE_INTERVAL, seconds. */
  natKeepaliveInterval?: number;
  /** XFRMA_MTIMER_THRESH, seconds. */
  mtimerThresh?: number;
  /** XFRMA_SA_PCPU. */
  pcpu?: number;
  iptfs?: XfrmIptfs;
  /** XFRMA_LASTUSED: seconds since epoch. */
  lastUsed?: bigint;
  /** From aevents: the replay and timer thresholds when the kernel sent them. */
  replayThresh?: number;
  etimerThresh?: number;
  unknown?: UnknownAttribute[];
}

/** One row (key "xfrm"): SAD/SPD sizes from GETSADINFO/GETSPDINFO and /proc/net/xfrm_stat with rates. */
export interface XfrmTotals {
  key: string;
  sad?: { count: number; hashBuckets: number; hashMax: number };
  spd?: {
    in: number; out: number; fwd: number;
    /** Per-socket policies. */
    inSocket: number; outSocket: number; fwdSocket: number;
    hashBuckets: number; hashMax: number;
    ipv4Thresh?: { lbits: number; rbits: number };
    ipv6Thresh?: { lbits: number; rbits: number };
  };
  /** Every counter of /proc/net/xfrm_stat by its name (XfrmInError …); absent without CONFIG_XFRM_STATISTICS. */
  stats?: Record<string, bigint>;
  /** Per second, between the last two reads. */
  rates?: Record<string, number>;
  statsError?: string;
  /** Where the key fingerprint secret lives: persisted (data dir) or memory (changes across restarts). */
  fingerprintSecret: { persisted: boolean; path?: string; reason?: string };
  /** When these numbers were read (ms since epoch). */
  readAt: number;
}

// Kernel crypto entities, shared by server and browser: what /proc/crypto lists, the FIPS and AF_ALG
// state, which driver serves each algorithm an SA uses, and the operator's AF_ALG throughput probe.
// No key ever appears here: the probe's throw-away key lives and dies inside the probe function.

/** One /proc/crypto entry (kind 'crypto-alg'). Key: the driver name (cra_driver_name), unique per registration. */
export interface CryptoAlgorithm {
  key: string;
  /** Generic name (cra_name): "rfc4106(gcm(aes))", "sha256". */
  name: string;
  /** Implementation (cra_driver_name): "rfc4106-gcm-aesni", "sha256-generic". */
  driver: string;
  /** "kernel" for built-in, else the module that registered it. */
  module: string;
  priority: number;
  refcnt: number;
  /** passed, unknown (not yet tested), or what the kernel says. */
  selftest: string;
  /** Only usable inside the kernel (never picked for a by-name lookup from outside). */
  internal: boolean;
  /** "fips : yes" (shown in FIPS mode for allowed algorithms); absent when the line is absent. */
  fips?: boolean;
  /** aead, skcipher, lskcipher, shash, ahash, cipher, rng, akcipher, kpp, scomp, acomp, sig … */
  type: string;
  /** Every other line of the entry as the kernel gives it (blocksize, ivsize, maxauthsize, geniv, async …); numbers as numbers. */
  fields: Record<string, string | number>;
}

/** A module's state: loaded (listed in /proc/modules), built in, not loaded, or unknown. */
export const MODULE_STATES = ['loaded', 'built-in', 'not-loaded', 'unknown'] as const;

/** A module sascope checks for (af_alg, algif_*). */
export interface KernelModuleState {
  name: string;
  state: (typeof MODULE_STATES)[number];
  /** Why the state is what it is, in words. */
  note?: string;
}

/** The crypto panel's header row (kind 'crypto-info', key "crypto"). */
export interface CryptoInfo {
  key: string;
  /** /proc/sys/crypto/fips_enabled: true/false, or absent with a note. */
  fipsEnabled?: boolean;
  fipsNote?: string;
  afAlg: {
    /** socket(AF_ALG, SOCK_SEQPACKET, 0) works. */
    socket: boolean;
    /** Why not (EAFNOSUPPORT: "AF_ALG not in this kernel"). */
    socketError?: string;
    /** af_alg and algif_hash / algif_skcipher / algif_aead / algif_rng. */
    modules: KernelModuleState[];
    /** /proc/modules readable (a kernel without module support has none). */
    procModules: boolean;
    /** /proc/sys/crypto/af_alg_restrict (Linux 7.3+): present or not, and its value. */
    restrict: { present: boolean; value?: string };
    /** AF_ALG is deprecated from Linux 7.2: the probe is optional, never a dependency. */
    note: string;
  };
  /** /proc/crypto: entries read, when, and a read error if any. */
  algorithms: number;
  readAt: number;
  procCryptoError?: string;
}

/** How SAs use an algorithm: aead, enc, auth, comp. */
export const CRYPTO_USE_ROLES = ['aead', 'enc', 'auth', 'comp'] as const;

/** Which driver serves one algorithm some SA uses (kind 'crypto-use'). Key: "<role>:<name>". */
export interface CryptoUse {
  key: string;
  name: string;
  role: (typeof CRYPTO_USE_ROLES)[number];
  /** Key sizes in bits seen on those SAs (AEAD keys include the salt, as XFRM counts them). */
  keyBits: number[];
  /** AEAD: the ICV length in bits of the first SA. */
  icvBits?: number;
  /** SA entity keys using it (capped at 50) and the count. */
  sas: string[];
  saCount: number;
  /** The highest-priority usable /proc/crypto entry with this name (what a by-name allocation gets). */
  driver?: string;
  priority?: number;
  module?: string;
  type?: string;
  selftest?: string;
  /** Other usable drivers for the same name, highest priority first. */
  alternatives: Array<{ driver: string; priority: number; module: string }>;
  /** When there is no driver: why, as a code (NO_DRIVER_CAUSES), and in words ("not instantiated yet …"). */
  noDriver?: NoDriverCause;
  note?: string;
}

/** Why an algorithm in use has no /proc/crypto driver: a null algorithm, /proc/crypto not read, or no entry by
 * that name yet (the kernel instantiates templates on first use: worth re-reading /proc/crypto). */
export const NO_DRIVER_CAUSES = ['null-algorithm', 'proc-crypto-not-read', 'not-instantiated'] as const;
export type NoDriverCause = (typeof NO_DRIVER_CAUSES)[number];

export const PROBE_KINDS = ['hash', 'skcipher', 'aead'] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];
export const PROBE_STATES = ['idle', 'running', 'done', 'unavailable', 'failed'] as const;
/** Where the probe's list came from: the SAs in use, or the default set when no SA uses any algorithm. */
export const PROBE_BASES = ['in-use', 'default'] as const;

/** One algorithm's probe result. */
export interface ProbeResult {
  name: string;
  type: ProbeKind;
  keyBits: number;
  /** Payload bytes processed (AEAD: without AAD and tag) and the time the kernel calls took. */
  bytes: number;
  seconds: number;
  /** 10^6 bytes per second. */
  mbPerSec?: number;
  /** The driver /proc/crypto names for it after the run (highest usable priority). */
  driver?: string;
  /** Why this one gave no rate (EINVAL, algorithm not found …). */
  error?: string;
}

/** The operator's AF_ALG probe (kind 'crypto-probe', key "probe"): its state and last results. */
export interface CryptoProbe {
  key: string;
  state: (typeof PROBE_STATES)[number];
  /** Why unavailable/failed, in words (no AF_ALG in the kernel, algif module absent, restricted …). */
  reason?: string;
  startedAt?: number;
  finishedAt?: number;
  basis?: (typeof PROBE_BASES)[number];
  /** The bounds each algorithm ran under. */
  limits: { seconds: number; bytes: number };
  /** Algorithm being measured now (state running). */
  current?: string;
  results: ProbeResult[];
}

// The choice the kernel makes for a by-name lookup among /proc/crypto entries (crypto_alg_lookup /
// __crypto_alg_lookup): the highest-priority usable entry. Pure, over CryptoAlgorithm rows: the model
// (which driver serves an SA's algorithm) and the AF_ALG probe both ask it.

/** /proc/crypto types a by-name allocation of each AF_ALG / XFRM kind can end up on. */
export const COMPATIBLE_TYPES: Record<string, readonly string[]> = {
  hash: ['ahash', 'shash'],
  skcipher: ['skcipher', 'lskcipher'],
  aead: ['aead'],
  comp: ['scomp', 'acomp', 'compression'],
};

/**
 * The entries a by-name lookup may pick, highest priority first: same cra_name, not internal, self-test
 * not failed (the kernel skips algorithms whose test failed; "unknown" ones are still being tested).
 * Restricted to the compatible types when given and any of them match.
 */
export function candidatesFor(algs: readonly CryptoAlgorithm[], name: string, kind?: keyof typeof COMPATIBLE_TYPES): CryptoAlgorithm[] {
  let c = algs.filter((a) => a.name === name && !a.internal && a.selftest !== 'failed');
  const types = kind ? COMPATIBLE_TYPES[kind] : undefined;
  if (types) {
    const typed = c.filter((a) => types.includes(a.type));
    if (typed.length) c = typed;
  }
  return c.sort((a, b) => b.priority - a.priority || a.driver.localeCompare(b.driver));
}

/** The driver serving name: the first candidate, or undefined when no instance exists yet. */
export function servingDriver(algs: readonly CryptoAlgorithm[], name: string, kind?: keyof typeof COMPATIBLE_TYPES): CryptoAlgorithm | undefined {
  return candidatesFor(algs, name, kind)[0];
}

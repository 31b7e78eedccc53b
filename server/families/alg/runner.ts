// The operator's AF_ALG probe: one run at a time over the algorithms SAs use (or a default ESP set when
// none does), each bounded in time and bytes, results as the 'crypto-probe' entity so the UI sees the run
// live. A request while one runs is refused with ProbeBusyError. AF_ALG missing, restricted or its algif
// module absent are answers (state 'unavailable' or a per-algorithm error), not crashes.
import { candidatesFor, servingDriver, type CryptoAlgorithm, type CryptoProbe, type CryptoUse, type ProbeKind, type ProbeResult } from '../../wire/crypto.ts';
import type { ModelSink } from '../source.ts';
import type { Logger } from '../../log.ts';
import { SyscallError, Errno } from '../../sys/errno.ts';
import { measure, type ProbeLimits, type ProbeMeasure, type ProbePlan } from './probe.ts';

export const PROBE_LIMITS: ProbeLimits = { seconds: 1, bytes: 64 * 1024 * 1024 };

/** The set probed when no SA uses any algorithm: the two ESP suites the lab and most tunnels use. */
export const DEFAULT_USES: Array<Pick<CryptoUse, 'name' | 'role' | 'keyBits' | 'icvBits'>> = [
  { name: 'rfc4106(gcm(aes))', role: 'aead', keyBits: [160], icvBits: 128 },
  { name: 'cbc(aes)', role: 'enc', keyBits: [128] },
  { name: 'hmac(sha256)', role: 'auth', keyBits: [256] },
];

const NULL_ALGS = new Set(['ecb(cipher_null)', 'cipher_null', 'digest_null', 'compress_null']);

/** IV lengths by mode where /proc/crypto has no instance yet to ask (crypto_*_ivsize of the templates). */
function defaultIvBytes(name: string): number {
  if (/^rfc(4106|4309|4543|7539esp)\(/.test(name) || name.startsWith('seqiv(') || name.startsWith('echainiv(')) return 8;
  if (name.startsWith('gcm(')) return 12;
  if (name.startsWith('rfc3686(')) return 8;
  if (name.startsWith('rfc7539(') || name.startsWith('chacha20')) return 16;
  return 16;
}

const KIND_OF_ROLE: Record<CryptoUse['role'], ProbeKind | undefined> = { aead: 'aead', enc: 'skcipher', auth: 'hash', comp: undefined };

/** How to probe one algorithm use, or why it is not probed. */
export function planFor(use: Pick<CryptoUse, 'name' | 'role' | 'keyBits' | 'icvBits'>, algs: readonly CryptoAlgorithm[]): ProbePlan | { skip: string; type?: ProbeKind } {
  const type = KIND_OF_ROLE[use.role];
  if (!type) return { skip: 'compression is not reachable through AF_ALG' };
  if (NULL_ALGS.has(use.name)) return { skip: 'null algorithm: nothing to measure', type };
  const keyBits = use.keyBits.find((b) => b > 0) ?? (type === 'hash' ? 0 : 128);
  const inst = servingDriver(algs, use.name, type);
  const num = (k: string) => {
    const v = inst?.fields[k];
    return typeof v === 'number' ? v : undefined;
  };
  const plan: ProbePlan = { name: use.name, type, keyBytes: Math.ceil(keyBits / 8) };
  if (type !== 'hash') plan.ivBytes = num('ivsize') ?? defaultIvBytes(use.name);
  if (type === 'aead') {
    plan.authsize = use.icvBits ? use.icvBits / 8 : Math.min(num('maxauthsize') ?? 16, 16);
    // The RFC 4106/4309/4543 ESP wrappers want the ESP header and IV as associated data (16 bytes);
    // any length suits the plain modes.
    plan.assoclen = 16;
  }
  return plan;
}

export class ProbeBusyError extends Error {
  constructor(readonly startedAt: number, readonly current?: string) {
    super(`a crypto probe is already running (since ${new Date(startedAt).toISOString()}${current ? `, now measuring ${current}` : ''}); wait for it to finish`);
    this.name = 'ProbeBusyError';
  }
}

export interface ProbeDeps {
  sink: ModelSink;
  log: Logger;
  /** Algorithms in use now (the 'crypto-use' entities). */
  uses(): Array<Pick<CryptoUse, 'name' | 'role' | 'keyBits' | 'icvBits'>>;
  /** /proc/crypto as last read, and a re-read (templates instantiate on first use). */
  algorithms(): readonly CryptoAlgorithm[];
  reread(): Promise<void>;
  /** Why AF_ALG cannot be used at all, or undefined. */
  unavailable(): string | undefined;
  /** Test seam: the measurement. */
  measure?: (plan: ProbePlan, limits: ProbeLimits) => Promise<ProbeMeasure>;
  limits?: ProbeLimits;
}

function reasonOf(err: unknown): string {
  if (err instanceof SyscallError && err.errno === Errno.EAFNOSUPPORT) return 'AF_ALG is not in this kernel (socket: EAFNOSUPPORT)';
  return err instanceof Error ? err.message : String(err);
}

export class ProbeRunner {
  private state: CryptoProbe;
  private running: Promise<CryptoProbe> | undefined;

  constructor(private readonly d: ProbeDeps) {
    this.state = { key: 'probe', state: 'idle', limits: d.limits ?? PROBE_LIMITS, results: [] };
  }

  /** Publish the initial row. */
  publish(): void {
    this.d.sink.upsert('crypto-probe', 'probe', this.state);
  }

  get current(): CryptoProbe {
    return this.state;
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  private update(patch: Partial<CryptoProbe>): void {
    this.state = { ...this.state, ...patch };
    if (patch.current === undefined && 'current' in patch) delete this.state.current;
    this.d.sink.upsert('crypto-probe', 'probe', this.state);
  }

  /**
   * Start a run; resolves with the finished entity. Throws ProbeBusyError synchronously while one runs
   * (the caller answers 409 and nothing else happens).
   */
  start(): Promise<CryptoProbe> {
    if (this.running) throw new ProbeBusyError(this.state.startedAt ?? Date.now(), this.state.current);
    const p = this.run().finally(() => {
      this.running = undefined;
    });
    this.running = p;
    return p;
  }

  private async run(): Promise<CryptoProbe> {
    const limits = this.d.limits ?? PROBE_LIMITS;
    const inUse = this.d.uses();
    const basis = inUse.length ? 'in-use' : 'default';
    const uses = inUse.length ? inUse : DEFAULT_USES;
    this.update({ state: 'running', startedAt: Date.now(), finishedAt: undefined, reason: undefined, basis, limits, results: [], current: undefined });
    const unavailable = this.d.unavailable();
    if (unavailable) {
      this.update({ state: 'unavailable', reason: unavailable, finishedAt: Date.now() });
      this.d.sink.event({ source: 'alg', type: 'probe', summary: `crypto probe not run: ${unavailable}` });
      return this.state;
    }
    const results: ProbeResult[] = [];
    const run = this.d.measure ?? measure;
    try {
      for (const use of uses) {
        const plan = planFor(use, this.d.algorithms());
        if ('skip' in plan) {
          results.push({ name: use.name, type: plan.type ?? 'skcipher', keyBits: use.keyBits[0] ?? 0, bytes: 0, seconds: 0, error: plan.skip });
          continue;
        }
        this.update({ current: use.name, results: [...results] });
        const r: ProbeResult = { name: plan.name, type: plan.type, keyBits: plan.keyBytes * 8, bytes: 0, seconds: 0 };
        try {
          const m = await run(plan, limits);
          r.bytes = m.bytes;
          r.seconds = Math.round(m.seconds * 1e6) / 1e6;
          // Four significant digits: an emulated CPU's 0.0098 MB/s is a rate too, not 0.
          if (m.seconds > 0 && m.bytes > 0) r.mbPerSec = Number((m.bytes / m.seconds / 1e6).toPrecision(4));
        } catch (err) {
          // AF_ALG itself missing stops the run; any other failure is this algorithm's answer.
          if (err instanceof SyscallError && err.errno === Errno.EAFNOSUPPORT) throw err;
          r.error = reasonOf(err);
        }
        results.push(r);
      }
      await this.d.reread().catch(() => undefined);
      const algs = this.d.algorithms();
      for (const r of results) {
        const drv = servingDriver(algs, r.name, r.type) ?? candidatesFor(algs, r.name)[0];
        if (drv) r.driver = drv.driver;
      }
      this.update({ state: 'done', results, current: undefined, finishedAt: Date.now() });
      const rates = results.map((r) => `${r.name} ${r.mbPerSec !== undefined ? `${r.mbPerSec} MB/s` : `failed (${r.error})`}`).join(', ');
      this.d.sink.event({ source: 'alg', type: 'probe', summary: `crypto probe (${basis}): ${rates}` });
      this.d.log.info({ source: 'alg', results: results.map(({ name, mbPerSec, driver, error }) => ({ name, mbPerSec, driver, error })) }, 'crypto probe done');
    } catch (err) {
      const reason = reasonOf(err);
      const state = err instanceof SyscallError && err.errno === Errno.EAFNOSUPPORT ? 'unavailable' : 'failed';
      this.update({ state, reason, results, current: undefined, finishedAt: Date.now() });
      this.d.sink.event({ source: 'alg', type: 'probe', summary: `crypto probe ${state}: ${reason}` });
    }
    return this.state;
  }
}

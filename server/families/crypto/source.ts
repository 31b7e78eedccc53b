// The kernel crypto source: /proc/crypto (re-read on a slow interval: it changes when a module loads or
// a template is instantiated, and the kernel sends no event for it), fips_enabled and AF_ALG availability.
// Entities: one 'crypto-alg' per /proc/crypto entry, one 'crypto-info' row.
import type { Logger } from '../../log.ts';
import type { CryptoAlgorithm, CryptoInfo } from '../../wire/crypto.ts';
import { Source, type ModelSink } from '../source.ts';
import { parseProcCrypto } from './proc.ts';
import { PROC_CRYPTO, procReader, readCryptoInfo, type FileReader } from './info.ts';

export interface CryptoSourceOptions {
  /** Test seam: files from captured text. */
  fs?: FileReader;
  /** Test seam: the AF_ALG socket check. */
  socket?: () => { ok: boolean; error?: string };
  /** /proc/crypto is re-read this often; 0 = only on demand. */
  intervalMs?: number;
}

export class CryptoSource extends Source {
  private algs: CryptoAlgorithm[] = [];
  private info: CryptoInfo | undefined;

  constructor(sink: ModelSink, log: Logger, private readonly opts: CryptoSourceOptions = {}) {
    super('crypto', 'Kernel crypto (/proc/crypto, AF_ALG)', sink, log);
  }

  private get fs(): FileReader {
    return this.opts.fs ?? procReader;
  }

  async start(): Promise<void> {
    try {
      await this.resync('start');
      this.refreshEvery(this.opts.intervalMs ?? 30_000);
    } catch (err) {
      this.failed(err);
    }
  }

  protected override okReason(): string | undefined {
    return this.info?.procCryptoError;
  }

  /** What the last read found (the probe names drivers from it). */
  algorithms(): readonly CryptoAlgorithm[] {
    return this.algs;
  }

  cryptoInfo(): CryptoInfo | undefined {
    return this.info;
  }

  /** Re-read now (after a probe instantiated templates, or on an operator's request). */
  reread(): Promise<void> {
    return this.redump();
  }

  protected async dumpAll(): Promise<void> {
    let procCryptoError: string | undefined;
    const text = this.fs.read(PROC_CRYPTO);
    if (text === undefined) {
      procCryptoError = `${PROC_CRYPTO} absent (kernel without CONFIG_PROC_FS or CONFIG_CRYPTO)`;
      this.algs = [];
    } else {
      try {
        this.algs = parseProcCrypto(text);
      } catch (err) {
        this.decodeFailed(err, PROC_CRYPTO);
        procCryptoError = err instanceof Error ? err.message : String(err);
      }
    }
    this.sink.replaceAll('crypto-alg', this.algs.map((a) => ({ key: a.key, value: a })));
    this.info = {
      ...readCryptoInfo(this.fs, this.opts.socket),
      algorithms: this.algs.length,
      readAt: Date.now(),
      ...(procCryptoError ? { procCryptoError } : {}),
    };
    this.sink.upsert('crypto-info', 'crypto', this.info);
  }

  stop(): void {
    this.stopRefresh();
  }
}

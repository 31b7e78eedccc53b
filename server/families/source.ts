// What every kernel source shares: a status the UI shows (ok, no permission, not available, stale),
// decode errors logged once and counted, and resync by re-dumping (after ENOBUFS, a flush, a start).
// Events that arrive during a dump must not be undone by it. Two ways:
// - held (the default): events are queued and replayed after the dump, in order. Simple, and right for
//   sources whose handlers keep state of their own beside the model (ovpn, psp, ethtool, links, PF_KEY);
//   their dumps are small, so the delay is short.
// - live (liveDuringDump): events go to the model at once; the dump's result then leaves alone every entity
//   an event touched while it ran (neither overwritten nor removed). For the XFRM SA and policy sources,
//   whose periodic counter dumps take tens of seconds at 100k SAs and must not delay a rekey's NEWSA.
import type { Logger } from '../log.ts';
import type { EntityKind } from '../wire/protocol.ts';
import type { KernelEvent, SourceState, SourceStatus } from '../wire/entities.ts';
import { SyscallError, Errno } from '../sys/errno.ts';
import { NetlinkError, DecodeError } from '../netlink/errors.ts';

/** An event as a source tells it (the model adds id and time; `ref` is made from `subject` when absent). */
export type NewEvent = Omit<KernelEvent, 'id' | 'time'>;

/**
 * Where sources put what they read; the model implements it. Values may hold bigint (64-bit counters).
 * Write-only: a family never reads the model back (it is the layer above); what a kernel message leaves
 * out of an entity, patch() keeps from the entity the model holds.
 */
export interface ModelSink {
  /** Make kind hold exactly items, except keys for which keep() is true: those are left as they are. */
  replaceAll(kind: EntityKind, items: Array<{ key: string; value: object }>, keep?: (key: string) => boolean): void;
  upsert(kind: EntityKind, key: string, value: object): void;
  /**
   * Change some fields of the entity the model holds (a message that carries counters, not the whole entity):
   * each field replaces the held one, except that a plain object's fields replace those of the held object of
   * that name (XFRM's NEWAE brings lifetime.current, not lifetime.config). Without a held entity, orElse is
   * upserted (when given). True when the model changed it (held, or orElse given); false: nothing written.
   */
  patch(kind: EntityKind, key: string, fields: object, orElse?: object): boolean;
  remove(kind: EntityKind, key: string): void;
  event(e: NewEvent): void;
  status(s: SourceStatus): void;
}

/** Let timers, I/O and other events run before going on (between slices of a big dump). */
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Rows handled per slice of a big dump before yielding to the event loop. */
export const DUMP_SLICE = 2000;

/** fn over items, DUMP_SLICE at a time, yielding to the event loop between slices. */
export async function inSlices<T>(items: readonly T[], fn: (item: T) => void): Promise<void> {
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % DUMP_SLICE === 0) await yieldToLoop();
    fn(items[i]!);
  }
}

export function classifyFailure(err: unknown): { state: SourceState; reason: string } {
  const errno = err instanceof SyscallError || err instanceof NetlinkError ? err.errno : undefined;
  const msg = err instanceof Error ? err.message : String(err);
  if (errno === Errno.EPERM || errno === Errno.EACCES) return { state: 'no-permission', reason: msg };
  if (errno === Errno.EAFNOSUPPORT || errno === Errno.EPROTONOSUPPORT || errno === Errno.ENOENT || errno === Errno.EOPNOTSUPP) {
    return { state: 'not-available', reason: msg };
  }
  return { state: 'error', reason: msg };
}

export abstract class Source {
  readonly status: SourceStatus;
  private readonly loggedDecodeErrors = new Set<string>();
  private statusPushedAt = 0;
  private resyncing = false;
  private resyncAgain: string | undefined;
  private held: Array<() => void> | undefined;
  /** Live mode: what events touched during the dump in progress ("kind\0key"), and whether an event is being applied. */
  private touched: Set<string> | undefined;
  private inEvent = false;
  /** Apply events at once during dumps (see the top of this file). */
  protected liveDuringDump = false;
  protected readonly sink: ModelSink;

  constructor(id: string, label: string, sink: ModelSink, protected readonly log: Logger) {
    this.status = { id, label, state: 'starting', since: Date.now(), resyncs: 0, decodeErrors: 0 };
    this.sink = this.guarded(sink);
  }

  /** The model as this source writes it: in live mode, a dump's writes skip what events touched meanwhile. */
  private guarded(model: ModelSink): ModelSink {
    const id = (kind: EntityKind, key: string) => `${kind}\0${key}`;
    /** true: an event's write (recorded); false: a dump's write to something an event touched (dropped). */
    const pass = (kind: EntityKind, key: string): boolean => {
      const t = this.touched;
      if (!t) return true;
      if (this.inEvent) return (t.add(id(kind, key)), true);
      return !t.has(id(kind, key));
    };
    return {
      replaceAll: (kind, items, keep) => {
        const t = this.touched;
        if (!t || this.inEvent) return model.replaceAll(kind, items, keep);
        const touched = (key: string) => t.has(id(kind, key)) || (keep?.(key) ?? false);
        model.replaceAll(kind, items.filter((i) => !t.has(id(kind, i.key))), touched);
      },
      upsert: (kind, key, value) => {
        if (pass(kind, key)) model.upsert(kind, key, value);
      },
      patch: (kind, key, fields, orElse) => {
        const t = this.touched;
        if (!t || !this.inEvent) return pass(kind, key) && model.patch(kind, key, fields, orElse);
        // An event that patches what the model does not hold yet (a NEWAE for an SA the running dump has
        // not reached) writes nothing, so it must not make the dump skip that entity: touched only if written.
        const written = model.patch(kind, key, fields, orElse);
        if (written) t.add(id(kind, key));
        return written;
      },
      remove: (kind, key) => {
        if (pass(kind, key)) model.remove(kind, key);
      },
      event: (e) => model.event(e),
      status: (st) => model.status(st),
    };
  }

  get id(): string {
    return this.status.id;
  }

  /** Open sockets, dump, subscribe. Never throws: failures become the source's state. */
  abstract start(): Promise<void>;
  abstract stop(): void;
  /** Read everything once (a dump) and hand it to the model. */
  protected abstract dumpAll(): Promise<void>;
  /** A note for an ok state with nothing to show ("no PSP device"): the empty panel says why. */
  protected okReason(): string | undefined {
    return undefined;
  }
  /** After a change between dumps (a device came or went): an ok state's note follows it. */
  protected noteOkReason(): void {
    if (this.status.state === 'ok') this.setState('ok', this.okReason());
  }

  protected setState(state: SourceState, reason?: string): void {
    const s = this.status;
    if (s.state !== state || s.reason !== reason) {
      if (s.state !== state) this.log.info({ source: s.id, state, reason }, `${s.id}: ${state}${reason ? ` (${reason})` : ''}`);
      s.state = state;
      s.reason = reason;
      s.since = Date.now();
    }
    this.pushStatus(true);
    if (state === 'not-available') this.scheduleRetry();
  }

  private retryMs = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  /**
   * While the source is "not available" (module not loaded or unloaded, family absent), stop and start it
   * again every ms, so a module loaded later (modprobe, or the autoload a new socket triggers) brings it
   * back. 0 turns it off (and cancels a pending retry): call that before stop() when shutting down.
   */
  retryWhenNotAvailable(ms: number): void {
    this.retryMs = ms;
    if (ms <= 0) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    } else if (this.status.state === 'not-available') this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryMs <= 0 || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.retryMs <= 0 || this.status.state !== 'not-available') return;
      this.stop();
      void this.start(); // never throws; a failure is the state again (and the next retry)
    }, this.retryMs);
    this.retryTimer.unref();
  }

  private pushStatus(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.statusPushedAt < 1000) return;
    this.statusPushedAt = now;
    this.sink.status({ ...this.status });
  }

  /** Note fresh kernel data (status pushed at most once a second). */
  protected dataSeen(): void {
    this.status.lastData = Date.now();
    this.pushStatus(false);
  }

  protected decodeFailed(err: unknown, what: string): void {
    const msg = err instanceof Error ? err.message : String(err);
    this.status.decodeErrors++;
    this.status.lastDecodeError = msg;
    if (!this.loggedDecodeErrors.has(msg) && this.loggedDecodeErrors.size < 100) {
      this.loggedDecodeErrors.add(msg);
      this.log.warn({ source: this.id, what, err: msg, decodeError: err instanceof DecodeError }, `${this.id}: cannot decode ${what}: ${msg}`);
    }
    this.pushStatus(false);
  }

  protected failed(err: unknown): void {
    const { state, reason } = classifyFailure(err);
    this.setState(state, reason);
  }

  /**
   * A dump's rows into the model in slices, yielding to the event loop between them: 100k SAs compared
   * and stored take tens of seconds under emulation, and HTTP, WebSocket clients and kernel events must
   * not wait for all of it (the 100k storm run got HTTP 408). Then what the dump lacks is removed.
   */
  protected async replaceAllInSlices(kind: EntityKind, items: Array<{ key: string; value: object }>): Promise<void> {
    if (items.length <= DUMP_SLICE) return this.sink.replaceAll(kind, items);
    const seen = new Set<string>();
    await inSlices(items, ({ key, value }) => {
      seen.add(key);
      this.sink.upsert(kind, key, value);
    });
    this.sink.replaceAll(kind, [], (key) => seen.has(key));
  }

  /** Run fn now, or after the dump in progress (held mode: events during a dump are replayed after it). */
  protected applyEvent(fn: () => void): void {
    if (this.held) return void this.held.push(fn);
    if (!this.touched) return fn();
    this.inEvent = true;
    try {
      fn();
    } finally {
      this.inEvent = false;
    }
  }

  private dumpChain: Promise<void> = Promise.resolve();

  /** Dump with events held back and replayed after it (or, live, applied at once and left alone by it); dumps never overlap. */
  protected redump(): Promise<void> {
    const run = async () => {
      if (this.liveDuringDump) this.touched = new Set();
      else this.held = [];
      try {
        await this.dumpAll();
        this.dataSeen();
      } finally {
        this.touched = undefined;
        const held = this.held ?? [];
        this.held = undefined;
        for (const fn of held) fn();
      }
    };
    const p = this.dumpChain.then(run, run);
    this.dumpChain = p.catch(() => undefined);
    return p;
  }

  private refreshRunning = false;
  private refreshTimer: NodeJS.Timeout | undefined;

  /** Re-read on a bounded interval (counters the kernel sends no events for); 0 = never. */
  protected refreshEvery(ms: number): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
    if (ms <= 0) return;
    this.refreshTimer = setInterval(() => void this.refresh(), ms);
    this.refreshTimer.unref();
  }

  protected stopRefresh(): void {
    this.refreshEvery(0);
  }

  /** One periodic re-read: skipped while one runs, during a resync, or where the source cannot read at all. */
  protected async refresh(): Promise<void> {
    const st = this.status.state;
    if (this.refreshRunning || this.resyncing || st === 'starting' || st === 'no-permission' || st === 'not-available') return;
    this.refreshRunning = true;
    try {
      await this.redump();
      this.setState('ok', this.okReason());
    } catch (err) {
      this.failed(err);
    } finally {
      this.refreshRunning = false;
    }
  }

  /** Re-dump and correct the model; concurrent requests fold into one more run. */
  async resync(reason: string): Promise<void> {
    if (this.resyncing) {
      this.resyncAgain = reason;
      return;
    }
    this.resyncing = true;
    try {
      let why: string | undefined = reason;
      while (why !== undefined) {
        this.resyncAgain = undefined;
        if (why !== 'start') this.setState('stale', why);
        try {
          await this.redump();
          this.status.resyncs += why === 'start' ? 0 : 1;
          this.status.lastResync = Date.now();
          if (why !== 'start') this.sink.event({ source: this.id, type: 'resync', summary: `re-dumped after: ${why}` });
          this.setState('ok', this.okReason());
        } catch (err) {
          this.failed(err);
          throw err;
        }
        why = this.resyncAgain;
      }
    } finally {
      this.resyncing = false;
    }
  }
}

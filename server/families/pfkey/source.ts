// PF_KEY v2, live: the SAD (SADB_DUMP, all SA types) and SPD (SADB_X_SPDDUMP) as a PF_KEY socket sees
// them, every PF_KEY message any process exchanges as an event (PROMISC monitor), and — when an operator
// asks — the algorithms SADB_REGISTER advertises. Two sockets: one for requests/dumps, one promiscuous for events.
// Tables follow events by asking the kernel again for the one SA or policy an event names (SADB_GET,
// SADB_X_SPDGET): what the model shows is always the kernel's answer, never a user's request.
// An SA that SADB_GET does not find after an ADD/UPDATE/EXPIRE is not a lost event (PF_KEY has no overrun
// signal to lose one by) and never makes the source stale. Under a key manager's churn (strongSwan
// rekeys) the GET, queued behind other requests and behind a dump's held events, reaches the kernel after
// the daemon has already deleted the SA (a rekey's old SA, a collision's redundant one) — its DELETE
// broadcast follows. Resyncing on that (as before) set the source stale, and the re-dump held more events
// whose GETs then missed again. So such a miss waits a moment for the DELETE/hard EXPIRE or the
// failed-request echo that explains it; only an unexplained miss (an SA GET cannot reach: af_key.c looks
// up with mark 0) costs a quiet re-dump.
import type { Logger } from '../../log.ts';
import { pfkeySaKey, type PfkeyAlgorithm, type PfkeyPolicy, type PfkeyRegister, type PfkeySa } from '../../wire/pfkey.ts';
import { entityRef } from '../../wire/kinds.ts';
import { sourceSentence } from '../../wire/entities.ts';
import { Errno, SyscallError } from '../../sys/errno.ts';
import { Source, type ModelSink } from '../source.ts';
import { DecodeError } from '../../netlink/errors.ts';
import { PfkeyConnection, PfkeyError, openPfkeyTransport, type PfkeyTransport } from './conn.ts';
import { openPromiscMonitor, type PromiscMonitor, type PromiscOptions } from './monitor.ts';
import { decodeSadbMessage, type SadbMessage } from './message.ts';
import { readRegisterReplies, type RegisterReader } from './register.ts';
import { algorithmsFromRegister, describeMessage, pfkeyPolicyKey, policyFromMessage, saFromMessage } from './sa.ts';
import { SADB, SADB_NAME, SATYPE, SATYPE_NAME } from './spec.ts';

const SA_EVENTS = new Set<number>([SADB.GETSPI, SADB.UPDATE, SADB.ADD, SADB.DELETE, SADB.EXPIRE]);
const SPD_EVENTS = new Set<number>([SADB.X_SPDUPDATE, SADB.X_SPDADD, SADB.X_SPDDELETE, SADB.X_SPDEXPIRE, SADB.X_SPDSETIDX, SADB.X_SPDDELETE2]);

/** The status reason without af_key (a reason never names its source or state: sourceSentence adds them). */
export const PFKEY_NOT_AVAILABLE = 'module af_key not loaded';
/** How long an SA that SADB_GET did not find may wait for the event that explains why. */
export const MISSED_GET_GRACE_MS = 1000;

export interface PfkeySourceOptions {
  /** Test seams: transports/sockets in place of real PF_KEY sockets. */
  transport?: PfkeyTransport;
  readRegister?: RegisterReader;
  promiscSocket?: PromiscOptions['socket'] | null;
  pid?: number;
}

/** An SADB_REGISTER asked for while one runs, or with PF_KEY not open. */
export class RegisterBusyError extends Error {}

export class PfkeySource extends Source {
  private conn: PfkeyConnection | undefined;
  private monitor: PromiscMonitor | undefined;
  private readonly pid: number;
  /** Refreshes queued per entity key, so a burst of events for one SA costs one GET; the look runs with
   * the burst's last message (an EXPIRE then a DELETE in one read: the DELETE decides). */
  private readonly refreshing = new Map<string, () => Promise<void>>();
  /** Replies to other processes' dumps, counted rather than logged one by one. */
  private readonly foreignDumps = new Map<string, number>();
  private register: PfkeyRegister = { key: 'register', state: 'idle' };
  /** SAs SADB_GET did not find after an event that does not remove them: key → the event and its request id. */
  private readonly missed = new Map<string, { after: string; request: string }>();
  /** When a DELETE or hard EXPIRE named an SA, and which requests the kernel refused ("type:pid:seq"). */
  private readonly goneAt = new Map<string, number>();
  private readonly refusedAt = new Map<string, number>();
  private missedTimer: NodeJS.Timeout | undefined;
  /** GET misses so far: explained by a later DELETE/EXPIRE or refusal, or settled by a quiet re-dump. */
  readonly getMisses = { explained: 0, redumps: 0 };
  /** Lookups after an event that failed otherwise than "not found" (timeout, another errno). */
  lookupFailures = 0;

  constructor(sink: ModelSink, log: Logger, private readonly opts: PfkeySourceOptions = {}) {
    super('pfkey', 'PF_KEY v2', sink, log);
    this.pid = opts.pid ?? process.pid;
  }

  async start(): Promise<void> {
    try {
      const transport = this.opts.transport ?? openPfkeyTransport('pfkey');
      this.conn = new PfkeyConnection('pfkey', transport, this.pid, (err) => this.decodeFailed(err, 'broadcast on the request socket'));
      if (this.opts.promiscSocket !== null) {
        this.monitor = openPromiscMonitor(
          { source: 'pfkey', ownPid: this.pid, socket: this.opts.promiscSocket },
          { onMessage: (m) => this.onPromisc(m), onError: (err) => this.decodeFailed(err, 'promiscuous message') },
        );
      }
      this.publishRegister({ key: 'register', state: 'idle' });
      await this.resync('start');
    } catch (err) {
      this.failedOpen(err);
      this.publishRegister({ key: 'register', state: 'unavailable', reason: this.status.reason ?? 'PF_KEY did not open' });
    }
  }

  private publishRegister(r: PfkeyRegister): void {
    this.register = r;
    this.sink.upsert('pfkey-register', r.key, r);
  }

  /** Status words an operator reads: af_key missing, or no privilege. */
  private failedOpen(err: unknown): void {
    if (err instanceof SyscallError && err.call === 'socket') {
      if (err.errno === Errno.EAFNOSUPPORT || err.errno === Errno.EPROTONOSUPPORT) return this.setState('not-available', PFKEY_NOT_AVAILABLE);
      if (err.errno === Errno.EPERM || err.errno === Errno.EACCES) return this.setState('no-permission', 'a PF_KEY socket needs CAP_NET_ADMIN');
    }
    this.failed(err);
  }

  /** Entities from dump replies; a reply that does not decode is counted and skipped. */
  private entities<T extends { key: string }>(messages: SadbMessage[], build: (m: SadbMessage) => T, what: string): Array<{ key: string; value: T }> {
    const out: Array<{ key: string; value: T }> = [];
    for (const m of messages) {
      try {
        const v = build(m);
        out.push({ key: v.key, value: v });
      } catch (err) {
        this.decodeFailed(err, what);
      }
    }
    return out;
  }

  protected async dumpAll(): Promise<void> {
    const conn = this.conn!;
    const sas = await conn.dump({ type: SADB.DUMP, satype: SATYPE.UNSPEC, op: 'dump SAs' });
    const pols = await conn.dump({ type: SADB.X_SPDDUMP, satype: SATYPE.UNSPEC, op: 'dump policies' });
    this.sink.replaceAll('pfkey-sa', this.entities<PfkeySa>(sas.messages, (m) => saFromMessage(m), 'SA in dump'));
    this.sink.replaceAll('pfkey-policy', this.entities<PfkeyPolicy>(pols.messages, (m) => policyFromMessage(m), 'policy in dump'));
    for (const [what, r] of [['SA', sas], ['policy', pols]] as const) {
      if (r.endErrno) {
        this.log.warn({ source: this.id, errno: r.endErrno }, `pfkey: the kernel ended the ${what} dump early (errno ${r.endErrno}): entries after it are missing`);
        this.sink.event({ source: this.id, type: 'dump-incomplete', summary: `the kernel stopped the ${what} dump with errno ${r.endErrno} after ${r.messages.length} entries (an entry PF_KEY cannot express)` });
      }
    }
  }

  /**
   * SADB_REGISTER for ESP, AH and IPCOMP, when an operator asks (in a worker thread: see register.ts).
   * Never at start: the kernel's probe holds the XFRM configuration mutex for its whole length (1.5 s per
   * SA type in the lab under emulation, 13 s the first time while modules load), and a rekey that
   * strongSwan asked for meanwhile — and sascope's own XFRM reads — waited behind it.
   * Throws RegisterBusyError while one runs; resolves when it has finished (state done or failed).
   */
  startRegister(): { done: Promise<void> } {
    if (this.register.state === 'running') throw new RegisterBusyError(`SADB_REGISTER is already running (started ${new Date(this.register.startedAt!).toISOString()})`);
    if (!this.conn) throw new RegisterBusyError(this.register.reason ? sourceSentence('PF_KEY', this.status) : 'PF_KEY is not open');
    const startedAt = Date.now();
    this.publishRegister({ key: 'register', state: 'running', startedAt });
    return { done: this.loadAlgorithms(startedAt) };
  }

  private async loadAlgorithms(startedAt: number): Promise<void> {
    try {
      const satypes = [SATYPE.ESP, SATYPE.AH, SATYPE.IPCOMP];
      const t0 = performance.now();
      const replies = await (this.opts.readRegister ?? readRegisterReplies)(satypes, this.pid);
      const tookMs = Math.round(performance.now() - t0);
      const algs = new Map<string, PfkeyAlgorithm>();
      for (const bytes of replies) {
        let reply: SadbMessage;
        try {
          reply = decodeSadbMessage(bytes, 'pfkey register reply');
        } catch (err) {
          this.decodeFailed(err, 'REGISTER reply');
          continue;
        }
        for (const a of algorithmsFromRegister(reply)) {
          const seen = algs.get(a.key);
          if (seen) seen.satypes.push(...a.satypes.filter((s) => !seen.satypes.includes(s)));
          else algs.set(a.key, a);
        }
      }
      this.sink.replaceAll('pfkey-alg', [...algs.values()].map((a) => ({ key: a.key, value: a })));
      this.publishRegister({ key: 'register', state: 'done', startedAt, finishedAt: Date.now(), tookMs });
      this.log.info({ source: this.id, tookMs }, `pfkey: SADB_REGISTER answered in ${tookMs} ms (XFRM changes waited that long)`);
    } catch (err) {
      this.log.warn({ source: this.id, err: String(err) }, `pfkey: cannot read the supported algorithms: ${String(err)}`);
      this.publishRegister({ key: 'register', state: 'failed', startedAt, finishedAt: Date.now(), reason: String(err instanceof Error ? err.message : err) });
    }
  }

  /** One message from the promiscuous socket: an event, then the table it touches is refreshed. */
  onPromisc(m: SadbMessage): void {
    this.dataSeen();
    const h = m.header;
    const name = SADB_NAME[h.type] ?? `SADB ${h.type}`;
    if ((h.type === SADB.DUMP || h.type === SADB.X_SPDDUMP) && h.errno === 0 && h.len > 2) {
      // Another process's dump: one event when it ends, not one per entry.
      const k = `${h.type}:${h.pid}`;
      const n = (this.foreignDumps.get(k) ?? 0) + 1;
      if (h.seq !== 0) this.foreignDumps.set(k, n);
      else {
        this.foreignDumps.delete(k);
        this.sink.event({ source: this.id, type: `${name} reply`, summary: `${n} entries to pid ${h.pid}` });
      }
      return;
    }
    const saKey = m.ext.sa && m.ext.addressDst ? pfkeySaKey(SATYPE_NAME[h.satype] ?? h.satype, m.ext.addressDst.address, m.ext.sa.spi) : undefined;
    let ref: string | undefined;
    if (saKey) ref = entityRef('pfkey-sa', saKey);
    else if (m.ext.policy && m.ext.policy.id) ref = entityRef('pfkey-policy', pfkeyPolicyKey(m.ext.policy.id, m.ext.policy.dir));
    const failed = h.errno ? ` failed: ${new PfkeyError('pfkey', name, h.errno).code}` : '';
    this.sink.event({ source: this.id, type: `${name}${failed}`, summary: describeMessage(m), ...(ref ? { ref } : {}) });
    // Noted as they arrive (not held behind a dump): they explain a GET that found nothing.
    if (h.errno) this.refusedAt.set(requestId(m), Date.now());
    else if (removes(m) && saKey) this.goneAt.set(saKey, Date.now());
    this.forgetOldMarks(Date.now());
    if (h.errno) return;
    this.applyEvent(() => this.follow(m));
  }

  private follow(m: SadbMessage): void {
    const h = m.header;
    if (SA_EVENTS.has(h.type) && m.ext.sa && m.ext.addressDst && h.satype !== SATYPE.UNSPEC) {
      const key = pfkeySaKey(SATYPE_NAME[h.satype] ?? h.satype, m.ext.addressDst.address, m.ext.sa.spi);
      this.askAgain('sa', key, () => this.refreshSa(key, m));
    } else if (SPD_EVENTS.has(h.type) && m.ext.policy && m.ext.policy.id !== 0) {
      const key = pfkeyPolicyKey(m.ext.policy.id, m.ext.policy.dir);
      this.askAgain('policy', key, () => this.refreshPolicy(key, m));
    } else if (h.type === SADB.FLUSH || h.type === SADB.X_SPDFLUSH) {
      void this.resync(`${SADB_NAME[h.type]} by pid ${h.pid}`).catch(() => undefined);
    }
  }

  private askAgain(table: 'sa' | 'policy', key: string, run: () => Promise<void>): void {
    const id = `${table}:${key}`;
    const queued = this.refreshing.has(id);
    this.refreshing.set(id, run);
    if (queued) return;
    // Taken off the map before the request goes out: an event after this point queues another look.
    queueMicrotask(() => {
      const last = this.refreshing.get(id) ?? run;
      this.refreshing.delete(id);
      last().catch((err) => this.lookupFailed(table, key, err));
    });
  }

  /** The GET after an event failed otherwise than "not found" (no reply in time, another errno): not a decode
   * error. The kernel's tables are read again quietly, unless a deletion explains it by then (as for a miss). */
  private lookupFailed(table: 'sa' | 'policy', key: string, err: unknown): void {
    const id = `${table}:${key}`;
    if (err instanceof DecodeError) return this.decodeFailed(err, `the reply to the lookup of ${id}`);
    this.lookupFailures++;
    const msg = err instanceof Error ? err.message : String(err);
    if (this.lookupFailures <= 10 || this.lookupFailures % 100 === 0) {
      this.log.warn({ source: this.id, what: id, err: msg, failures: this.lookupFailures }, `pfkey: lookup of ${id} after an event failed (${msg}); re-reading the tables`);
    }
    this.missed.set(table === 'sa' ? key : id, { after: `a failed lookup (${msg})`, request: '' });
    this.missedTimer ??= setTimeout(() => this.settleMissed(), MISSED_GET_GRACE_MS);
  }

  private async refreshSa(key: string, m: SadbMessage): Promise<void> {
    if (!this.conn) return;
    const { sa, addressSrc, addressDst } = m.ext;
    try {
      const reply = await this.conn.request({
        type: SADB.GET, satype: m.header.satype, op: `get SA ${key}`,
        ext: { sa: { spi: sa!.spi, replay: 0, state: 0, auth: 0, encrypt: 0, flags: 0 }, addressDst: { ...addressDst!, port: 0, proto: 0 }, ...(addressSrc ? { addressSrc: { ...addressSrc, port: 0, proto: 0 } } : {}) },
      });
      const fresh = saFromMessage(reply);
      this.missed.delete(key);
      this.sink.upsert('pfkey-sa', fresh.key, fresh);
    } catch (err) {
      if (!(err instanceof PfkeyError && (err.errno === Errno.ESRCH || err.errno === Errno.ENOENT))) throw err;
      // Gone: this event said so, or a DELETE/hard EXPIRE for it came meanwhile (the kernel agrees: not found).
      if (removes(m) || this.goneAt.has(key)) this.sink.remove('pfkey-sa', key);
      else this.missedGet(key, m);
    }
  }

  /** Not found right after an ADD/UPDATE/GETSPI/soft EXPIRE: deleted since (its DELETE is on the way), a
   * user's request the kernel refused (its error echo is on the way), or an SA SADB_GET cannot reach (a
   * marked SA: in the dump, never found by GET). The first two settle themselves; the last needs the dump. */
  private missedGet(key: string, m: SadbMessage): void {
    this.missed.set(key, { after: `${SADB_NAME[m.header.type]} (seq ${m.header.seq}, pid ${m.header.pid})`, request: requestId(m) });
    this.missedTimer ??= setTimeout(() => this.settleMissed(), MISSED_GET_GRACE_MS);
  }

  private marksPrunedAt = 0;

  /** Deletions and refusals older than ten grace periods explain nothing any more: dropped (at most one pass a
   * grace period), so the marks stay bounded on a gateway that deletes SAs for months with no GET ever missing. */
  private forgetOldMarks(now: number): void {
    if (now - this.marksPrunedAt < MISSED_GET_GRACE_MS) return;
    this.marksPrunedAt = now;
    for (const seen of [this.goneAt, this.refusedAt]) for (const [k, at] of seen) if (now - at > 10 * MISSED_GET_GRACE_MS) seen.delete(k);
  }

  private settleMissed(): void {
    this.missedTimer = undefined;
    const now = Date.now();
    const unexplained: string[] = [];
    for (const [key, miss] of this.missed) {
      const why = this.goneAt.has(key) ? 'deleted since' : this.refusedAt.has(miss.request) ? 'the request was refused' : undefined;
      if (why) {
        this.getMisses.explained++;
        if (this.goneAt.has(key)) this.sink.remove('pfkey-sa', key);
        this.log.debug({ source: this.id, key, after: miss.after, why }, `pfkey: ${key} not found by SADB_GET after ${miss.after}: ${why}`);
      } else unexplained.push(`${key} after ${miss.after}`);
    }
    this.missed.clear();
    this.forgetOldMarks(now);
    if (!unexplained.length) return;
    this.getMisses.redumps++;
    this.log.info({ source: this.id, unexplained }, `pfkey: not found by SADB_GET (or its lookup failed) and not deleted since (${unexplained.join(', ')}): re-reading the tables`);
    // A quiet re-dump: the model follows the kernel; the source stays ok (nothing was lost).
    void this.redump().catch((err) => this.failed(err));
  }

  private async refreshPolicy(key: string, m: SadbMessage): Promise<void> {
    if (!this.conn) return;
    const pol = m.ext.policy!;
    try {
      const reply = await this.conn.request({
        type: SADB.X_SPDGET, op: `get policy ${key}`,
        ext: { policy: { type: pol.type, dir: pol.dir, id: pol.id, priority: 0, requests: [] } },
      });
      const fresh = policyFromMessage(reply);
      this.sink.upsert('pfkey-policy', fresh.key, fresh);
    } catch (err) {
      if (err instanceof PfkeyError && (err.errno === Errno.ENOENT || err.errno === Errno.ESRCH)) this.sink.remove('pfkey-policy', key);
      else throw err;
    }
  }

  stop(): void {
    // Unset, not only cleared: `missedTimer ??=` would otherwise never arm again after a start.
    clearTimeout(this.missedTimer);
    this.missedTimer = undefined;
    this.missed.clear(); // the start's dump settles them
    this.monitor?.close();
    this.conn?.close();
  }
}



/** An event after which the SA is gone: a DELETE, or a hard EXPIRE (the kernel deleted it). */
const removes = (m: SadbMessage): boolean => m.header.type === SADB.DELETE || (m.header.type === SADB.EXPIRE && m.ext.lifetimeHard !== undefined);

/** A request as its error echo names it (pfkey_error: the request's header, errno set, no extensions). */
const requestId = (m: SadbMessage): string => `${m.header.type}:${m.header.pid}:${m.header.seq}`;

// History in SQLite (better-sqlite3, WAL): events, rotations, alarms (raised and cleared), operator actions on charon (the audit list), downsampled
// per-tunnel counter samples, and the tunnels' counter state so their totals continue across a restart.
//
// Off the event path: model changes only push rows onto an in-memory queue; a timer commits the queue in
// one transaction every flushMs (default 1 s). The queue is bounded (when the disk is full the oldest rows
// are dropped and counted). Every run of sascope is a row in `runs`; the time between one run's end (its
// clean stop, or its last commit after a crash) and the next start is a gap — shown as such, never filled.
// Retention (default 7 days) is applied at start and hourly. A file that cannot be opened or written
// turns the 'history' source status to not-available/error with the reason; the live view goes on.
// A source's stale spans (its status 'stale' until it is something else) are kept too: a tunnel's samples
// come with the spans its source was stale as gaps of their own.
// The fleet console (opts.fleet) records what it receives from its hosts the same way, under its own names
// ("<host>/<key>"): samples of their tunnels, their rotations and alarms (model rows: it has no tracker), and
// its blind spans per host — the host row not 'up' (stale, unreachable, mismatch) — as gaps (docs/fleet.md).
// close() (SIGTERM) commits the queue, marks the run stopped, checkpoints the WAL into the file.
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ensurePrivateFile, narrowToOwner } from '../sys/private-file.ts';
import type { Model, ModelChange } from '../model/model.ts';
import type { TunnelState } from '../model/tunnels.ts';
import type { Logger } from '../log.ts';
import type { KernelEvent, OnWire, SourceState, SourceStatus } from '../wire/entities.ts';
import type { Alarm, HistoryGap, Rotation, Tunnel } from '../wire/tunnels.ts';
import { hostKey, hostOfKey, keyOnHost, refOnHost, type FleetHost, type OnHost } from '../wire/fleet.ts';
import type { ViciAction } from '../wire/vici.ts';
import type { HistoryAlarm, HistoryInfo, HistoryReader, TunnelSample, Window } from './reader.ts';

export const HISTORY_FILE = 'history.sqlite';
/** Event types not kept in history: counter refreshes (NEWAE) come many times a second and say nothing new. */
export const HISTORY_SKIP_EVENT_TYPES = new Set(['NEWAE']);
/** The source whose state a tunnel family's counters depend on (a tunnel key starts with its family). */
const SOURCE_OF_FAMILY: Record<string, string> = { xfrm: 'xfrm-sa', ovpn: 'ovpn' };

export interface HistoryOptions {
  dataDir: string;
  retentionDays: number;
  sampleSeconds: number;
  flushMs: number;
  version?: string;
  /** Queued rows at most (a failing disk must not grow memory without bound). Default 200,000. */
  maxQueue?: number;
  now?: () => number;
  /** Test seam: open this file instead of dataDir/history.sqlite. */
  file?: string;
  /** The fleet console: rotations and alarms are its hosts' model rows, and a host not 'up' is a blind span. */
  fleet?: boolean;
}

/** The stale-span source of a fleet host's blind spans (the console heard nothing, or could not apply it). */
const blindSource = (host: string) => `host:${host}`;

type Row =
  | { t: 'event'; time: number; source: string; type: string; summary: string; ref?: string }
  | { t: 'rotation'; r: Rotation }
  | { t: 'vici-action'; a: ViciAction }
  | { t: 'alarm-raised'; a: Alarm }
  | { t: 'alarm-cleared'; key: string; at: number }
  | { t: 'stale'; source: string; at: number; stale: boolean }
  | { t: 'sample'; tunnel: string; time: number; bytes: bigint; packets: bigint; integrity: number; replay: number; rotations: number };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, started_at INTEGER NOT NULL, last_seen INTEGER NOT NULL, stopped_at INTEGER, version TEXT);
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, time INTEGER NOT NULL, source TEXT NOT NULL, type TEXT NOT NULL, summary TEXT NOT NULL, ref TEXT);
CREATE INDEX IF NOT EXISTS events_time ON events (time);
CREATE INDEX IF NOT EXISTS events_ref ON events (ref, time);
CREATE TABLE IF NOT EXISTS rotations (key TEXT PRIMARY KEY, time INTEGER NOT NULL, tunnel TEXT NOT NULL, family TEXT NOT NULL, json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS rotations_time ON rotations (time);
CREATE INDEX IF NOT EXISTS rotations_tunnel ON rotations (tunnel, time);
CREATE TABLE IF NOT EXISTS alarms (id INTEGER PRIMARY KEY, key TEXT NOT NULL, type TEXT NOT NULL, ref TEXT NOT NULL, raised_at INTEGER NOT NULL, cleared_at INTEGER, json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alarms_time ON alarms (raised_at);
CREATE INDEX IF NOT EXISTS alarms_open ON alarms (key, cleared_at);
CREATE TABLE IF NOT EXISTS tunnel_ids (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS samples (tunnel INTEGER NOT NULL, time INTEGER NOT NULL, bytes INTEGER NOT NULL, packets INTEGER NOT NULL, integrity INTEGER NOT NULL, replay INTEGER NOT NULL, rotations INTEGER NOT NULL, PRIMARY KEY (tunnel, time)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS samples_time ON samples (time);
CREATE TABLE IF NOT EXISTS stale_spans (id INTEGER PRIMARY KEY, source TEXT NOT NULL, from_time INTEGER NOT NULL, to_time INTEGER);
CREATE INDEX IF NOT EXISTS stale_spans_source ON stale_spans (source, from_time);
CREATE TABLE IF NOT EXISTS vici_actions (key TEXT PRIMARY KEY, time INTEGER NOT NULL, json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS vici_actions_time ON vici_actions (time);
CREATE TABLE IF NOT EXISTS tunnel_state (key TEXT PRIMARY KEY, updated INTEGER NOT NULL, json TEXT NOT NULL);
`;

function describeSqliteError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e.code === 'SQLITE_FULL') return 'disk full';
  if (e.code === 'SQLITE_READONLY' || e.code === 'SQLITE_CANTOPEN' || e.code === 'SQLITE_PERM') return `cannot write (${e.code})`;
  return `${e.code ?? 'error'}: ${e.message ?? String(err)}`;
}

export class History implements HistoryReader {
  private db: Database.Database | undefined;
  private readonly queue: Row[] = [];
  private dropped = 0;
  private runId = 0;
  private startedAt = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private sampleTimer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private readonly lastSample = new Map<string, string>();
  private readonly savedState = new Map<string, string>();
  private stateSource: (() => TunnelState[]) | undefined;
  private off: (() => void) | undefined;
  private problem: string | undefined;
  private readonly status: SourceStatus;
  private readonly now: () => number;
  readonly file: string;
  private readonly tunnelIds = new Map<string, number>();
  /** Sources stale now (an open span in stale_spans). */
  private readonly stale = new Set<string>();
  /** The fleet console: alarms raised now (key → type), to record a raise and a clear once each. */
  private readonly raised = new Map<string, string>();

  constructor(private readonly model: Model, private readonly log: Logger, private readonly opts: HistoryOptions) {
    this.now = opts.now ?? Date.now;
    this.file = opts.file ?? path.join(opts.dataDir, HISTORY_FILE);
    this.status = { id: 'history', label: 'History (SQLite)', state: 'starting', since: this.now(), resyncs: 0, decodeErrors: 0 };
  }

  get available(): boolean {
    return this.db !== undefined;
  }

  private setState(state: SourceState, reason?: string): void {
    if (this.status.state === state && this.status.reason === reason) return;
    this.status.state = state;
    this.status.since = this.now();
    if (reason) this.status.reason = reason;
    else delete this.status.reason;
    this.model.status({ ...this.status });
  }

  /** Open (or create) the database, record this run and the gap before it. Never throws: failure is a status. */
  open(): TunnelState[] {
    this.model.status({ ...this.status });
    let db: Database.Database;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      // SQLite creates its files by the umask; made 0600 first, the database gives -wal/-shm its own mode.
      ensurePrivateFile(this.file);
      for (const side of ['-wal', '-shm', '-journal']) narrowToOwner(`${this.file}${side}`);
      db = new Database(this.file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 2000');
      db.exec(SCHEMA);
    } catch (err) {
      const reason = `${this.file}: ${describeSqliteError(err)}`;
      this.problem = reason;
      this.log.warn({ source: 'history', reason }, `history: ${reason}; the live view goes on without it`);
      this.setState('not-available', reason);
      return [];
    }
    this.db = db;
    const now = this.now();
    this.startedAt = now;
    let states: TunnelState[] = [];
    try {
      const prev = db.prepare('SELECT id, started_at, last_seen, stopped_at FROM runs ORDER BY id DESC LIMIT 1').get() as { id: number; last_seen: number; stopped_at: number | null } | undefined;
      this.runId = Number(db.prepare('INSERT INTO runs (started_at, last_seen, version) VALUES (?, ?, ?)').run(now, now, this.opts.version ?? null).lastInsertRowid);
      if (prev) {
        const end = prev.stopped_at ?? prev.last_seen;
        const how = prev.stopped_at !== null ? 'stopped' : 'stopped unexpectedly (last write)';
        const ins = db.prepare('INSERT INTO events (time, source, type, summary, ref) VALUES (?, ?, ?, ?, NULL)');
        // The marker of the gap: what sascope did not see between `end` and now is not in history.
        if (prev.stopped_at === null) ins.run(end, 'sascope', 'stopped', `sascope ${how}; nothing was recorded until ${new Date(now).toISOString()}`);
        // Alarms still open at the end of the last run are closed at that time (raised again now if still true).
        db.prepare('UPDATE alarms SET cleared_at = ? WHERE cleared_at IS NULL').run(end);
        db.prepare('UPDATE stale_spans SET to_time = ? WHERE to_time IS NULL').run(end);
      }
      states = (db.prepare('SELECT json FROM tunnel_state').all() as Array<{ json: string }>).map((r) => JSON.parse(r.json) as TunnelState);
      for (const s of states) this.savedState.set(s.key, JSON.stringify(s));
      for (const r of db.prepare('SELECT id, key FROM tunnel_ids').all() as Array<{ id: number; key: string }>) this.tunnelIds.set(r.key, r.id);
      this.applyRetention();
      this.setState('ok');
    } catch (err) {
      this.failedWrite(err);
    }
    this.off = this.model.onChange((c) => this.onChange(c));
    this.model.event({ source: 'sascope', type: 'started', summary: `sascope started; history in ${this.file}` });
    this.flushTimer = setInterval(() => this.flush(), this.opts.flushMs);
    this.flushTimer.unref();
    this.sampleTimer = setInterval(() => this.sample(), this.opts.sampleSeconds * 1000);
    this.sampleTimer.unref();
    this.retentionTimer = setInterval(() => this.applyRetention(), 3600_000);
    this.retentionTimer.unref();
    return states;
  }

  /** Where tunnel counter state comes from (the tracker), saved with each sample pass and at close. */
  trackStateFrom(fn: () => TunnelState[]): void {
    this.stateSource = fn;
  }

  // ---- queueing (the event path: push only)

  private push(r: Row): void {
    if (!this.db) return;
    this.queue.push(r);
    const max = this.opts.maxQueue ?? 200_000;
    if (this.queue.length > max) {
      const n = this.queue.length - max;
      this.queue.splice(0, n);
      this.dropped += n;
    }
  }

  private onChange(c: ModelChange): void {
    if (c.kind === 'source' && c.op === 'upsert') {
      const s = c.value as SourceStatus & OnHost;
      return this.staleSpan(keyOnHost(s, s.id), s.state === 'stale', s.since);
    }
    if (c.kind === 'vici-action' && c.op === 'upsert') return this.push({ t: 'vici-action', a: c.value as ViciAction });
    if (this.opts.fleet) this.fromHost(c);
    if (c.kind !== 'event' || c.op !== 'upsert') return;
    const e = c.value as OnWire<KernelEvent> & OnHost;
    if (HISTORY_SKIP_EVENT_TYPES.has(e.type)) return;
    this.push({ t: 'event', time: e.time, source: keyOnHost(e, e.source), type: e.type, summary: e.summary, ...(e.ref ? { ref: refOnHost(e, e.ref) } : {}) });
  }

  /** The fleet console: a host's rotations and alarms as its rows come and go, and the host's blind spans. */
  private fromHost(c: ModelChange): void {
    if (c.kind === 'host' && c.op === 'upsert') {
      const h = c.value as FleetHost;
      // Blind from the last thing heard (nothing after it was seen), until the host is up again.
      return this.staleSpan(blindSource(h.host), h.state !== 'up', h.lastSeen || h.since);
    }
    if (c.kind === 'rotation' && c.op === 'upsert') return this.rotation(c.value as Rotation);
    if (c.kind !== 'alarm') return;
    const held = this.raised.get(c.key);
    const a = c.op === 'upsert' ? (c.value as Alarm) : undefined;
    if (held !== undefined && held !== a?.type) {
      this.raised.delete(c.key);
      this.push({ t: 'alarm-cleared', key: c.key, at: this.now() });
    }
    if (a && held !== a.type) {
      this.raised.set(c.key, a.type);
      this.alarmRaised(a);
    }
  }

  private staleSpan(source: string, stale: boolean, since: number): void {
    if (stale === this.stale.has(source)) return;
    if (stale) this.stale.add(source);
    else this.stale.delete(source);
    this.push({ t: 'stale', source, at: stale ? since : this.now(), stale });
  }

  rotation(r: Rotation): void {
    this.push({ t: 'rotation', r });
  }

  alarmRaised(a: Alarm): void {
    this.push({ t: 'alarm-raised', a });
  }

  alarmCleared(a: Alarm, at: number): void {
    this.push({ t: 'alarm-cleared', key: a.key, at });
  }

  /** Downsampling: one row per tunnel per sampleSeconds, only when its counters moved. */
  sample(): void {
    if (!this.db) return;
    const now = this.now();
    for (const t of this.model.list('tunnel') as Array<OnWire<Tunnel>>) {
      const sig = `${t.bytes}|${t.packets}|${t.integrityFailed}|${t.replayFailed}|${t.rotations}`;
      if (this.lastSample.get(t.key) === sig) continue;
      this.lastSample.set(t.key, sig);
      this.push({ t: 'sample', tunnel: t.key, time: now, bytes: BigInt(t.bytes), packets: BigInt(t.packets), integrity: t.integrityFailed, replay: t.replayFailed, rotations: t.rotations });
    }
    this.saveState();
  }

  private saveState(): void {
    if (!this.db || !this.stateSource) return;
    const now = this.now();
    const states = this.stateSource();
    const seen = new Set<string>();
    try {
      const put = this.db.prepare('INSERT INTO tunnel_state (key, updated, json) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET updated = excluded.updated, json = excluded.json');
      const del = this.db.prepare('DELETE FROM tunnel_state WHERE key = ?');
      this.db.transaction(() => {
        for (const s of states) {
          seen.add(s.key);
          const json = JSON.stringify(s);
          if (this.savedState.get(s.key) === json) continue;
          put.run(s.key, now, json);
          this.savedState.set(s.key, json);
        }
        for (const k of [...this.savedState.keys()]) {
          if (seen.has(k)) continue;
          del.run(k);
          this.savedState.delete(k);
        }
      })();
    } catch (err) {
      this.failedWrite(err);
    }
  }

  private tunnelId(key: string): number {
    let id = this.tunnelIds.get(key);
    if (id === undefined) {
      this.db!.prepare('INSERT OR IGNORE INTO tunnel_ids (key) VALUES (?)').run(key);
      id = (this.db!.prepare('SELECT id FROM tunnel_ids WHERE key = ?').get(key) as { id: number }).id;
      this.tunnelIds.set(key, id);
    }
    return id;
  }

  /** Before a read: commit what is queued; nothing to commit writes nothing (a read must not cost a write). */
  private flushForRead(): void {
    if (this.queue.length) this.flush();
  }

  /** Commit the queue in one transaction (the timer, and close()). */
  flush(): void {
    const db = this.db;
    if (!db) return;
    const rows = this.queue.splice(0);
    const now = this.now();
    try {
      const ev = db.prepare('INSERT INTO events (time, source, type, summary, ref) VALUES (?, ?, ?, ?, ?)');
      const act = db.prepare('INSERT INTO vici_actions (key, time, json) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET json = excluded.json');
      const rot = db.prepare('INSERT INTO rotations (key, time, tunnel, family, json) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET json = excluded.json');
      const raise = db.prepare('INSERT INTO alarms (key, type, ref, raised_at, json) VALUES (?, ?, ?, ?, ?)');
      const clear = db.prepare('UPDATE alarms SET cleared_at = ? WHERE key = ? AND cleared_at IS NULL');
      const smp = db.prepare('INSERT OR REPLACE INTO samples (tunnel, time, bytes, packets, integrity, replay, rotations) VALUES (?, ?, ?, ?, ?, ?, ?)');
      const seen = db.prepare('UPDATE runs SET last_seen = ? WHERE id = ?');
      const staleFrom = db.prepare('INSERT INTO stale_spans (source, from_time) VALUES (?, ?)');
      const staleTo = db.prepare('UPDATE stale_spans SET to_time = ? WHERE source = ? AND to_time IS NULL');
      db.transaction(() => {
        for (const r of rows) {
          switch (r.t) {
            case 'event':
              ev.run(r.time, r.source, r.type, r.summary, r.ref ?? null);
              break;
            case 'vici-action':
              act.run(r.a.key, r.a.startedAt, JSON.stringify(r.a));
              break;
            case 'rotation':
              // A fleet host's rotation under the console's tunnel key (its row, as sent, keeps the host's).
              rot.run(r.r.key, r.r.time, keyOnHost(r.r as OnHost, r.r.tunnel), r.r.family, JSON.stringify(r.r));
              break;
            case 'alarm-raised':
              raise.run(r.a.key, r.a.type, refOnHost(r.a as OnHost, r.a.ref), r.a.since, JSON.stringify(r.a));
              break;
            case 'alarm-cleared':
              clear.run(r.at, r.key);
              break;
            case 'stale':
              if (r.stale) staleFrom.run(r.source, r.at);
              else staleTo.run(r.at, r.source);
              break;
            case 'sample':
              smp.run(this.tunnelId(r.tunnel), r.time, r.bytes, r.packets, r.integrity, r.replay, r.rotations);
              break;
          }
        }
        seen.run(now, this.runId);
      })();
      if (this.status.state !== 'ok') this.setState('ok');
      this.status.lastData = now;
      if (this.dropped) {
        this.log.warn({ source: 'history', dropped: this.dropped }, `history: ${this.dropped} rows were dropped while writes failed`);
        this.dropped = 0;
      }
    } catch (err) {
      // Keep what did not commit (bounded by maxQueue) for the next try.
      this.queue.unshift(...rows);
      const max = this.opts.maxQueue ?? 200_000;
      if (this.queue.length > max) {
        this.dropped += this.queue.length - max;
        this.queue.splice(0, this.queue.length - max);
      }
      this.failedWrite(err);
    }
  }

  private failedWrite(err: unknown): void {
    const reason = `${this.file}: ${describeSqliteError(err)}${this.dropped ? ` (${this.dropped} rows dropped)` : ''}`;
    if (this.status.reason !== reason) this.log.error({ source: 'history', reason }, `history: ${reason}`);
    this.setState('error', reason);
  }

  applyRetention(): void {
    const db = this.db;
    if (!db) return;
    const cut = this.now() - this.opts.retentionDays * 86_400_000;
    try {
      db.transaction(() => {
        db.prepare('DELETE FROM events WHERE time < ?').run(cut);
        db.prepare('DELETE FROM rotations WHERE time < ?').run(cut);
        db.prepare('DELETE FROM vici_actions WHERE time < ?').run(cut);
        db.prepare('DELETE FROM alarms WHERE raised_at < ? AND cleared_at IS NOT NULL').run(cut);
        db.prepare('DELETE FROM samples WHERE time < ?').run(cut);
        db.prepare('DELETE FROM stale_spans WHERE to_time < ?').run(cut);
        db.prepare('DELETE FROM runs WHERE COALESCE(stopped_at, last_seen) < ? AND id <> ?').run(cut, this.runId);
        db.prepare('DELETE FROM tunnel_ids WHERE id NOT IN (SELECT DISTINCT tunnel FROM samples)').run();
      })();
      this.tunnelIds.clear();
      for (const r of db.prepare('SELECT id, key FROM tunnel_ids').all() as Array<{ id: number; key: string }>) this.tunnelIds.set(r.key, r.id);
    } catch (err) {
      this.failedWrite(err);
    }
  }

  /** SIGTERM: commit, mark the run stopped, checkpoint the WAL into the main file, close. */
  close(): void {
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.sampleTimer) clearInterval(this.sampleTimer);
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.off?.();
    const db = this.db;
    if (!db) return;
    this.sample();
    const now = this.now();
    this.push({ t: 'event', time: now, source: 'sascope', type: 'stopped', summary: 'sascope stopped' });
    this.flush();
    try {
      db.prepare('UPDATE runs SET stopped_at = ?, last_seen = ? WHERE id = ?').run(now, now, this.runId);
      db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      this.failedWrite(err);
    }
    db.close();
    this.db = undefined;
  }

  // ---- reads (HistoryReader)

  private where(q: Window, timeCol: string, extra: Array<[string, string | undefined]>): { sql: string; args: unknown[] } {
    const conds: string[] = [];
    const args: unknown[] = [];
    if (q.since !== undefined) {
      conds.push(`${timeCol} >= ?`);
      args.push(q.since);
    }
    if (q.until !== undefined) {
      conds.push(`${timeCol} <= ?`);
      args.push(q.until);
    }
    for (const [col, v] of extra) {
      if (v === undefined) continue;
      conds.push(`${col} = ?`);
      args.push(v);
    }
    return { sql: conds.length ? `WHERE ${conds.join(' AND ')}` : '', args };
  }

  events(q: Window & { source?: string; type?: string; ref?: string }): { events: Array<OnWire<KernelEvent> & { historyId: number }>; truncated: boolean } {
    this.flushForRead(); // what is queued is part of the answer
    const w = this.where(q, 'time', [['source', q.source], ['type', q.type], ['ref', q.ref]]);
    const rows = this.db!.prepare(`SELECT id, time, source, type, summary, ref FROM events ${w.sql} ORDER BY time DESC, id DESC LIMIT ?`).all(...w.args, q.limit + 1) as Array<{ id: number; time: number; source: string; type: string; summary: string; ref: string | null }>;
    const truncated = rows.length > q.limit;
    const host = (source: string) => {
      const h = hostOfKey(source); // a fleet host's event: its source as the console names it
      return h === undefined ? {} : { host: h };
    };
    return { events: rows.slice(0, q.limit).map((r) => ({ id: r.id, historyId: r.id, time: r.time, source: r.source, type: r.type, summary: r.summary, ...(r.ref ? { ref: r.ref } : {}), ...host(r.source) })), truncated };
  }

  rotations(q: Window & { tunnel?: string; family?: string }): { rotations: Array<OnWire<Rotation>>; truncated: boolean } {
    this.flushForRead();
    const w = this.where(q, 'time', [['tunnel', q.tunnel], ['family', q.family]]);
    const rows = this.db!.prepare(`SELECT json FROM rotations ${w.sql} ORDER BY time DESC LIMIT ?`).all(...w.args, q.limit + 1) as Array<{ json: string }>;
    return { rotations: rows.slice(0, q.limit).map((r) => JSON.parse(r.json) as OnWire<Rotation>), truncated: rows.length > q.limit };
  }

  viciActions(q: Window): { actions: ViciAction[]; truncated: boolean } {
    this.flushForRead();
    const w = this.where(q, 'time', []);
    const rows = this.db!.prepare(`SELECT json FROM vici_actions ${w.sql} ORDER BY time DESC, key DESC LIMIT ?`).all(...w.args, q.limit + 1) as Array<{ json: string }>;
    return { actions: rows.slice(0, q.limit).map((r) => JSON.parse(r.json) as ViciAction), truncated: rows.length > q.limit };
  }

  alarms(q: Window & { type?: string; ref?: string }): { history: HistoryAlarm[]; truncated: boolean } {
    this.flushForRead();
    const w = this.where(q, 'raised_at', [['type', q.type], ['ref', q.ref]]);
    const rows = this.db!.prepare(`SELECT json, cleared_at FROM alarms ${w.sql} ORDER BY raised_at DESC, id DESC LIMIT ?`).all(...w.args, q.limit + 1) as Array<{ json: string; cleared_at: number | null }>;
    return {
      history: rows.slice(0, q.limit).map((r) => ({ ...(JSON.parse(r.json) as HistoryAlarm), ...(r.cleared_at !== null ? { clearedAt: r.cleared_at } : {}) })),
      truncated: rows.length > q.limit,
    };
  }

  samples(q: Window & { tunnel: string }): { samples: TunnelSample[]; gaps: HistoryGap[]; truncated: boolean } {
    this.flushForRead();
    const id = this.tunnelIds.get(q.tunnel);
    // A fleet host's tunnel ("<host>/<key>"): its source's stale spans on that host, and the console's blind spans of the host.
    const host = hostOfKey(q.tunnel);
    const key = host === undefined ? q.tunnel : q.tunnel.slice(host.length + 1);
    const source = SOURCE_OF_FAMILY[key.slice(0, key.indexOf(':'))];
    const stale = host === undefined ? this.staleSpans(source, q) : [...this.staleSpans(source && hostKey(host, source), q), ...this.staleSpans(blindSource(host), q)];
    const gaps = [...this.gaps(q.since), ...stale].sort((a, b) => b.from - a.from);
    if (id === undefined) return { samples: [], gaps, truncated: false };
    const w = this.where(q, 'time', []);
    const stmt = this.db!.prepare(`SELECT time, bytes, packets, integrity, replay, rotations FROM samples ${w.sql ? `${w.sql} AND` : 'WHERE'} tunnel = ? ORDER BY time ASC LIMIT ?`).safeIntegers(true);
    const rows = stmt.all(...w.args, id, q.limit + 1) as Array<{ time: bigint; bytes: bigint; packets: bigint; integrity: bigint; replay: bigint; rotations: bigint }>;
    return {
      samples: rows.slice(0, q.limit).map((r) => ({ time: Number(r.time), bytes: r.bytes.toString(), packets: r.packets.toString(), integrityFailed: Number(r.integrity), replayFailed: Number(r.replay), rotations: Number(r.rotations) })),
      gaps,
      truncated: rows.length > q.limit,
    };
  }

  /** Times sascope was not running (between runs), newest first. */
  gaps(since?: number): HistoryGap[] {
    if (!this.db) return [];
    const runs = this.db.prepare('SELECT started_at, last_seen, stopped_at FROM runs ORDER BY id ASC').all() as Array<{ started_at: number; last_seen: number; stopped_at: number | null }>;
    const out: HistoryGap[] = [];
    for (let i = 1; i < runs.length; i++) {
      const p = runs[i - 1]!;
      const from = p.stopped_at ?? p.last_seen;
      if (since !== undefined && runs[i]!.started_at < since) continue;
      out.push({ from, to: runs[i]!.started_at, how: p.stopped_at !== null ? 'clean' : 'crash' });
    }
    return out.reverse();
  }

  /** The spans a source was stale within the window (one still open ends now). */
  staleSpans(source: string | undefined, q: Window): HistoryGap[] {
    if (!this.db || source === undefined) return [];
    const rows = this.db.prepare('SELECT from_time, to_time FROM stale_spans WHERE source = ? AND from_time <= ? AND COALESCE(to_time, ?) >= ? ORDER BY from_time DESC').all(source, q.until ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, q.since ?? 0) as Array<{ from_time: number; to_time: number | null }>;
    return rows.map((r) => ({ from: r.from_time, to: r.to_time ?? this.now(), how: 'stale', source }));
  }

  info(): HistoryInfo {
    const base = { retentionDays: this.opts.retentionDays, sampleSeconds: this.opts.sampleSeconds, file: this.file };
    if (!this.db) return { available: false, ...base, ...(this.problem ? { problem: this.problem } : {}), gaps: [] };
    let sizeBytes = 0;
    for (const f of [this.file, `${this.file}-wal`]) {
      try {
        sizeBytes += statSync(f).size;
      } catch {
        // no WAL right after a checkpoint
      }
    }
    const count = (t: string) => (this.db!.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    return {
      available: true,
      ...base,
      ...(this.status.state !== 'ok' && this.status.reason ? { problem: this.status.reason } : {}),
      sizeBytes,
      rows: { events: count('events'), rotations: count('rotations'), alarms: count('alarms'), samples: count('samples') },
      startedAt: this.startedAt,
      gaps: this.gaps(),
    };
  }

  /** For /metrics: state and queue. */
  metrics(): { ok: boolean; queued: number; sizeBytes: number } {
    let sizeBytes = 0;
    try {
      sizeBytes = statSync(this.file).size;
    } catch {
      // not created
    }
    return { ok: this.status.state === 'ok', queued: this.queue.length, sizeBytes };
  }
}

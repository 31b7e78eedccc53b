// strongSwan's charon over VICI: configured connections (list-conns), IKE and CHILD SAs (list-sas), live.
// At start and after every reconnect: version, the streams' events (list-conn, list-sa), the events it
// follows (EVENT_UNKNOWN for one this charon lacks — 5.9 has no alert — is noted, not an error), then a
// full read. An event drops what it says is gone (down, the old SA of a rekey) at once and re-reads the
// connections it names (list-sas ike=<name>); a periodic re-read brings the counters and heals the rest.
// charon gone (closed, died, a timeout) → stale with the reason, then reconnects with backoff; no socket or
// nobody listening → not available (charon not running: its rows go); EACCES → no permission, with the fix.
// sascope only reads here: no command that changes charon's state, none that returns key material.
import type { Logger } from '../../log.ts';
import type { SourceState } from '../../wire/entities.ts';
import { VICI_FAILURE_WORDS, type ViciCertificate, type ViciChildSa, type ViciConnection, type ViciFailureReason, type ViciIkeSa, type ViciLastReason } from '../../wire/vici.ts';
import { reasonOfAlert, reasonOfLog } from './reasons.ts';
import { DecodeError } from '../../netlink/errors.ts';
import { Source, type ModelSink } from '../source.ts';
import { DEFAULT_VICI_SOCKET, ViciClient, ViciError } from './client.ts';
import { certificateFrom, childKey, connectionsFrom, eventFacts, ikeKey, sasFrom, type SaListing } from './entities.ts';
import type { ViciSection } from './spec.ts';

/** Events the source follows, where the daemon has them. */
export const VICI_EVENTS = ['ike-updown', 'ike-rekey', 'ike-update', 'child-updown', 'child-rekey', 'alert'] as const;
/** Failure reasons on 5.9 (no alert event): charon's log stream, its IKE lines mapped in reasons.ts. */
const LOG_EVENT = 'log';
/** The events streamed commands send their rows as. */
const STREAMS = { 'list-conns': 'list-conn', 'list-sas': 'list-sa', 'list-certs': 'list-cert' } as const;

export interface ViciSourceOptions {
  /** charon's VICI socket (default /var/run/charon.vici). */
  socketPath?: string;
  /** Longest wait for one answer of charon's. */
  timeoutMs?: number;
  /** Everything re-read this often (counters); 0 = only on events and reconnects. */
  refreshMs?: number;
  /** Reconnect backoff: first wait, doubled up to the last. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

/** What `version` says of the daemon. */
export interface ViciDaemon {
  daemon?: string;
  version?: string;
  sysname?: string;
  release?: string;
  machine?: string;
}

export class ViciSource extends Source {
  private client: ViciClient | undefined;
  private daemonInfo: ViciDaemon | undefined;
  private missingEvents: string[] = [];
  private readonly ikes = new Map<string, ViciIkeSa>();
  private readonly children = new Map<string, ViciChildSa>();
  /** Bumped by every start and stop: callbacks of an older connection do nothing. */
  private generation = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private backoffMs = 0;
  /** Connection names an event made stale, re-read together. */
  private readonly staleNames = new Set<string>();
  private rereading = false;
  /** The last failure reason of each connection, while sascope watched. */
  private readonly reasons = new Map<string, ViciLastReason>();
  readonly socketPath: string;

  constructor(sink: ModelSink, log: Logger, private readonly opts: ViciSourceOptions = {}) {
    super('vici', 'strongSwan (VICI)', sink, log);
    this.socketPath = opts.socketPath ?? DEFAULT_VICI_SOCKET;
  }

  /** The daemon's version as it said it, and the followed events it does not have. */
  get daemon(): (ViciDaemon & { missingEvents: string[] }) | undefined {
    return this.daemonInfo && { ...this.daemonInfo, missingEvents: [...this.missingEvents] };
  }

  async start(): Promise<void> {
    const gen = ++this.generation;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    let client: ViciClient | undefined;
    try {
      client = await ViciClient.connect({
        path: this.socketPath,
        ...(this.opts.timeoutMs ? { timeoutMs: this.opts.timeoutMs } : {}),
        onEvent: (name, m) => gen === this.generation && this.onEvent(name, m),
        onDecodeError: (err, what) => gen === this.generation && this.decodeFailed(err, what),
        // Only the connection in use: one this source closes itself (a failure, stop) is not lost.
        onClose: (err) => gen === this.generation && this.client === client && this.lost(err),
      });
      if (gen !== this.generation) return client.close();
      this.client = client;
      const v = (await client.command('version')).response;
      const text = (k: string) => (typeof v[k] === 'string' ? v[k] : undefined);
      this.daemonInfo = { daemon: text('daemon'), version: text('version'), sysname: text('sysname'), release: text('release'), machine: text('machine') };
      for (const stream of Object.values(STREAMS)) {
        if (!(await client.register(stream))) throw new ViciError(`register ${stream}`, 'failed', 'charon has no such event (EVENT_UNKNOWN): it cannot list');
      }
      const missing: string[] = [];
      for (const e of VICI_EVENTS) if (!(await client.register(e))) missing.push(e);
      this.missingEvents = missing;
      // Without alert (5.9) the reasons come from the log stream; with it too (a 6.x log says the same).
      if (missing.includes('alert')) await client.register(LOG_EVENT);
      await this.resync('start');
      this.backoffMs = 0;
      this.refreshEvery(this.opts.refreshMs ?? 10_000);
    } catch (err) {
      if (gen !== this.generation) return void client?.close();
      this.failed(err);
      client?.close();
    }
  }

  stop(): void {
    this.generation++;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.stopRefresh();
    const client = this.client;
    this.client = undefined;
    client?.close();
  }

  protected override okReason(): string | undefined {
    const d = this.daemonInfo;
    const who = d ? `${d.daemon ?? 'charon'} ${d.version ?? '(version unknown)'}` : undefined;
    const missing = this.missingEvents.length ? `; events this version does not have: ${this.missingEvents.join(', ')}` : '';
    return who && `${who}${missing}`;
  }

  /** A failure in words: EACCES → no permission, no charon → not available, anything else → stale, and reconnect. */
  protected override failed(err: unknown): void {
    const code = err instanceof ViciError ? err.code : undefined;
    const reason = err instanceof Error ? err.message : String(err);
    const state: SourceState = code === 'EACCES' || code === 'EPERM' ? 'no-permission' : code === 'ENOENT' || code === 'ECONNREFUSED' ? 'not-available' : 'stale';
    const client = this.client;
    this.client = undefined;
    client?.close();
    this.stopRefresh();
    // charon not running: it holds no IKE SA; what it said before is no longer so.
    if (state === 'not-available') this.forget();
    this.setState(state, state === 'stale' ? `${reason}; reconnecting` : reason);
    this.reconnectLater();
  }

  /** The connection ended under us (charon stopped or died, a timeout, a stream that cannot go on). */
  private lost(err: ViciError): void {
    this.failed(err);
  }

  private reconnectLater(): void {
    if (this.reconnectTimer) return;
    const min = this.opts.reconnectMinMs ?? 500;
    this.backoffMs = Math.min(this.opts.reconnectMaxMs ?? 30_000, this.backoffMs ? this.backoffMs * 2 : min);
    const gen = this.generation;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (gen === this.generation) void this.start();
    }, this.backoffMs);
    this.reconnectTimer.unref();
  }

  private forget(): void {
    this.ikes.clear();
    this.children.clear();
    for (const kind of ['vici-conn', 'vici-ike', 'vici-child', 'vici-cert'] as const) this.sink.replaceAll(kind, []);
  }

  private connected(): ViciClient {
    if (!this.client || this.client.closed) throw new ViciError('read', 'closed', 'not connected to charon');
    return this.client;
  }

  /** Rows of a streamed command's messages; a message that does not decode is counted and skipped. */
  private rows<T>(messages: ViciSection[], what: string, read: (m: ViciSection) => T): T[] {
    const out: T[] = [];
    for (const m of messages) {
      try {
        out.push(read(m));
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        this.decodeFailed(err, what);
      }
    }
    return out;
  }

  private async listSas(filter: { ike?: string } = {}): Promise<SaListing> {
    const { streamed } = await this.connected().command('list-sas', filter, STREAMS['list-sas']);
    const now = Date.now();
    const parts = this.rows(streamed, 'list-sa event', (m) => sasFrom(m, now));
    return { ikes: parts.flatMap((p) => p.ikes), children: parts.flatMap((p) => p.children) };
  }

  protected async dumpAll(): Promise<void> {
    const { streamed } = await this.connected().command('list-conns', {}, STREAMS['list-conns']);
    const now = Date.now();
    const conns: ViciConnection[] = this.rows(streamed, 'list-conn event', (m) => connectionsFrom(m, now)).flat();
    const sas = await this.listSas();
    const certs = await this.listCerts();
    this.ikes.clear();
    this.children.clear();
    for (const i of sas.ikes) this.ikes.set(ikeKey(i), i);
    for (const c of sas.children) this.children.set(childKey(c), c);
    this.sink.replaceAll('vici-conn', conns.map((c) => ({ key: c.name, value: this.reasons.has(c.name) ? { ...c, lastReason: this.reasons.get(c.name) } : c })));
    this.sink.replaceAll('vici-ike', sas.ikes.map((i) => ({ key: ikeKey(i), value: i })));
    this.sink.replaceAll('vici-child', sas.children.map((c) => ({ key: childKey(c), value: c })));
    this.sink.replaceAll('vici-cert', certs.map((c) => ({ key: c.fingerprint, value: c })));
  }

  /** charon's X.509 certificates (names and dates; list-certs sends no private key, only whether it has one). */
  private async listCerts(): Promise<ViciCertificate[]> {
    try {
      const { streamed } = await this.connected().command('list-certs', { type: 'X509' }, STREAMS['list-certs']);
      return this.rows(streamed, 'list-cert event', certificateFrom).filter((c): c is ViciCertificate => c !== undefined);
    } catch (err) {
      // A charon without list-certs (none known) has no certificates to show: a state, not a failure.
      if (err instanceof ViciError && err.code === 'unknown-command') return [];
      throw err;
    }
  }

  private onEvent(name: string, m: ViciSection): void {
    if (name === LOG_EVENT) {
      const r = reasonOfLog(m);
      if (r) this.failedBecause(r.conn, r.code);
      return;
    }
    let f;
    try {
      f = eventFacts(name, m);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.decodeFailed(err, `${name} event`);
      return;
    }
    this.dataSeen();
    this.applyEvent(() => {
      // A rekey's new SA first, so what joins the kernel's SAs to charon's never sees the child with no row.
      for (const { ike, replaces } of f.newIkes) {
        this.putIke(ike);
        for (const c of [...this.children.values()]) if (c.ikeUniqueId === replaces) this.putChild({ ...c, ikeUniqueId: ike.uniqueId });
      }
      for (const c of f.newChildren) this.putChild(c);
      for (const id of f.goneIkes) {
        this.dropIke(String(id));
        // A rekeyed IKE SA's CHILD SAs move to the new one (the re-read brings them under it); a down one's are gone.
        if (name === 'ike-updown') for (const c of [...this.children.values()]) if (c.ikeUniqueId === id) this.dropChild(childKey(c));
      }
      for (const id of f.goneChildren) this.dropChild(String(id));
      const who = f.names.join(', ');
      const summary =
        name === 'alert' ? `alert ${f.alertType ?? '(no type)'}${who ? ` (${who})` : ''}`
        : name === 'ike-updown' ? `${who}: IKE SA ${f.up ? 'up' : 'down'}`
        : name === 'child-updown' ? `${who}: CHILD SA ${f.up ? 'up' : 'down'}`
        : name === 'ike-update' ? `${who}: IKE SA endpoints changing`
        : `${who}: ${name === 'ike-rekey' ? 'IKE' : 'CHILD'} SA rekeyed`;
      const type = name.endsWith('-updown') ? `${name.slice(0, -'-updown'.length)}-${f.up ? 'up' : 'down'}` : name;
      this.sink.event({ source: this.id, type, summary });
    });
    const alerted = reasonOfAlert(f.alertType, f.names);
    if (alerted) for (const n of alerted.conns) this.failedBecause(n, alerted.code);
    for (const n of f.names) this.staleNames.add(n);
    void this.rereadStale();
  }

  /** A connection's negotiation failed: its lastReason, and an event once per failure (one failure logs several lines). */
  private failedBecause(conn: string, code: ViciFailureReason): void {
    const now = Date.now();
    const last = this.reasons.get(conn);
    const lastReason = { code, time: now };
    this.reasons.set(conn, lastReason);
    this.applyEvent(() => {
      this.sink.patch('vici-conn', conn, { lastReason });
      if (last?.code !== code || now - last.time > 10_000) this.sink.event({ source: this.id, type: 'negotiation-failed', summary: `${conn}: ${VICI_FAILURE_WORDS[code]}`, ref: `vici-conn:${conn}` });
    });
  }

  private dropIke(key: string): void {
    if (this.ikes.delete(key)) this.sink.remove('vici-ike', key);
  }

  private dropChild(key: string): void {
    if (this.children.delete(key)) this.sink.remove('vici-child', key);
  }

  /** Re-read the connections events named (one at a time; names that come meanwhile join the next round). */
  private async rereadStale(): Promise<void> {
    if (this.rereading) return;
    this.rereading = true;
    const gen = this.generation;
    try {
      while (this.staleNames.size && gen === this.generation) {
        const [name] = this.staleNames;
        this.staleNames.delete(name!);
        const sas = await this.listSas({ ike: name });
        if (gen !== this.generation) return;
        this.applyEvent(() => this.replaceConnectionSas(name!, sas));
      }
    } catch (err) {
      // The connection's failure has its own path (lost → stale, reconnect, full read); a decode error was counted.
      this.log.debug({ source: this.id, err: String(err) }, 'vici: re-reading after an event failed');
    } finally {
      this.rereading = false;
    }
  }

  /** The IKE and CHILD SAs of one connection become exactly those read. */
  private replaceConnectionSas(name: string, sas: SaListing): void {
    const ikes = new Set(sas.ikes.map(ikeKey));
    const children = new Set(sas.children.map(childKey));
    for (const [k, i] of [...this.ikes]) if (i.name === name && !ikes.has(k)) this.dropIke(k);
    for (const [k, c] of [...this.children]) if (c.ikeName === name && !children.has(k)) this.dropChild(k);
    for (const i of sas.ikes) this.putIke(i);
    for (const c of sas.children) this.putChild(c);
  }

  private putIke(i: ViciIkeSa): void {
    this.ikes.set(ikeKey(i), i);
    this.sink.upsert('vici-ike', ikeKey(i), i);
  }

  private putChild(c: ViciChildSa): void {
    this.children.set(childKey(c), c);
    this.sink.upsert('vici-child', childKey(c), c);
  }
}

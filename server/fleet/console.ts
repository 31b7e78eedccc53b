// The fleet console's side of NATS (`sascope serve --fleet URL`, docs/fleet.md): every host's newest
// snapshot, then its deltas from the snapshot's position, into ONE model that the hub serves. The console
// reads no kernel of its own: what it shows is the fleet. A host's rows carry `host` and keys
// "<host>/<its key>"; one `host` row per host says how it is heard from (KV sascope-alive heartbeats:
// up / stale / unreachable, or mismatch for a protocol version this console does not know). Everything
// comes from NATS: a restarted console rebuilds the fleet from the buckets and the stream alone.
import type { NatsConnection } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import type { Model } from '../model/model.ts';
import type { Logger } from '../log.ts';
import type { FleetSettings } from '../config.ts';
import { hostKey, type FleetHost, type HostState } from '../wire/fleet.ts';
import type { Alarm } from '../wire/tunnels.ts';
import type { EntityKind } from '../wire/protocol.ts';
import {
  AGENT_KINDS, ALIVE_BUCKET, AliveRecord, BUCKET_OPTIONS, CommandReply, DeltaBatch, FLEET_PROTO, HEADER, HOST_NAME, HOSTS_BUCKET, HostRecord, KNOWN_PROTOS, MAX_MESSAGE_BYTES, STREAM,
  commandSubject, hostSubject, readSnapshot, parseChunkHeader, protoOf, snapHeader, streamConfig, commandName, type CommandRequest, type HostCommand, type FleetDelta, type SnapshotDocument,
} from './protocol.ts';

/** Kinds a host row counts. */
const COUNTED = ['sa', 'tunnel', 'alarm', 'policy'] as const;
type Counted = (typeof COUNTED)[number];
const isCounted = (k: EntityKind): k is Counted => (COUNTED as readonly string[]).includes(k);

/** An agent that has not answered a command within this long is taken as not answering. */
const COMMAND_TIMEOUT_MS = 10_000;

/** Snapshot rows applied between turns of the event loop. */
const APPLY_SLICE = 2000;

/** A snapshot's chunks that do not all arrive within this long are gone (max age) or not there yet. */
const SNAPSHOT_FETCH_MS = 30_000;

/** Why a message from a host was dropped (counted on its row and in /metrics; logged the first time). */
class Dropped extends Error {}

/** One host as the console follows it. */
class HostFeed {
  /** The host record whose snapshot the rows come from, and the agent seq they are current at. */
  record?: HostRecord;
  last = 0;
  /** Bumped whenever what is being read changes (a new snapshot): older async work sees it and stops. */
  generation = 0;
  deltas?: ConsumerMessages;
  /** The stream sequence of the newest delta message read: a new connection goes on after it. */
  streamSeq = 0;
  /** The newest heartbeat. */
  alive?: AliveRecord;
  /** When NATS stored the newest heartbeat or host record (the server's clock: a console started late is not fooled by old values); 0: none yet. */
  heardAt = 0;
  state: HostState = 'up';
  since = Date.now();
  /** Set while the rows cannot be trusted or are missing (a hole, a snapshot that could not be read, another protocol version). */
  problem?: string;
  mismatch = false;
  dropped = 0;
  /** Failed reads of the current snapshot in a row (the retry's backoff), and the retry's timer. */
  readFailures = 0;
  retry?: NodeJS.Timeout;
  counts: Record<Counted, number> = { sa: 0, tunnel: 0, alarm: 0, policy: 0 };
  constructor(readonly host: string) {}
}

export interface FleetConsoleOptions {
  settings: FleetSettings;
  /** How often host states are re-evaluated (ms; default 1000). */
  tickMs?: number;
}

export class FleetConsole {
  private readonly hosts = new Map<string, HostFeed>();
  private nc?: NatsConnection;
  private js?: JetStreamClient;
  private hostsKv?: KV;
  private readonly watchers: Array<{ stop(): void }> = [];
  private readonly tick: NodeJS.Timeout;
  private stopped = false;
  /** Messages dropped as malformed or oversized, all hosts (and those naming no valid host). */
  droppedTotal = 0;

  constructor(private readonly model: Model, private readonly log: Logger, private readonly opts: FleetConsoleOptions) {
    this.tick = setInterval(() => this.evaluate(), opts.tickMs ?? 1000);
    this.tick.unref();
  }

  /**
   * Read the fleet over this connection, at its start and after every reconnect: the stream and buckets
   * (created when absent), each host's deltas from after the last message read (no gap), and a watch of both
   * buckets. The client's consumers would find their way back after a server restart by themselves, but
   * only once their heartbeats are missed (tens of seconds): started anew they go on at once.
   */
  async attach(nc: NatsConnection): Promise<void> {
    this.nc = nc;
    for (const w of this.watchers.splice(0)) w.stop();
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add(streamConfig()).catch(async () => jsm.streams.update(STREAM, streamConfig()));
    this.js = jetstream(nc);
    const kvm = new Kvm(this.js);
    this.hostsKv = await kvm.create(HOSTS_BUCKET, BUCKET_OPTIONS);
    const aliveKv = await kvm.create(ALIVE_BUCKET, BUCKET_OPTIONS);
    for (const f of this.hosts.values()) {
      f.deltas?.stop();
      if (f.record && !f.problem) void this.follow(f, f.record, ++f.generation, f.streamSeq + 1);
    }
    this.watch(this.hostsKv, (e) => this.onHostRecord(e));
    this.watch(aliveKv, (e) => this.onAlive(e));
  }

  private watch(kv: KV, onEntry: (e: KvEntry) => void): void {
    void kv.watch({ key: '>' }).then(async (it) => {
      this.watchers.push(it);
      for await (const e of it) {
        if (this.stopped) break;
        try {
          onEntry(e);
        } catch (err) {
          this.log.error({ source: 'fleet', bucket: e.bucket, key: e.key, err: String(err) }, 'fleet: handling a bucket entry failed');
        }
      }
    }).catch((err: unknown) => this.log.error({ source: 'fleet', err: String(err) }, 'fleet: watching a bucket failed'));
  }

  private feed(host: string): HostFeed {
    let f = this.hosts.get(host);
    if (!f) {
      this.hosts.set(host, (f = new HostFeed(host)));
      this.log.info({ host }, `fleet: host ${host} found`);
    }
    return f;
  }

  /**
   * A value from a bucket or the stream: JSON of a protocol this console knows, else Dropped, or 'mismatch'
   * for another version — which a host record or heartbeat (`f`) makes the host's state; a delta of another
   * version (an old boot's, say) is only not applied.
   */
  private parse<T>(f: HostFeed | undefined, data: Uint8Array, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } } }): T | 'mismatch' {
    if (data.length > MAX_MESSAGE_BYTES) throw new Dropped(`${data.length} bytes, over ${MAX_MESSAGE_BYTES}`);
    let v: unknown;
    try {
      v = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.length).toString('utf8'));
    } catch {
      throw new Dropped('not JSON');
    }
    const proto = protoOf(v);
    if (proto !== undefined && !KNOWN_PROTOS.includes(proto)) {
      if (f) this.mismatch(f, proto);
      return 'mismatch';
    }
    const r = schema.safeParse(v);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new Dropped(`not a valid message: ${issue ? `${issue.path.map(String).join('.') || 'message'}: ${issue.message}` : 'unknown'}`);
    }
    return r.data;
  }

  private drop(f: HostFeed | undefined, where: string, err: unknown): void {
    if (!(err instanceof Dropped)) throw err;
    this.droppedTotal++;
    if (f) f.dropped++;
    // The first of a host's drops at warn (with why), the rest at debug: a flood must not flood the log.
    const first = f ? f.dropped === 1 : this.droppedTotal === 1;
    this.log[first ? 'warn' : 'debug']({ source: 'fleet', host: f?.host, where }, `fleet: message from ${f ? `host ${f.host}` : 'an unknown host'} on ${where} dropped: ${err.message}`);
    if (f) this.publishHost(f);
  }

  private onHostRecord(e: KvEntry): void {
    if (!HOST_NAME.test(e.key)) return this.drop(undefined, `${HOSTS_BUCKET}/${e.key}`, new Dropped('the key is not a host name'));
    const f = this.feed(e.key);
    if (e.operation !== 'PUT') return this.forget(f);
    f.heardAt = Math.max(f.heardAt, e.created.getTime());
    try {
      const rec = this.parse(f, e.value, HostRecord);
      if (rec === 'mismatch') return;
      if (rec.host !== f.host) throw new Dropped(`names host ${rec.host}`);
      f.mismatch = false;
      // The newest snapshot of the boot the rows already follow, not ahead of them: nothing to fetch.
      if (!f.problem && f.record?.boot === rec.boot && rec.snap.seq <= f.last) return void (f.record = rec);
      void this.load(f, rec);
    } catch (err) {
      this.drop(f, `${HOSTS_BUCKET}/${e.key}`, err);
    }
  }

  private onAlive(e: KvEntry): void {
    if (!HOST_NAME.test(e.key) || e.operation !== 'PUT') return;
    const f = this.feed(e.key);
    try {
      const rec = this.parse(f, e.value, AliveRecord);
      if (rec === 'mismatch') return;
      if (rec.host !== f.host) throw new Dropped(`names host ${rec.host}`);
      f.alive = rec;
      f.heardAt = Math.max(f.heardAt, e.created.getTime());
      this.evaluate(f);
    } catch (err) {
      this.drop(f, `${ALIVE_BUCKET}/${e.key}`, err);
    }
  }

  /** An agent of a protocol version this console does not know: its rows are not applied (and old ones dropped). */
  private mismatch(f: HostFeed, proto: number): void {
    if (f.mismatch) return;
    f.mismatch = true;
    f.generation++;
    f.deltas?.stop();
    f.record = undefined;
    f.problem = `the agent speaks fleet protocol ${proto}; this console knows ${KNOWN_PROTOS.join(', ')}`;
    this.log.warn({ source: 'fleet', host: f.host, proto }, `fleet: host ${f.host}: ${f.problem}`);
    this.dropRows(f);
    this.evaluate(f);
  }

  /** The host record was deleted: the host leaves the console. */
  private forget(f: HostFeed): void {
    f.generation++;
    f.deltas?.stop();
    this.dropRows(f);
    this.model.remove('alarm', hostKey(f.host, 'host'));
    this.model.remove('host', f.host);
    this.hosts.delete(f.host);
  }

  /** Take the snapshot a host record points to, then follow the deltas from there. */
  private async load(f: HostFeed, rec: HostRecord): Promise<void> {
    const gen = ++f.generation;
    f.deltas?.stop();
    f.deltas = undefined;
    let doc: SnapshotDocument;
    try {
      doc = await this.fetchSnapshot(f, rec);
    } catch (err) {
      if (gen !== f.generation || this.stopped) return;
      // Read again (2 s doubling to 60 s) rather than wait for the agent's next snapshot, minutes away:
      // 200 agents starting at once made reads time out and left hosts empty for snapshotSeconds.
      const ms = Math.min(60_000, 2000 * 2 ** Math.min(f.readFailures++, 5));
      f.problem = `its snapshot ${rec.boot}.${rec.snap.seq} could not be read (${err instanceof Error ? err.message : String(err)}): trying again in ${ms / 1000} s`;
      if (err instanceof Dropped) this.drop(f, hostSubject(f.host, 'snap'), err);
      this.log.warn({ source: 'fleet', host: f.host }, `fleet: host ${f.host}: ${f.problem}`);
      clearTimeout(f.retry);
      f.retry = setTimeout(() => {
        if (gen === f.generation && !this.stopped) void this.load(f, rec);
      }, ms);
      return this.publishHost(f);
    }
    f.readFailures = 0;
    if (gen !== f.generation || this.stopped) return;
    const fresh = f.record?.boot !== rec.boot;
    if (!(await this.applySnapshot(f, doc, gen))) return;
    f.record = rec;
    f.last = doc.seq;
    f.problem = undefined;
    this.log.info({ source: 'fleet', host: f.host, boot: rec.boot, seq: doc.seq, bytes: rec.snap.bytes }, `fleet: host ${f.host}: ${fresh ? 'snapshot of a new boot' : 'snapshot'} taken at seq ${doc.seq}`);
    this.publishHost(f);
    f.streamSeq = rec.snap.firstStreamSeq - 1;
    await this.follow(f, rec, gen, rec.snap.firstStreamSeq);
  }

  /** The chunks of one snapshot: the next `chunks` messages on the host's snap subject from firstStreamSeq. */
  private async fetchSnapshot(f: HostFeed, rec: HostRecord): Promise<SnapshotDocument> {
    const c = await this.js!.consumers.get(STREAM, { filter_subjects: hostSubject(f.host, 'snap'), deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: rec.snap.firstStreamSeq });
    const want = snapHeader(rec.boot, rec.snap.seq);
    const chunks: Uint8Array[] = [];
    const it = await c.fetch({ max_messages: rec.snap.chunks, expires: SNAPSHOT_FETCH_MS });
    for await (const m of it) {
      const chunk = parseChunkHeader(m.headers?.get(HEADER.chunk));
      if (m.headers?.get(HEADER.snap) !== want || !chunk || chunk.i !== chunks.length || chunk.n !== rec.snap.chunks) {
        throw new Error(`stream message ${m.seq} is not chunk ${chunks.length}/${rec.snap.chunks} of snapshot ${want}`);
      }
      chunks.push(m.data);
      if (chunks.length === rec.snap.chunks) break;
    }
    if (chunks.length < rec.snap.chunks) throw new Error(`${chunks.length} of its ${rec.snap.chunks} chunks are on the stream`);
    let doc: SnapshotDocument;
    try {
      doc = await readSnapshot(chunks, () => new Promise((resolve) => setImmediate(resolve)));
    } catch (err) {
      throw new Dropped(`its chunks do not make a snapshot document: ${err instanceof Error ? err.message.slice(0, 200) : String(err)}`);
    }
    if (doc.host !== f.host || doc.boot !== rec.boot || doc.seq !== rec.snap.seq) throw new Dropped(`the document is ${doc.host} ${doc.boot}.${doc.seq}, the record says ${f.host} ${want}`);
    return doc;
  }

  /**
   * The host's rows become exactly the snapshot's, APPLY_SLICE rows at a time (a 100k-SA host does not hold
   * the event loop, nor the other hosts): unchanged rows stay silent, other hosts' rows are not touched.
   * False when a newer snapshot of the host took over meanwhile (it finishes the job).
   */
  private async applySnapshot(f: HostFeed, doc: SnapshotDocument, gen: number): Promise<boolean> {
    let n = 0;
    for (const kind of AGENT_KINDS) {
      const rows = doc.entities[kind] ?? [];
      const seen = new Set<string>();
      for (const r of rows) {
        const key = hostKey(f.host, String(r['key']));
        seen.add(key);
        this.model.upsert(kind, key, { ...r, host: f.host });
        if (++n % APPLY_SLICE === 0) {
          await new Promise((resolve) => setImmediate(resolve));
          if (gen !== f.generation || this.stopped) return false;
        }
      }
      this.removeRows(f, kind, seen);
      if (isCounted(kind)) f.counts[kind] = rows.length;
    }
    return true;
  }

  /** The host's rows of a kind but those kept (its `host` alarm is the console's own, never among them). */
  private removeRows(f: HostFeed, kind: EntityKind, keep?: ReadonlySet<string>): void {
    const hostAlarm = hostKey(f.host, 'host');
    for (const r of this.model.list(kind) as Array<{ key: string; host?: string }>) if (r.host === f.host && r.key !== hostAlarm && !keep?.has(r.key)) this.model.remove(kind, r.key);
  }

  private dropRows(f: HostFeed): void {
    for (const kind of AGENT_KINDS) this.removeRows(f, kind);
    for (const k of COUNTED) f.counts[k] = 0;
  }

  /** The host's delta subject from a stream sequence on: the snapshot's first (earlier changes are in it), or after the last one read. */
  private async follow(f: HostFeed, rec: HostRecord, gen: number, fromStreamSeq: number): Promise<void> {
    try {
      const c = await this.js!.consumers.get(STREAM, { filter_subjects: hostSubject(f.host, 'delta'), deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromStreamSeq });
      if (gen !== f.generation) return;
      const msgs = await c.consume();
      f.deltas = msgs;
      for await (const m of msgs) {
        if (gen !== f.generation || this.stopped) break;
        this.onDelta(f, m, rec);
      }
    } catch (err) {
      if (gen !== f.generation || this.stopped) return;
      f.problem = `reading its deltas failed (${String(err)})`;
      this.log.warn({ source: 'fleet', host: f.host }, `fleet: host ${f.host}: ${f.problem}`);
      this.publishHost(f);
    }
  }

  private onDelta(f: HostFeed, m: JsMsg, rec: HostRecord): void {
    f.streamSeq = m.seq;
    let b;
    try {
      b = this.parse(undefined, m.data, DeltaBatch);
      if (b === 'mismatch') return;
      if (b.host !== f.host) throw new Dropped(`names host ${b.host}`);
    } catch (err) {
      return this.drop(f, m.subject, err);
    }
    // A change it published is heard from it too (FleetHost.lastSeen): a host back after a silence is up with its first delta, not its next heartbeat.
    const at = m.time.getTime();
    if (at > f.heardAt) {
      f.heardAt = at;
      if (f.state !== 'up') this.evaluate(f);
    }
    if (b.boot !== rec.boot || b.through <= f.last) return; // another boot (its host record decides), or in the snapshot already
    if (b.from > f.last + 1) return this.hole(f, `its deltas jump from seq ${f.last} to ${b.from}`);
    for (const d of b.deltas) if (d.seq > f.last) this.apply(f, d);
    f.last = b.through;
  }

  private apply(f: HostFeed, d: FleetDelta): void {
    const key = hostKey(f.host, d.key);
    const had = isCounted(d.kind) && this.model.get(d.kind, key) !== undefined;
    if (d.op === 'upsert') this.model.upsert(d.kind, key, { ...d.value, host: f.host });
    else this.model.remove(d.kind, key);
    if (isCounted(d.kind)) f.counts[d.kind] += (d.op === 'upsert' ? 1 : 0) - (had ? 1 : 0);
  }

  /** Something is missing between the snapshot and a batch: the host's newest snapshot, or the next one it writes. */
  private hole(f: HostFeed, why: string): void {
    f.generation++;
    f.deltas?.stop();
    f.problem = `${why}: waiting for a fresh snapshot`;
    this.log.warn({ source: 'fleet', host: f.host }, `fleet: host ${f.host}: ${f.problem}`);
    this.publishHost(f);
    const held = f.record;
    void this.hostsKv?.get(f.host).then((e) => {
      if (!e || e.operation !== 'PUT' || f.problem === undefined) return;
      const rec = HostRecord.safeParse(JSON.parse(e.string()));
      // Only a newer snapshot can fill the hole; else the watch brings the agent's next one.
      if (rec.success && (rec.data.boot !== held?.boot || rec.data.snap.seq > f.last)) void this.load(f, rec.data);
    }).catch((err: unknown) => this.log.debug({ source: 'fleet', host: f.host, err: String(err) }, 'fleet: reading the host record after a hole failed'));
  }

  /**
   * An operator action on a host: NATS request/reply on its command subject (docs/fleet.md "Commands"); the
   * caller checked the operator role. The answer is the agent's, its row as the console names it.
   */
  async command(host: string, command: HostCommand, by: string): Promise<{ started: true; row: unknown } | { started: false; message: string }> {
    if (!this.hosts.has(host)) return { started: false, message: `no host ${host} in this fleet` };
    if (!this.nc || this.nc.isClosed()) return { started: false, message: 'not connected to NATS' };
    let reply: unknown;
    try {
      const request: CommandRequest = { proto: FLEET_PROTO, by, ...(typeof command === 'string' ? {} : { target: command.target }) };
      const m = await this.nc.request(commandSubject(host, commandName(command)), JSON.stringify(request), { timeout: COMMAND_TIMEOUT_MS });
      reply = m.json();
    } catch (err) {
      return { started: false, message: `${host} did not answer (${err instanceof Error ? err.message : String(err)})` };
    }
    const r = CommandReply.safeParse(reply);
    if (!r.success || r.data.host !== host) return { started: false, message: `${host} answered something that is not a command reply` };
    if (!r.data.started) return { started: false, message: `${host}: ${r.data.message}` };
    const row = r.data.row as { key?: unknown } | null;
    return { started: true, row: row && typeof row === 'object' ? { ...row, key: hostKey(host, String(row.key)), host } : row };
  }

  /** Host states from the heartbeats' age: up, stale past staleSeconds, unreachable past unreachableSeconds. */
  private evaluate(only?: HostFeed): void {
    const now = Date.now();
    const { staleSeconds, unreachableSeconds } = this.opts.settings;
    for (const f of only ? [only] : this.hosts.values()) {
      const silent = (now - f.heardAt) / 1000;
      const state: HostState = f.mismatch ? 'mismatch' : silent >= unreachableSeconds ? 'unreachable' : silent >= staleSeconds ? 'stale' : 'up';
      if (state !== f.state) {
        this.log[state === 'up' ? 'info' : 'warn']({ source: 'fleet', host: f.host, state }, `fleet: host ${f.host} is ${state}`);
        f.state = state;
        f.since = now;
      }
      this.hostAlarm(f, silent);
      this.publishHost(f);
    }
  }

  private hostAlarm(f: HostFeed, silent: number): void {
    const key = hostKey(f.host, 'host');
    if (f.state !== 'stale' && f.state !== 'unreachable') return this.model.remove('alarm', key);
    const unreachable = f.state === 'unreachable';
    const heard = `nothing heard for ${Math.round(silent)} s`;
    const alarm: Alarm & { host: string } = {
      key, host: f.host, type: unreachable ? 'host-unreachable' : 'host-stale', severity: unreachable ? 'critical' : 'warning', ref: `host:${f.host}`,
      summary: `${f.host} ${unreachable ? 'unreachable' : 'stale'}: ${heard}`, since: f.since, threshold: unreachable ? this.opts.settings.unreachableSeconds : this.opts.settings.staleSeconds,
    };
    const held = this.model.get('alarm', key) as Alarm | undefined;
    // The summary's seconds would change every tick: an alarm row changes when its type does.
    if (held?.type !== alarm.type) this.model.upsert('alarm', key, alarm);
  }

  private publishHost(f: HostFeed): void {
    const a = f.alive;
    const row: FleetHost = {
      key: f.host, host: f.host, state: f.state, lastSeen: f.heardAt, since: f.since,
      proto: f.record?.proto ?? a?.proto ?? 0, agentVersion: f.record?.agentVersion ?? '', boot: f.record?.boot ?? a?.boot ?? '', seq: f.last,
      counts: { ...f.counts }, sourcesNotOk: a?.sources.notOk ?? [], dropped: f.dropped,
      ...(f.problem ? { reason: f.problem } : !f.record ? { reason: 'waiting for its first snapshot' } : {}),
    };
    this.model.upsert('host', f.host, row);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.tick);
    for (const f of this.hosts.values()) {
      f.generation++;
      f.deltas?.stop();
      clearTimeout(f.retry);
    }
    for (const w of this.watchers) w.stop();
  }
}

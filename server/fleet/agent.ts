// `sascope agent`: the host's model published to NATS JetStream (docs/fleet.md). Every model change gets
// the next seq of this boot; changes go out as delta batches on the host's delta subject, one publish at a
// time (what changes while one waits for its ack is the next batch), each with a message id so a
// republish is deduplicated. A snapshot (byte chunks on the snap subject, then the host record in KV)
// is written once the kernel sources are ready, after every reconnect, and every fleet.snapshotSeconds
// when something changed. A heartbeat goes to KV every fleet.heartbeatSeconds. Losing NATS loses nothing
// of the kernel view: the sources keep the model, and a fresh snapshot follows the reconnect.
import { headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { Model, ModelChange } from '../model/model.ts';
import type { Logger } from '../log.ts';
import type { SourceStatus } from '../wire/entities.ts';
import { errorWords } from '../sys/errno.ts';
import { NatsLink, natsWords, reconnectDelayMs, type NatsSettings } from './nats.ts';
import {
  ALIVE_BUCKET, BUCKET_OPTIONS, CHUNK_BYTES, FLEET_PROTO, HEADER, HOSTS_BUCKET, SNAPSHOT_REFRESH_S, STREAM, chunkHeader, deltaMessages, deltaMsgId, hostSubject, newBootId, snapHeader, snapMsgId, streamConfig, writeSnapshot, ChunkWriter,
  COMMAND_ACTIONS, CommandRequest, commandOfSubject, commandSubject, protoOf, KNOWN_PROTOS,
  type AliveRecord, type CommandAction, type CommandReply, type HostRecord,
} from './protocol.ts';
import { LatestPerEntity } from '../wire/coalesce.ts';

/** What an operator action gives back: started with its row, or not (already running) with the reason. */
export type ActionStart = { started: true; row: unknown } | { started: false; message: string };

export interface AgentOptions {
  host: string;
  agentVersion: string;
  /** What the snapshot says of this process (as the hub's). */
  server: { version: string; hostname: string; netns: string };
  heartbeatSeconds: number;
  snapshotSeconds: number;
  /** Resolves when the kernel sources have done their first dumps: the first snapshot waits for it. */
  ready: Promise<void>;
  /** Largest chunk / delta message (default 512 KiB; lowered to fit the server's max_payload). */
  chunkBytes?: number;
  /** Entities with changes kept while NATS is away; past it they are dropped (the snapshot after the reconnect has them). */
  maxPendingDeltas?: number;
  /** The operator actions a console may ask for (sascope.v1.cmd.<host>.<action>, request/reply), with the request (who, a vici-* target). */
  commands?: Record<CommandAction, (req: CommandRequest) => ActionStart>;
}

const ACK_TIMEOUT_MS = 10_000;
/** Room for headers under the server's max_payload. */
const HEADER_ROOM = 4096;

export class FleetAgent {
  readonly boot = newBootId();
  readonly link: NatsLink;
  private seq = 0;
  /**
   * Changes not yet published: the latest per entity (kind and key), with its seq, in seq order (a change
   * moves its entity to the end), and the first seq not yet published. Rows are the model's wire rows:
   * never mutated, so kept as they are.
   */
  private pending = new LatestPerEntity<ModelChange & { seq: number }>(1);
  /** A snapshot is taken before any delta is sent: changes before the first one are in it. */
  private firstSnapshotDone = false;
  private needSnapshot = true;
  private lastSnapshot = { seq: -1, at: 0 };
  private sourcesReady = false;
  private pumping = false;
  private stopped = false;
  /** JetStream and the buckets while connected with the stream and buckets in place; gen counts connections. */
  private js: JetStreamClient | undefined;
  private hostsKv: KV | undefined;
  private aliveKv: KV | undefined;
  private gen = 0;
  /** The connection our command subscription is on (the client renews it across reconnects by itself). */
  private commandsOn: NatsConnection | undefined;
  private chunkBytes: number;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubscribe: () => void;
  /** Rejecters of the publishes waiting for an ack: a lost connection ends their wait (see publish). */
  private readonly awaitingAck = new Set<(err: Error) => void>();
  /** Waiters for JetStream to be usable again after a loss. */
  private readonly awaitingLink = new Set<() => void>();
  /** Publishes that failed and were tried again (the test reads it; the log says why). */
  retries = 0;

  constructor(private readonly model: Model, settings: NatsSettings, private readonly log: Logger, private readonly opts: AgentOptions) {
    this.chunkBytes = opts.chunkBytes ?? CHUNK_BYTES;
    this.unsubscribe = model.onChange((c) => this.onChange(c));
    this.link = new NatsLink(model, settings, log, { connected: (nc, gen) => this.connected(nc, gen), disconnected: () => this.disconnected() });
    void opts.ready.then(() => {
      this.sourcesReady = true;
      this.kick();
    });
  }

  start(): void {
    this.link.start();
    const heartbeat = setInterval(() => void this.heartbeat(), this.opts.heartbeatSeconds * 1000);
    const snapshots = setInterval(() => this.snapshotDue(), Math.min(this.opts.snapshotSeconds, 30) * 1000);
    this.timers.push(heartbeat, snapshots);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeLinkWaiters();
    for (const t of this.timers) clearInterval(t);
    this.unsubscribe();
    await this.link.stop();
  }

  /** The newest seq of this boot (every model change counted). */
  get currentSeq(): number {
    return this.seq;
  }

  private onChange(c: ModelChange): void {
    const seq = ++this.seq;
    if (!this.firstSnapshotDone) return;
    this.pending.add({ seq, ...c });
    if (this.pending.size > (this.opts.maxPendingDeltas ?? 200_000)) {
      // NATS is away (or far behind) while events pile up: a snapshot replaces it all; a console sees the hole and takes it.
      this.dropPending();
      this.needSnapshot = true;
    }
    this.kick();
  }

  /** Forget what is pending: the next change starts the next batch (after a snapshot that has them all). */
  private dropPending(): void {
    this.pending = new LatestPerEntity(this.seq + 1);
  }

  private snapshotDue(): void {
    const age = Date.now() - this.lastSnapshot.at;
    if ((age >= this.opts.snapshotSeconds * 1000 && this.seq !== this.lastSnapshot.seq) || age >= SNAPSHOT_REFRESH_S * 1000) {
      this.needSnapshot = true;
      this.kick();
    }
  }

  private disconnected(): void {
    this.js = undefined;
    const lost = new Error('the connection went down before JetStream acknowledged it');
    for (const reject of this.awaitingAck) reject(lost);
    this.awaitingAck.clear();
  }

  private wakeLinkWaiters(): void {
    for (const wake of this.awaitingLink) wake();
    this.awaitingLink.clear();
  }

  /** A JetStream request that stops waiting when the connection is lost: its answer went down with the server. */
  private untilLost<T>(request: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.awaitingAck.add(reject);
      request.then(resolve, reject).finally(() => this.awaitingAck.delete(reject));
    });
  }

  /** A connection is up: the stream and buckets in place (made when absent and allowed), then a fresh snapshot. */
  private async connected(nc: NatsConnection, gen: number): Promise<void> {
    this.js = undefined;
    const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    this.chunkBytes = Math.min(this.opts.chunkBytes ?? CHUNK_BYTES, maxPayload - HEADER_ROOM);
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.info(STREAM).catch(async (err: unknown) => {
        if (!(err instanceof Error && err.name === 'StreamNotFoundError')) throw err;
        this.log.info({ source: 'nats', stream: STREAM }, `nats: creating stream ${STREAM}`);
        await jsm.streams.add(streamConfig());
      });
      const kvm = new Kvm(nc);
      const bucket = (name: string) => kvm.open(name).then(async (kv) => (await kv.status(), kv)).catch(() => kvm.create(name, BUCKET_OPTIONS));
      const [hosts, alive] = await Promise.all([bucket(HOSTS_BUCKET), bucket(ALIVE_BUCKET)]);
      if (this.stopped || this.link.connection !== nc) return;
      this.hostsKv = hosts;
      this.aliveKv = alive;
    } catch (err) {
      const words = natsWords(err);
      const reason = `stream ${STREAM} or buckets ${HOSTS_BUCKET}/${ALIVE_BUCKET} not usable: ${words}${/permissions/.test(words) ? '' : ' (start the console first, or allow this identity to create them)'}`;
      this.log.warn({ source: 'nats', err: words }, `nats: ${reason}`);
      this.link.trouble(reason);
      const retry = setTimeout(() => {
        if (!this.stopped && this.link.connection === nc) void this.connected(nc, gen);
      }, reconnectDelayMs(3));
      retry.unref();
      return;
    }
    this.link.trouble(undefined);
    if (this.opts.commands && this.commandsOn !== nc) {
      this.commandsOn = nc;
      nc.subscribe(commandSubject(this.opts.host, '*'), { callback: (err, msg) => void (err ? this.log.warn({ source: 'nats', err: natsWords(err) }, `nats: commands: ${natsWords(err)}`) : this.command(msg)) });
    }
    this.js = jetstream(nc, { timeout: ACK_TIMEOUT_MS });
    this.gen = gen;
    this.wakeLinkWaiters();
    this.needSnapshot = true;
    void this.heartbeat();
    this.kick();
  }

  private kick(): void {
    if (!this.pumping && !this.stopped) void this.pump();
  }

  /** One publish at a time, in order: deltas first, then a snapshot when one is due. */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (!this.stopped && this.js && this.sourcesReady) {
        if (this.pending.size > 0 && this.firstSnapshotDone) await this.publishDeltas();
        else if (this.needSnapshot) await this.publishSnapshot();
        else break;
      }
    } catch (err) {
      this.log.error({ source: 'nats', err: String(err) }, 'fleet agent: publishing failed');
    } finally {
      this.pumping = false;
    }
  }

  private headers(extra: Record<string, string> = {}) {
    const h = headers();
    h.set(HEADER.proto, String(FLEET_PROTO));
    for (const [k, v] of Object.entries(extra)) h.set(k, v);
    return h;
  }

  /**
   * Publish until JetStream acknowledges it, with the same message id every time (a copy that did land is
   * then a duplicate, dropped). `sameConnection`: give up (undefined) once the connection changed — a
   * snapshot begun on the old one is begun again, whole. A publish whose connection is lost before its ack
   * is sent again as soon as JetStream is back (waiting out ACK_TIMEOUT_MS for an answer from a server that
   * was killed held the fleet 10 s behind a NATS restart).
   */
  private async publish(subject: string, payload: Uint8Array, msgID: string, extra: Record<string, string>, sameConnection: boolean): Promise<PubAck | undefined> {
    const gen = this.gen;
    for (let attempt = 0; !this.stopped; attempt++) {
      if (sameConnection && this.gen !== gen) return undefined;
      const js = this.js;
      if (!js) {
        await new Promise<void>((wake) => this.awaitingLink.add(wake));
        continue;
      }
      try {
        const ack = await this.untilLost(js.publish(subject, payload, { msgID, headers: this.headers(extra) }));
        this.link.trouble(undefined);
        return ack;
      } catch (err) {
        this.retries++;
        this.log.warn({ source: 'nats', subject, msgID, err: errorWords(err) }, `nats: publish ${msgID}: ${errorWords(err)}`);
        if (attempt > 0) this.link.trouble(`publishing on ${subject}: ${errorWords(err)}`);
      }
      if (this.js) await new Promise((r) => setTimeout(r, reconnectDelayMs(Math.min(attempt, 3))));
    }
    return undefined;
  }

  private async publishDeltas(): Promise<void> {
    const range = { from: this.pending.from, through: this.seq };
    const batch = this.pending.list();
    this.dropPending();
    const { messages, tooBig } = deltaMessages({ host: this.opts.host, boot: this.boot, time: Date.now() }, batch, range, this.chunkBytes);
    if (tooBig) {
      this.log.warn({ source: 'nats', from: range.from }, 'fleet agent: a change is bigger than a NATS message; sending a snapshot instead');
      this.needSnapshot = true;
      return;
    }
    for (const m of messages) await this.publish(hostSubject(this.opts.host, 'delta'), m.payload, deltaMsgId(this.opts.host, this.boot, m.through), {}, false);
  }

  /** The whole model at the current seq, in chunks; then the host record that points at them. */
  private async publishSnapshot(): Promise<void> {
    this.needSnapshot = false;
    const { host } = this.opts;
    const seq = this.seq;
    const time = Date.now();
    // Taken synchronously: every change so far is in it (the pending ones with it), every later one follows it.
    this.dropPending();
    this.firstSnapshotDone = true;
    // The rows are taken now (the model's wire rows are replaced, never mutated); a big model is written
    // over several turns of the event loop, so kernel events go on being read meanwhile.
    const w = new ChunkWriter(this.chunkBytes);
    for (const _ of writeSnapshot(w, { proto: FLEET_PROTO, host, boot: this.boot, seq, time, server: this.opts.server }, (kind) => this.model.list(kind))) await new Promise(setImmediate);
    const chunks = w.end();
    const bytes = w.bytes;
    const n = chunks.length;
    let firstStreamSeq = 0;
    for (let i = 0; i < n; i++) {
      const ack = await this.publish(hostSubject(host, 'snap'), chunks[i]!, snapMsgId(host, this.boot, seq, i), { [HEADER.snap]: snapHeader(this.boot, seq), [HEADER.chunk]: chunkHeader(i, n) }, true);
      if (!ack) return void (this.needSnapshot = true);
      chunks[i] = Buffer.alloc(0); // sent: its memory can go (a 100k-SA snapshot is ~95 MB)
      if (i === 0) firstStreamSeq = ack.seq;
    }
    const record: HostRecord = { proto: FLEET_PROTO, host, boot: this.boot, agentVersion: this.opts.agentVersion, snap: { seq, firstStreamSeq, chunks: n, bytes }, time };
    // Before any later delta goes out: a console that finds a hole reads this record and finds this snapshot.
    const gen = this.gen;
    for (let attempt = 0; ; attempt++) {
      if (this.stopped || this.gen !== gen || !this.hostsKv) return void (this.needSnapshot = true);
      try {
        await this.hostsKv.put(host, JSON.stringify(record));
        break;
      } catch (err) {
        this.log.warn({ source: 'nats', err: errorWords(err) }, `nats: host record: ${errorWords(err)}`);
        await new Promise((r) => setTimeout(r, reconnectDelayMs(Math.min(attempt, 3))));
      }
    }
    this.lastSnapshot = { seq, at: time };
    this.log.info({ source: 'nats', seq, chunks: n, bytes, firstStreamSeq }, `fleet agent: snapshot at seq ${seq} (${n} chunks, ${bytes} bytes)`);
  }

  /** A console's request for an operator action: checked, started, answered (a malformed one is answered too). */
  private command(msg: Msg): void {
    const action = commandOfSubject(msg.subject);
    const head = { proto: FLEET_PROTO, host: this.opts.host, action: action ?? msg.subject.slice(msg.subject.lastIndexOf('.') + 1).slice(0, 64) };
    let reply: CommandReply;
    let body: unknown;
    try {
      body = msg.json();
    } catch {
      body = undefined;
    }
    const req = CommandRequest.safeParse(body);
    const proto = protoOf(body);
    if (!action) reply = { ...head, started: false, refusal: 'unknown-action', message: `unknown action '${head.action}' (known: ${COMMAND_ACTIONS.join(', ')})` };
    else if (proto !== undefined && !KNOWN_PROTOS.includes(proto)) reply = { ...head, started: false, refusal: 'bad-request', message: `protocol version ${proto} is not one this agent knows (${KNOWN_PROTOS.join(', ')})` };
    else if (!req.success) reply = { ...head, started: false, refusal: 'bad-request', message: 'a command request is JSON {proto, by, target?}' };
    else if (action.startsWith('vici-') !== (req.data.target !== undefined)) reply = { ...head, started: false, refusal: 'bad-request', message: `${action} ${req.data.target ? 'takes no target' : 'needs its target ({conn, child?}, {ikeId} or {childId})'}` };
    else {
      this.log.info({ source: 'nats', action, by: req.data.by }, `fleet agent: ${action} asked by ${req.data.by}`);
      try {
        const r = this.opts.commands![action](req.data);
        reply = r.started ? { ...head, started: true, row: r.row } : { ...head, started: false, refusal: 'busy', message: r.message };
      } catch (err) {
        this.log.error({ source: 'nats', action, err: String(err) }, `fleet agent: ${action} failed`);
        reply = { ...head, started: false, refusal: 'failed', message: `${action} failed: ${errorWords(err)}` };
      }
    }
    if (!msg.respond(JSON.stringify(reply))) this.log.warn({ source: 'nats', action }, `fleet agent: ${head.action} came without a reply subject`);
  }

  private async heartbeat(): Promise<void> {
    const kv = this.aliveKv;
    if (!kv || !this.link.connection) return;
    const sources = this.model.list('source') as SourceStatus[];
    const notOk = sources.filter((s) => s.state !== 'ok').map((s) => s.id);
    const record: AliveRecord = { proto: FLEET_PROTO, host: this.opts.host, boot: this.boot, seq: this.seq, time: Date.now(), sources: { ok: sources.length - notOk.length, notOk } };
    try {
      await kv.put(this.opts.host, JSON.stringify(record));
    } catch (err) {
      this.log.warn({ source: 'nats', err: errorWords(err) }, `nats: heartbeat: ${errorWords(err)}`);
    }
  }
}

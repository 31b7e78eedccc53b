// The WebSocket hub: a snapshot, then deltas with a strictly increasing sequence number, batched per
// tick. A client that comes back with its last seq gets what it missed from a bounded ring, or a new
// snapshot. A client may subscribe to topics (entity kinds). A client that does not read has a bounded
// queue: a subscribed client's deltas are first coalesced (one per entity, the latest) while its socket
// is backed up; past maxPendingDeltas — or for a client that never subscribed, past maxBufferedBytes —
// its deltas are dropped and it gets a fresh snapshot once it drains. Never unbounded memory: every
// send to a client, replies included, goes through one bound on its unsent bytes (write()), and a client
// has at most one snapshot (or resume answer) in its socket and one more waiting, the newest request's.
// Client messages are validated and rate-limited (a token bucket per client; a client that goes on past
// the limit is closed with 1008), and the hub takes at most maxClients. The protocol: docs/websocket.md.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { Model, ModelChange } from '../model/model.ts';
import { ClientMessage, ENTITY_KINDS, splitSnapshot, type Delta, type EntityKind, type EntityKinds, type ServerMessage, type Snapshot } from '../wire/protocol.ts';
import { LatestPerEntity } from '../wire/coalesce.ts';
import type { Logger } from '../log.ts';
import { WebSocketLimits } from '../config.ts';

const LIMITS = WebSocketLimits.parse({});

export interface HubOptions {
  version: string;
  hostname: string;
  netns: string;
  /** A fleet console (`serve --fleet`): the snapshot's `server` says how many hosts it knows. */
  fleet?: boolean;
  /** Deltas kept for resume. */
  ringSize?: number;
  heartbeatMs?: number;
  /**
   * Changes are sent at once, each alone, while a token bucket allows (this many in a burst, refilled at
   * immediatePerSecond); past it they go in one batch after the event loop's current phase (setImmediate).
   * A rekey wakes several kernel sockets in one poll phase: with batching alone, its first SA waited for
   * the whole burst to be decoded (~100 ms in the lab under emulation). A dump's thousands of rows still
   * go in batches. Default 8 and 100/s; 0 batches everything. A change sent alone costs a token per client it
   * is written to (the budget is in frames, all clients together): under a storm, 100 clients were each sent a
   * change alone 100 times a second, and a write per client and frame was most of the server's CPU (test/bench/fanout.ts).
   */
  immediateBurst?: number;
  immediatePerSecond?: number;
  /** Bytes a client may have unsent before it is switched to "snapshot when drained". */
  maxBufferedBytes?: number;
  maxPayloadBytes?: number;
  /** Coalesced deltas a backed-up subscribed client may have pending before it gets a snapshot instead. */
  maxPendingDeltas?: number;
  /**
   * Bytes of snapshots and resume answers waiting in sockets, all clients together (one shared by several
   * counted once): past it a request waits for them to leave. Default 512 MiB; at 100k SAs a snapshot is ~160 MB.
   */
  maxCatchUpBytes?: number;
  /** A client whose snapshot has not moved for this long is disconnected (it holds the budget above). Default 60 s. */
  catchUpStallMs?: number;
  /** Clients at most, and how fast each may send: the config's `websocket` (WebSocketLimits, its defaults). */
  maxClients?: number;
  messageBurst?: number;
  messagesPerSecond?: number;
}

/** Close code for a client that went on sending past the rate limit (1008: policy violation, RFC 6455). */
export const CLOSE_RATE_LIMITED = 1008;

/** A token bucket: `burst` at once, refilled at perSecond; 0 burst never gives one. */
class TokenBucket {
  private tokens: number;
  private at = performance.now();
  constructor(private readonly burst: number, private readonly perMs: number) {
    this.tokens = burst;
  }
  /** One more now, if a token is there; it costs `cost` (more than there are: a debt the refill pays first). */
  take(cost = 1): boolean {
    if (this.burst <= 0) return false;
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.at) * this.perMs);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= cost;
    return true;
  }
}

/**
 * The newest `capacity` deltas, oldest first, in a fixed array used round: O(1) per change (an array trimmed
 * from the front moved all 20,000 on every change once full). Their seqs are consecutive (one per change),
 * so a resume finds its place by arithmetic.
 */
export class DeltaRing {
  private readonly slots: Array<Delta | undefined>;
  private start = 0;
  private length = 0;
  constructor(readonly capacity: number) {
    this.slots = new Array<Delta | undefined>(capacity);
  }
  get size(): number {
    return this.length;
  }
  /** The oldest seq kept; undefined when empty. */
  get firstSeq(): number | undefined {
    return this.length ? this.slots[this.start]!.seq : undefined;
  }
  push(d: Delta): void {
    if (this.capacity <= 0) return;
    if (this.length < this.capacity) this.slots[(this.start + this.length++) % this.capacity] = d;
    else {
      this.slots[this.start] = d;
      this.start = (this.start + 1) % this.capacity;
    }
  }
  /** The deltas after seq `since`, oldest first, those `keep` accepts. */
  after(since: number, keep?: (d: Delta) => boolean): Delta[] {
    const out: Delta[] = [];
    const first = this.firstSeq;
    if (first === undefined) return out;
    for (let i = Math.max(0, since + 1 - first); i < this.length; i++) {
      const d = this.slots[(this.start + i) % this.capacity]!;
      if (!keep || keep(d)) out.push(d);
    }
    return out;
  }
}

interface Client {
  ws: WebSocket;
  /** Behind: deltas are not sent until the socket drains, then a snapshot. */
  behind: boolean;
  /** Entity kinds this client wants (undefined: all). */
  topics?: Set<EntityKind>;
  /** Sent `subscribe`: it understands coalesced batches and `from`/`through`. */
  subscribed: boolean;
  /** The last hub seq this client's stream is current at. */
  through: number;
  /** Coalescing while the socket is backed up: latest delta per kind+key, in arrival order. */
  pending?: LatestPerEntity<Delta>;
  drainTimer?: NodeJS.Timeout;
  /** Asked for snapshots in parts (?parts=1): big kinds come SNAPSHOT_PART_ROWS rows at a time. */
  parts?: boolean;
  /** A snapshot or a resume's missed deltas still in the socket's buffer (another one waits, behind, until it is out), and when its unsent bytes last went down. */
  catchUp?: { frames: Buffer[]; buffered: number; movedAt: number };
  /** This client's message rate limit. */
  messages: TokenBucket;
  /** Messages refused by the limit since the last one taken. */
  refused: number;
}

/** Rows per snapshot part: the first part of 100k SAs is ~5 MB, parsed and shown in a fraction of a second. */
export const SNAPSHOT_PART_ROWS = 5000;

/** A message's bytes, as every client that gets it is sent them (a text frame's UTF-8). */
function encode(m: ServerMessage): Buffer {
  return Buffer.from(JSON.stringify(m));
}

function topicKey(c: Client): string {
  return c.topics ? [...c.topics].sort().join(',') : '*';
}

export class Hub {
  private seq = 0;
  private readonly ring: DeltaRing;
  /** Catch-ups made at the current seq, as the bytes sent (see catchUp). */
  private readonly catchUps = new Map<string, Buffer[]>();
  /** Catch-ups in sockets: how many clients hold each, and their bytes counted once. */
  private readonly inFlight = new Map<Buffer[], number>();
  private inFlightBytes = 0;
  private readonly maxCatchUpBytes: number;
  private readonly catchUpStallMs: number;
  private readonly stallWatch: NodeJS.Timeout;
  private batch: Delta[] = [];
  private flushScheduled = false;
  private readonly immediate: TokenBucket;
  private readonly clients = new Set<Client>();
  private readonly wss: WebSocketServer;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly maxBuffered: number;
  private readonly maxPending: number;
  private readonly maxClients: number;
  private readonly messageBurst: number;
  private readonly messagesPerSecond: number;

  constructor(readonly model: Model, private readonly opts: HubOptions, private readonly log: Logger) {
    this.ring = new DeltaRing(opts.ringSize ?? 20_000);
    this.immediate = new TokenBucket(opts.immediateBurst ?? 8, (opts.immediatePerSecond ?? 100) / 1000);
    this.maxClients = opts.maxClients ?? LIMITS.maxClients;
    this.messageBurst = opts.messageBurst ?? LIMITS.messageBurst;
    this.messagesPerSecond = opts.messagesPerSecond ?? LIMITS.messagesPerSecond;
    this.maxBuffered = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.maxPending = opts.maxPendingDeltas ?? 20_000;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayloadBytes ?? 64 * 1024 });
    model.onChange((c) => this.onChange(c));
    this.heartbeat = setInterval(() => this.heartbeatAll(), opts.heartbeatMs ?? 5000);
    this.heartbeat.unref();
    this.maxCatchUpBytes = opts.maxCatchUpBytes ?? 512 * 1024 * 1024;
    this.catchUpStallMs = opts.catchUpStallMs ?? 60_000;
    this.stallWatch = setInterval(() => this.dropStalled(), Math.min(5000, this.catchUpStallMs / 4));
    this.stallWatch.unref();
  }

  /** One kind's rows in wire form (cheaper than a whole snapshot). */
  list<K extends EntityKind>(kind: K): Array<EntityKinds[K]> {
    return this.model.list(kind) as Array<EntityKinds[K]>;
  }

  get currentSeq(): number {
    return this.seq;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** The whole model, or only the given kinds (a subscribed client's snapshot carries just its topics). */
  snapshot(topics?: ReadonlySet<EntityKind>): Snapshot {
    const e = this.model.entities();
    if (topics) for (const k of Object.keys(e) as EntityKind[]) if (!topics.has(k)) delete e[k];
    return {
      type: 'snapshot',
      seq: this.seq,
      time: Date.now(),
      server: { version: this.opts.version, hostname: this.opts.hostname, netns: this.opts.netns, ...(this.opts.fleet ? { fleet: { hosts: this.model.count('host') } } : {}) },
      entities: e as Snapshot['entities'],
      ...(topics ? { topics: [...topics] } : {}),
    };
  }

  private onChange(c: ModelChange): void {
    const d = { seq: ++this.seq, ...c } as Delta;
    this.catchUps.clear();
    this.ring.push(d);
    this.batch.push(d);
    if (!this.flushScheduled) {
      if (this.immediate.take(Math.max(1, this.clients.size))) return this.flush();
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    const time = Date.now();
    const through = batch[batch.length - 1]!.seq;
    // One filtering per distinct topic set and one message per (topics, from): usually one of each, its
    // bytes made once and shared by every socket (ws.send(string) encoded it again for each client).
    const filtered = new Map<string, Delta[]>();
    const encoded = new Map<string, Buffer>();
    for (const c of this.clients) {
      const tk = topicKey(c);
      let deltas = filtered.get(tk);
      if (!deltas) filtered.set(tk, (deltas = c.topics ? batch.filter((d) => c.topics!.has(d.kind)) : batch));
      this.sendDeltas(c, deltas, time, through, encoded, tk);
    }
  }

  private sendDeltas(c: Client, deltas: Delta[], time: number, through: number, encoded: Map<string, Buffer>, tk: string): void {
    if (c.ws.readyState !== WebSocket.OPEN || c.behind) return;
    if (c.pending) return this.coalesce(c, deltas, through);
    if (c.ws.bufferedAmount > (c.subscribed ? this.maxBuffered / 4 : this.maxBuffered)) {
      if (c.subscribed) return this.coalesce(c, deltas, through);
      return this.fallBehind(c, 'ws client is not reading: deltas withheld until it drains, then a snapshot');
    }
    // Nothing on this client's topics: no message; the next one's `from` covers these seqs.
    if (deltas.length === 0) return;
    const from = c.through + 1;
    const k = `${tk}|${from}`;
    let msg = encoded.get(k);
    if (msg === undefined) encoded.set(k, (msg = encode({ type: 'deltas', time, from, through, deltas })));
    c.through = through;
    this.write(c, msg);
  }

  /** Latest delta per entity while the socket is backed up; past maxPending a snapshot replaces them. */
  private coalesce(c: Client, deltas: Delta[], through: number): void {
    if (!c.pending) {
      c.pending = new LatestPerEntity(c.through + 1);
      this.log.debug({ buffered: c.ws.bufferedAmount }, 'ws client is backed up: coalescing its deltas');
      c.drainTimer = setInterval(() => this.drainPending(c), 250);
      c.drainTimer.unref();
    }
    for (const d of deltas) c.pending.add(d);
    c.through = through;
    if (c.pending.size > this.maxPending || c.ws.bufferedAmount > this.maxBuffered) {
      this.fallBehind(c, 'ws client is not reading: coalesced deltas dropped; a snapshot when it drains');
    }
  }

  private drainPending(c: Client): void {
    if (c.ws.readyState !== WebSocket.OPEN) return this.stopDrain(c);
    if (!c.pending || c.ws.bufferedAmount >= this.maxBuffered / 8) return;
    const deltas = c.pending.list();
    const from = c.pending.from;
    this.stopDrain(c);
    this.write(c, encode({ type: 'deltas', time: Date.now(), from, through: c.through, coalesced: true, deltas }));
  }

  private stopDrain(c: Client): void {
    if (c.drainTimer) clearInterval(c.drainTimer);
    c.drainTimer = undefined;
    c.pending = undefined;
  }

  /** Deltas withheld from here on; a snapshot once the socket has drained (and any catch-up in it is out). */
  private fallBehind(c: Client, why: string, level: 'warn' | 'debug' = 'warn'): void {
    this.stopDrain(c);
    if (c.behind) return;
    c.behind = true;
    this.log[level]({ buffered: c.ws.bufferedAmount }, why);
    const check = setInterval(() => {
      if (c.ws.readyState !== WebSocket.OPEN || !c.behind) return clearInterval(check);
      this.catchUpIfDrained(c);
    }, 250);
    check.unref();
  }

  private catchUpIfDrained(c: Client): void {
    if (c.behind && !c.catchUp && this.room(c, this.maxBuffered / 4)) {
      c.behind = false;
      this.sendSnapshot(c);
    }
  }

  /**
   * The one bound on what waits for a client: whether its socket holds no more than `limit` unsent bytes.
   * Every message asks it: deltas and small answers in write(), snapshots and resume answers in catchUp().
   */
  private room(c: Client, limit = this.maxBuffered): boolean {
    return c.ws.readyState === WebSocket.OPEN && c.ws.bufferedAmount <= limit;
  }

  /** Send when there is room; else it is dropped (the callers keep what a client must not lose). A text frame of bytes made once. */
  private write(c: Client, data: Buffer): void {
    if (this.room(c)) c.ws.send(data, { binary: false });
  }

  /** A small answer (pong, error, subscribed): dropped when the client's socket is full — it is not reading. */
  private reply(c: Client, m: ServerMessage): void {
    this.write(c, encode(m));
  }

  /**
   * A snapshot or a resume's missed deltas: one at a time per client. While one is still in its socket, the
   * request waits as the one pending snapshot (made when that is out, so a newer request replaces an older).
   * Made once per `key` while the seq stands, as bytes every socket shares: ten clients that never read hold
   * one copy of a snapshot between them, not ten.
   */
  private catchUp(c: Client, key: string, messages: () => ServerMessage[]): void {
    if (c.catchUp) return this.fallBehind(c, 'ws client asked again while a snapshot is on its way: one more when that is out', 'debug');
    if (!this.room(c, this.maxBuffered / 4)) return this.fallBehind(c, 'ws client is not reading: a snapshot once it drains');
    let frames = this.catchUps.get(key);
    if (!frames) {
      if (this.inFlightBytes >= this.maxCatchUpBytes) return this.fallBehind(c, 'snapshots on their way to other ws clients fill the budget: one when they are out', 'debug');
      frames = messages().map(encode);
      if (this.catchUps.size >= 8) this.catchUps.delete(this.catchUps.keys().next().value!);
      this.catchUps.set(key, frames);
    }
    const holders = this.inFlight.get(frames) ?? 0;
    if (holders === 0) for (const f of frames) this.inFlightBytes += f.length;
    this.inFlight.set(frames, holders + 1);
    c.catchUp = { frames, buffered: Infinity, movedAt: Date.now() };
    // All parts of one snapshot go together, so no delta comes between them: the bound was asked once, above.
    for (const [i, f] of frames.entries()) c.ws.send(f, { binary: false }, i === frames.length - 1 ? () => this.catchUpOut(c) : undefined);
  }

  /** Its catch-up has left the process (or the socket closed): the budget gets its bytes back. */
  private catchUpOut(c: Client): void {
    const frames = c.catchUp?.frames;
    if (!frames) return;
    c.catchUp = undefined;
    const holders = this.inFlight.get(frames)! - 1;
    if (holders > 0) this.inFlight.set(frames, holders);
    else {
      this.inFlight.delete(frames);
      for (const f of frames) this.inFlightBytes -= f.length;
    }
    this.catchUpIfDrained(c);
  }

  /** A client whose snapshot has not moved for catchUpStallMs is not reading at all: let go of it (and of the budget it holds). */
  private dropStalled(): void {
    const now = Date.now();
    for (const c of this.clients) {
      if (!c.catchUp) continue;
      const buffered = c.ws.bufferedAmount;
      if (buffered < c.catchUp.buffered) Object.assign(c.catchUp, { buffered, movedAt: now });
      else if (now - c.catchUp.movedAt >= this.catchUpStallMs) {
        this.log.warn({ buffered }, `ws client closed: its snapshot has not moved for ${Math.round(this.catchUpStallMs / 1000)} s`);
        c.ws.terminate();
      }
    }
  }

  private sendSnapshot(c: Client): void {
    this.stopDrain(c);
    c.through = this.seq;
    this.catchUp(c, `snapshot ${topicKey(c)}${c.parts ? ' parts' : ''}`, () => {
      const snap = this.snapshot(c.topics);
      return c.parts ? splitSnapshot(snap, SNAPSHOT_PART_ROWS) : [snap];
    });
  }

  private heartbeatAll(): void {
    const s = encode({ type: 'heartbeat', time: Date.now(), seq: this.seq });
    for (const c of this.clients) if (!c.behind) this.write(c, s);
  }

  /** What a client that has seen `since` needs: the missed deltas, or a snapshot when they are gone. */
  private resume(c: Client, since: number | undefined): void {
    if (c.behind) return; // it gets a fresh snapshot as soon as it drains
    this.flush(); // pending deltas first, so the answer is in order
    if (since !== undefined && since <= this.seq && !c.pending) {
      const first = this.ring.firstSeq ?? this.seq + 1;
      const from = since + 1;
      c.through = this.seq;
      if (since === this.seq) return this.reply(c, { type: 'deltas', time: Date.now(), from, through: this.seq, deltas: [] });
      if (from >= first) {
        return this.catchUp(c, `deltas ${topicKey(c)} ${since}`, () => [{ type: 'deltas', time: Date.now(), from, through: this.seq, deltas: this.ring.after(since, c.topics && ((d) => c.topics!.has(d.kind))) }]);
      }
    }
    this.sendSnapshot(c);
  }

  /** Topics from `?topics=a,b` or a subscribe message: known kinds, '*' for all. */
  private parseTopics(list: readonly string[]): { topics?: Set<EntityKind>; unknown: string[] } {
    if (list.length === 0 || list.includes('*')) return { unknown: [] };
    const known = new Set<string>(ENTITY_KINDS);
    const unknown = list.filter((t) => !known.has(t));
    return { topics: new Set(list.filter((t) => known.has(t)) as EntityKind[]), unknown };
  }

  /** Take a WebSocket upgrade for the hub's path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.clients.size >= this.maxClients) {
      this.log.warn({ clients: this.clients.size }, 'ws upgrade refused: at the client limit');
      const body = JSON.stringify({ error: { code: 'too-many-clients', message: `this server takes at most ${this.maxClients} WebSocket clients (websocket.maxClients, --max-clients); try again later` } });
      return void socket.end(`HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nRetry-After: 30\r\nConnection: close\r\n\r\n${body}`);
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req));
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    // Changes made before this client came are still in the batch: they go to the others now, not to it (its
    // snapshot, or its resume from the ring, covers them). Otherwise its first message would be those deltas.
    this.flush();
    const c: Client = { ws, behind: false, subscribed: false, through: this.seq, messages: new TokenBucket(this.messageBurst, this.messagesPerSecond / 1000), refused: 0 };
    this.clients.add(c);
    ws.on('close', () => {
      this.stopDrain(c);
      this.catchUpOut(c);
      this.clients.delete(c);
    });
    ws.on('error', (err) => this.log.debug({ err: err.message }, 'ws client error'));
    ws.on('message', (data, isBinary) => this.onClientMessage(c, data, isBinary));
    const params = new URL(req.url ?? '/', 'http://x').searchParams;
    c.parts = params.get('parts') === '1';
    const topicsParam = params.get('topics');
    if (topicsParam !== null) {
      const t = this.parseTopics(topicsParam.split(',').map((x) => x.trim()).filter(Boolean));
      if (t.unknown.length) this.reply(c, { type: 'error', code: 'bad-topic', message: `unknown topic(s) ${t.unknown.join(', ')}; topics are entity kinds: ${ENTITY_KINDS.join(', ')}` });
      c.topics = t.topics;
      c.subscribed = true;
    }
    const since = params.get('since');
    const n = since === null ? undefined : Number(since);
    if (n !== undefined && (!Number.isInteger(n) || n < 0)) {
      this.reply(c, { type: 'error', code: 'bad-since', message: `since must be a non-negative integer, got ${JSON.stringify(since)}` });
      this.resume(c, undefined);
      return;
    }
    this.resume(c, n);
  }

  private onClientMessage(c: Client, data: RawData, isBinary: boolean): void {
    if (c.ws.readyState !== WebSocket.OPEN) return; // closing: what is still in its frames is not read
    if (!c.messages.take()) return this.refuse(c);
    c.refused = 0;
    if (isBinary) return this.reply(c, { type: 'error', code: 'bad-message', message: 'binary frames are not part of the protocol; send JSON text' });
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString());
    } catch {
      return this.reply(c, { type: 'error', code: 'bad-json', message: 'message is not valid JSON' });
    }
    const r = ClientMessage.safeParse(parsed);
    if (!r.success) {
      const issue = r.error.issues[0];
      return this.reply(c, { type: 'error', code: 'bad-message', message: `invalid message: ${issue ? `${issue.path.join('.') || 'message'}: ${issue.message}` : 'unknown'}` });
    }
    const m = r.data;
    if (m.type === 'ping') this.reply(c, { type: 'pong', time: Date.now(), echo: m.echo });
    else if (m.type === 'resume') this.resume(c, m.seq);
    else if (m.type === 'subscribe') {
      const t = this.parseTopics(m.topics);
      if (t.unknown.length) return this.reply(c, { type: 'error', code: 'bad-topic', message: `unknown topic(s) ${t.unknown.join(', ')}; topics are entity kinds: ${ENTITY_KINDS.join(', ')}` });
      this.flush();
      c.topics = t.topics;
      c.subscribed = true;
      this.reply(c, { type: 'subscribed', topics: t.topics ? [...t.topics] : ['*'], seq: this.seq });
      // What it had may lack the new topics: a snapshot of exactly what it now follows (or when behind, once it drains).
      if (!c.behind) this.sendSnapshot(c);
    }
  }

  /** A message over the rate limit: ignored; the first says so, and a client that goes on past a burst more is closed. */
  private refuse(c: Client): void {
    const limit = `${this.messageBurst} messages at once, ${this.messagesPerSecond} a second`;
    if (c.refused++ === 0) return this.reply(c, { type: 'error', code: 'rate-limited', message: `too many messages (at most ${limit}): this one and the next are ignored until the rate drops` });
    if (c.refused <= this.messageBurst) return;
    this.log.warn({ refused: c.refused }, 'ws client closed: it went on past the message rate limit');
    c.ws.close(CLOSE_RATE_LIMITED, `rate limit: at most ${limit}`);
    // A client that does not read never answers the close: let go of it (and what waits for it) soon.
    setTimeout(() => c.ws.terminate(), 2000).unref();
  }

  close(): void {
    clearInterval(this.heartbeat);
    clearInterval(this.stallWatch);
    for (const c of this.clients) c.ws.close(1001, 'server shutting down');
    this.wss.close();
  }
}

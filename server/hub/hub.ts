// The WebSocket hub: a snapshot, then deltas with a strictly increasing sequence number, batched per
// tick. A client that comes back with its last seq gets what it missed from a bounded ring, or a new
// snapshot. A client may subscribe to topics (entity kinds). A client that does not read has a bounded
// queue: a subscribed client's deltas are first coalesced (one per entity, the latest) while its socket
// is backed up; past maxPendingDeltas — or for a client that never subscribed, past maxBufferedBytes —
// its deltas are dropped and it gets a fresh snapshot once it drains. Never unbounded memory.
// Client messages are validated; bad ones get an error back. The protocol: docs/websocket.md.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { Model, ModelChange } from '../model/model.ts';
import { ClientMessage, ENTITY_KINDS, splitSnapshot, type Delta, type EntityKind, type EntityKinds, type ServerMessage, type Snapshot } from '../wire/protocol.ts';
import type { Logger } from '../log.ts';

export interface HubOptions {
  version: string;
  hostname: string;
  netns: string;
  /** Deltas kept for resume. */
  ringSize?: number;
  heartbeatMs?: number;
  /**
   * Changes are sent at once, each alone, while a token bucket allows (this many in a burst, refilled at
   * immediatePerSecond); past it they go in one batch after the event loop's current phase (setImmediate).
   * A rekey wakes several kernel sockets in one poll phase: with batching alone, its first SA waited for
   * the whole burst to be decoded (~100 ms in the lab under emulation). A dump's thousands of rows still
   * go in batches. Default 8 and 100/s; 0 batches everything.
   */
  immediateBurst?: number;
  immediatePerSecond?: number;
  /** Bytes a client may have unsent before it is switched to "snapshot when drained". */
  maxBufferedBytes?: number;
  maxPayloadBytes?: number;
  /** Coalesced deltas a backed-up subscribed client may have pending before it gets a snapshot instead. */
  maxPendingDeltas?: number;
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
  pending?: Map<string, Delta>;
  pendingFrom?: number;
  drainTimer?: NodeJS.Timeout;
  /** Asked for snapshots in parts (?parts=1): big kinds come SNAPSHOT_PART_ROWS rows at a time. */
  parts?: boolean;
}

/** Rows per snapshot part: the first part of 100k SAs is ~5 MB, parsed and shown in a fraction of a second. */
export const SNAPSHOT_PART_ROWS = 5000;

function topicKey(c: Client): string {
  return c.topics ? [...c.topics].sort().join(',') : '*';
}

export class Hub {
  private seq = 0;
  private readonly ring: DeltaRing;
  private batch: Delta[] = [];
  private flushScheduled = false;
  private readonly immediateBurst: number;
  private readonly immediatePerMs: number;
  private tokens: number;
  private tokensAt = 0;
  private readonly clients = new Set<Client>();
  private readonly wss: WebSocketServer;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly maxBuffered: number;
  private readonly maxPending: number;

  constructor(readonly model: Model, private readonly opts: HubOptions, private readonly log: Logger) {
    this.ring = new DeltaRing(opts.ringSize ?? 20_000);
    this.immediateBurst = opts.immediateBurst ?? 8;
    this.immediatePerMs = (opts.immediatePerSecond ?? 100) / 1000;
    this.tokens = this.immediateBurst;
    this.maxBuffered = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.maxPending = opts.maxPendingDeltas ?? 20_000;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayloadBytes ?? 64 * 1024 });
    model.onChange((c) => this.onChange(c));
    this.heartbeat = setInterval(() => this.broadcast({ type: 'heartbeat', time: Date.now(), seq: this.seq }), opts.heartbeatMs ?? 5000);
    this.heartbeat.unref();
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
      server: { version: this.opts.version, hostname: this.opts.hostname, netns: this.opts.netns },
      entities: e as Snapshot['entities'],
      ...(topics ? { topics: [...topics] } : {}),
    };
  }

  private onChange(c: ModelChange): void {
    const d = { seq: ++this.seq, ...c } as Delta;
    this.ring.push(d);
    this.batch.push(d);
    if (!this.flushScheduled) {
      if (this.takeToken()) return this.flush();
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** A token for an immediate send, if the bucket has one. */
  private takeToken(): boolean {
    if (this.immediateBurst <= 0) return false;
    const now = performance.now();
    this.tokens = Math.min(this.immediateBurst, this.tokens + (now - this.tokensAt) * this.immediatePerMs);
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    const time = Date.now();
    const through = batch[batch.length - 1]!.seq;
    // One filtering per distinct topic set and one serialisation per (topics, from): usually one of each.
    const filtered = new Map<string, Delta[]>();
    const json = new Map<string, string>();
    for (const c of this.clients) {
      const tk = topicKey(c);
      let deltas = filtered.get(tk);
      if (!deltas) filtered.set(tk, (deltas = c.topics ? batch.filter((d) => c.topics!.has(d.kind)) : batch));
      this.sendDeltas(c, deltas, time, through, json, tk);
    }
  }

  private sendDeltas(c: Client, deltas: Delta[], time: number, through: number, json: Map<string, string>, tk: string): void {
    if (c.ws.readyState !== WebSocket.OPEN || c.behind) return;
    if (c.pending) return this.coalesce(c, deltas, through);
    if (c.ws.bufferedAmount > (c.subscribed ? this.maxBuffered / 4 : this.maxBuffered)) {
      if (c.subscribed) return this.coalesce(c, deltas, through);
      return this.fallBehind(c, 'deltas withheld until it drains, then a snapshot');
    }
    // Nothing on this client's topics: no message; the next one's `from` covers these seqs.
    if (deltas.length === 0) return;
    const from = c.through + 1;
    const k = `${tk}|${from}`;
    let msg = json.get(k);
    if (msg === undefined) json.set(k, (msg = JSON.stringify({ type: 'deltas', time, from, through, deltas } satisfies ServerMessage)));
    c.through = through;
    c.ws.send(msg);
  }

  /** Latest delta per entity while the socket is backed up; past maxPending a snapshot replaces them. */
  private coalesce(c: Client, deltas: Delta[], through: number): void {
    if (!c.pending) {
      c.pending = new Map();
      c.pendingFrom = c.through + 1;
      this.log.debug({ buffered: c.ws.bufferedAmount }, 'ws client is backed up: coalescing its deltas');
      c.drainTimer = setInterval(() => this.drainPending(c), 250);
      c.drainTimer.unref();
    }
    for (const d of deltas) {
      if (d.op === 'reset') for (const k of [...c.pending.keys()]) if (k.startsWith(`${d.kind}\0`)) c.pending.delete(k);
      const k = d.op === 'reset' ? `${d.kind}\0\0reset` : `${d.kind}\0${d.key}`;
      c.pending.delete(k); // re-insert: arrival order = seq order
      c.pending.set(k, d);
    }
    c.through = through;
    if (c.pending.size > this.maxPending || c.ws.bufferedAmount > this.maxBuffered) {
      this.fallBehind(c, 'coalesced deltas dropped; a snapshot when it drains');
    }
  }

  private drainPending(c: Client): void {
    if (c.ws.readyState !== WebSocket.OPEN) return this.stopDrain(c);
    if (!c.pending || c.ws.bufferedAmount >= this.maxBuffered / 8) return;
    const deltas = [...c.pending.values()];
    const from = c.pendingFrom ?? c.through;
    this.stopDrain(c);
    this.send(c, { type: 'deltas', time: Date.now(), from, through: c.through, coalesced: true, deltas });
  }

  private stopDrain(c: Client): void {
    if (c.drainTimer) clearInterval(c.drainTimer);
    c.drainTimer = undefined;
    c.pending = undefined;
    c.pendingFrom = undefined;
  }

  private fallBehind(c: Client, what: string): void {
    this.stopDrain(c);
    c.behind = true;
    this.log.warn({ buffered: c.ws.bufferedAmount }, `ws client is not reading: ${what}`);
    this.whenDrained(c);
  }

  private whenDrained(c: Client): void {
    const check = setInterval(() => {
      if (c.ws.readyState !== WebSocket.OPEN) return clearInterval(check);
      if (c.ws.bufferedAmount < this.maxBuffered / 4) {
        clearInterval(check);
        c.behind = false;
        this.sendSnapshot(c);
      }
    }, 250);
    check.unref();
  }

  private sendSnapshot(c: Client): void {
    this.stopDrain(c);
    c.through = this.seq;
    const snap = this.snapshot(c.topics);
    // In parts: all sent now, in order, so no delta can come between them.
    for (const m of c.parts ? splitSnapshot(snap, SNAPSHOT_PART_ROWS) : [snap]) this.send(c, m);
  }

  private send(c: Client, m: ServerMessage): void {
    if (c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify(m));
  }

  private broadcast(m: ServerMessage): void {
    const s = JSON.stringify(m);
    for (const c of this.clients) if (c.ws.readyState === WebSocket.OPEN && !c.behind) c.ws.send(s);
  }

  /** What a client that has seen `since` needs: the missed deltas, or a snapshot when they are gone. */
  private resume(c: Client, since: number | undefined): void {
    if (c.behind) return; // it gets a fresh snapshot as soon as it drains
    this.flush(); // pending deltas first, so the answer is in order
    if (since !== undefined && since <= this.seq && !c.pending) {
      const first = this.ring.firstSeq ?? this.seq + 1;
      const from = since + 1;
      c.through = this.seq;
      if (since === this.seq) return void this.send(c, { type: 'deltas', time: Date.now(), from, through: this.seq, deltas: [] });
      if (from >= first) {
        const missed = this.ring.after(since, c.topics && ((d) => c.topics!.has(d.kind)));
        return void this.send(c, { type: 'deltas', time: Date.now(), from, through: this.seq, deltas: missed });
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
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req));
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    // Changes made before this client came are still in the batch: they go to the others now, not to it (its
    // snapshot, or its resume from the ring, covers them). Otherwise its first message would be those deltas.
    this.flush();
    const c: Client = { ws, behind: false, subscribed: false, through: this.seq };
    this.clients.add(c);
    ws.on('close', () => {
      this.stopDrain(c);
      this.clients.delete(c);
    });
    ws.on('error', (err) => this.log.debug({ err: err.message }, 'ws client error'));
    ws.on('message', (data, isBinary) => this.onClientMessage(c, data, isBinary));
    const params = new URL(req.url ?? '/', 'http://x').searchParams;
    c.parts = params.get('parts') === '1';
    const topicsParam = params.get('topics');
    if (topicsParam !== null) {
      const t = this.parseTopics(topicsParam.split(',').map((x) => x.trim()).filter(Boolean));
      if (t.unknown.length) this.send(c, { type: 'error', code: 'bad-topic', message: `unknown topic(s) ${t.unknown.join(', ')}; topics are entity kinds: ${ENTITY_KINDS.join(', ')}` });
      c.topics = t.topics;
      c.subscribed = true;
    }
    const since = params.get('since');
    const n = since === null ? undefined : Number(since);
    if (n !== undefined && (!Number.isInteger(n) || n < 0)) {
      this.send(c, { type: 'error', code: 'bad-since', message: `since must be a non-negative integer, got ${JSON.stringify(since)}` });
      this.resume(c, undefined);
      return;
    }
    this.resume(c, n);
  }

  private onClientMessage(c: Client, data: RawData, isBinary: boolean): void {
    if (isBinary) return this.send(c, { type: 'error', code: 'bad-message', message: 'binary frames are not part of the protocol; send JSON text' });
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString());
    } catch {
      return this.send(c, { type: 'error', code: 'bad-json', message: 'message is not valid JSON' });
    }
    const r = ClientMessage.safeParse(parsed);
    if (!r.success) {
      const issue = r.error.issues[0];
      return this.send(c, { type: 'error', code: 'bad-message', message: `invalid message: ${issue ? `${issue.path.join('.') || 'message'}: ${issue.message}` : 'unknown'}` });
    }
    const m = r.data;
    if (m.type === 'ping') this.send(c, { type: 'pong', time: Date.now(), echo: m.echo });
    else if (m.type === 'resume') this.resume(c, m.seq);
    else if (m.type === 'subscribe') {
      const t = this.parseTopics(m.topics);
      if (t.unknown.length) return this.send(c, { type: 'error', code: 'bad-topic', message: `unknown topic(s) ${t.unknown.join(', ')}; topics are entity kinds: ${ENTITY_KINDS.join(', ')}` });
      this.flush();
      c.topics = t.topics;
      c.subscribed = true;
      this.send(c, { type: 'subscribed', topics: t.topics ? [...t.topics] : ['*'], seq: this.seq });
      // What it had may lack the new topics: a snapshot of exactly what it now follows (or when behind, once it drains).
      if (!c.behind) this.sendSnapshot(c);
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const c of this.clients) c.ws.close(1001, 'server shutting down');
    this.wss.close();
  }
}

// The WebSocket hub: a snapshot, then deltas with a strictly increasing sequence number, batched per
// tick. A client that comes back with its last seq gets what it missed from a bounded ring, or a new
// snapshot. A client that does not read has a bounded queue: past it, its deltas are dropped and it
// gets a fresh snapshot once it drains. Client messages are validated; bad ones get an error back.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { Model, ModelChange } from '../model/model.ts';
import { ClientMessage, type Delta, type EntityKind, type EntityKinds, type ServerMessage, type Snapshot } from '../wire/protocol.ts';
import type { Logger } from '../log.ts';

export interface HubOptions {
  version: string;
  hostname: string;
  netns: string;
  /** Deltas kept for resume. */
  ringSize?: number;
  heartbeatMs?: number;
  /** Bytes a client may have unsent before it is switched to "snapshot when drained". */
  maxBufferedBytes?: number;
  maxPayloadBytes?: number;
}

interface Client {
  ws: WebSocket;
  /** Behind: deltas are not sent until the socket drains, then a snapshot. */
  behind: boolean;
}

export class Hub {
  private seq = 0;
  private readonly ring: Delta[] = [];
  private batch: Delta[] = [];
  private flushScheduled = false;
  private readonly clients = new Set<Client>();
  private readonly wss: WebSocketServer;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly ringSize: number;
  private readonly maxBuffered: number;

  constructor(readonly model: Model, private readonly opts: HubOptions, private readonly log: Logger) {
    this.ringSize = opts.ringSize ?? 20_000;
    this.maxBuffered = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
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

  snapshot(): Snapshot {
    const e = this.model.entities();
    return {
      type: 'snapshot',
      seq: this.seq,
      time: Date.now(),
      server: { version: this.opts.version, hostname: this.opts.hostname, netns: this.opts.netns },
      entities: e as Snapshot['entities'],
    };
  }

  private onChange(c: ModelChange): void {
    const d = { seq: ++this.seq, ...c } as Delta;
    this.ring.push(d);
    if (this.ring.length > this.ringSize) this.ring.splice(0, this.ring.length - this.ringSize);
    this.batch.push(d);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.batch.length === 0) return;
    const msg = JSON.stringify({ type: 'deltas', time: Date.now(), deltas: this.batch } satisfies ServerMessage);
    this.batch = [];
    for (const c of this.clients) this.sendDeltas(c, msg);
  }

  private sendDeltas(c: Client, msg: string): void {
    if (c.ws.readyState !== WebSocket.OPEN) return;
    if (c.behind) return;
    if (c.ws.bufferedAmount > this.maxBuffered) {
      c.behind = true;
      this.log.warn({ buffered: c.ws.bufferedAmount }, 'ws client is not reading: deltas withheld until it drains, then a snapshot');
      this.whenDrained(c);
      return;
    }
    c.ws.send(msg);
  }

  private whenDrained(c: Client): void {
    const check = setInterval(() => {
      if (c.ws.readyState !== WebSocket.OPEN) return clearInterval(check);
      if (c.ws.bufferedAmount < this.maxBuffered / 4) {
        clearInterval(check);
        c.behind = false;
        this.send(c, this.snapshot());
      }
    }, 250);
    check.unref();
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
    if (since !== undefined && since <= this.seq) {
      const first = this.ring[0]?.seq ?? this.seq + 1;
      if (since === this.seq) return void this.send(c, { type: 'deltas', time: Date.now(), deltas: [] });
      if (since + 1 >= first) {
        const missed = this.ring.filter((d) => d.seq > since);
        return void this.send(c, { type: 'deltas', time: Date.now(), deltas: missed });
      }
    }
    this.send(c, this.snapshot());
  }

  /** Take a WebSocket upgrade for the hub's path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req));
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const c: Client = { ws, behind: false };
    this.clients.add(c);
    ws.on('close', () => this.clients.delete(c));
    ws.on('error', (err) => this.log.debug({ err: err.message }, 'ws client error'));
    ws.on('message', (data, isBinary) => this.onClientMessage(c, data, isBinary));
    const since = new URL(req.url ?? '/', 'http://x').searchParams.get('since');
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
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const c of this.clients) c.ws.close(1001, 'server shutting down');
    this.wss.close();
  }
}

// The WebSocket hub on a real HTTP server (127.0.0.1:0) with `ws` clients: snapshot, seq'd deltas,
// resume, bad client messages, oversized frames, and a client that does not read.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { CLOSE_RATE_LIMITED, DeltaRing, Hub, SNAPSHOT_PART_ROWS, type HubOptions } from '../../../server/hub/hub.ts';
import { Model } from '../../../server/model/model.ts';
import type { ServerMessage, Snapshot, Delta } from '../../../server/wire/protocol.ts';
import { memoryLogger } from '../memlog.ts';

interface Rig { model: Model; hub: Hub; server: Server; url: string; lines: Array<Record<string, unknown>> }
const rigs: Rig[] = [];
after(() => {
  for (const r of rigs) {
    r.hub.close();
    r.server.closeAllConnections();
    r.server.close();
  }
});

async function rig(opts: Partial<HubOptions> = {}): Promise<Rig> {
  const model = new Model();
  const ml = memoryLogger();
  const hub = new Hub(model, { version: 'test', hostname: 'h', netns: 'n', heartbeatMs: 60_000, ...opts }, ml.log);
  const server = createServer((_req, res) => res.end());
  server.on('upgrade', (req, socket, head) => hub.handleUpgrade(req, socket, head));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const r = { model, hub, server, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`, lines: ml.lines };
  rigs.push(r);
  return r;
}

/** A client whose messages queue up; next() waits for the next one. */
class Client {
  readonly ws: WebSocket;
  private readonly queue: ServerMessage[] = [];
  private waiters: Array<(m: ServerMessage) => void> = [];
  closed: Promise<{ code: number; reason: string }>;
  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as ServerMessage;
      const w = this.waiters.shift();
      if (w) w(m);
      else this.queue.push(m);
    });
    this.closed = new Promise((r) => this.ws.on('close', (code, reason) => r({ code, reason: String(reason) })));
  }
  next(timeoutMs = 3000): Promise<ServerMessage> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    return new Promise((resolve, reject) => {
      const w = (m: ServerMessage) => {
        clearTimeout(t);
        resolve(m);
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w); // the next message is not for this one
        reject(new Error('no message in time'));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }
  async nextOf<T extends ServerMessage['type']>(type: T): Promise<Extract<ServerMessage, { type: T }>> {
    for (;;) {
      const m = await this.next();
      if (m.type === type) return m as Extract<ServerMessage, { type: T }>;
    }
  }
  send(x: unknown): void {
    this.ws.send(typeof x === 'string' || Buffer.isBuffer(x) ? x : JSON.stringify(x));
  }
  close(): void {
    this.ws.terminate();
  }
}
const tick = () => new Promise((r) => setImmediate(r));

test('a client gets the snapshot first, then deltas with strictly increasing seq', async () => {
  const { model, url } = await rig();
  model.upsert('link', '1', { index: 1, name: 'lo' });
  const c = new Client(url);
  const s = (await c.next()) as Snapshot;
  assert.equal(s.type, 'snapshot');
  assert.equal(s.entities.link.length, 1);
  const first = s.seq;
  for (let i = 0; i < 5; i++) {
    model.upsert('link', String(i + 10), { index: i + 10, name: `d${i}` });
    if (i % 2) await tick();
  }
  model.remove('link', '10');
  const seqs: number[] = [];
  while (seqs.length < 6) for (const d of (await c.nextOf('deltas')).deltas) seqs.push(d.seq);
  assert.deepEqual(seqs, [first + 1, first + 2, first + 3, first + 4, first + 5, first + 6]);
  c.close();
});

test('changes go out at once, each alone, while the token bucket allows; past it in one batch after the current phase', async () => {
  const { model, hub, url } = await rig({ immediateBurst: 2, immediatePerSecond: 10 });
  const c = new Client(url);
  await c.nextOf('snapshot');
  await new Promise((r) => setTimeout(r, 250)); // the bucket refills (the snapshot's rows did not take tokens)
  let sent = 0;
  const client = [...(hub as unknown as { clients: Set<{ ws: { send: (...a: unknown[]) => void } }> }).clients][0]!;
  const send = client.ws.send.bind(client.ws);
  client.ws.send = (...a: unknown[]) => {
    sent++;
    send(...a);
  };
  const keys = (m: { deltas: Delta[] }) => m.deltas.map((d) => ('key' in d ? d.key : d.op));
  model.upsert('link', '1', { index: 1, name: 'a' });
  assert.equal(sent, 1, 'the first change was sent synchronously, before the burst goes on');
  model.upsert('link', '2', { index: 2, name: 'b' });
  assert.equal(sent, 2, 'the second too (burst of 2)');
  model.upsert('link', '3', { index: 3, name: 'c' });
  model.upsert('link', '4', { index: 4, name: 'd' });
  assert.equal(sent, 2, 'past the burst, changes wait for the batch');
  assert.deepEqual(keys(await c.nextOf('deltas')), ['1']);
  assert.deepEqual(keys(await c.nextOf('deltas')), ['2']);
  assert.deepEqual(keys(await c.nextOf('deltas')), ['3', '4']);
  // 10/s: after 150 ms one token is back
  await new Promise((r) => setTimeout(r, 150));
  model.upsert('link', '5', { index: 5, name: 'e' });
  assert.equal(sent, 4);
  assert.deepEqual(keys(await c.nextOf('deltas')), ['5']);
  c.close();
});

test('reconnect with ?since=N gets exactly the missed deltas; since = now gets none', async () => {
  const { model, url, hub } = await rig();
  const c = new Client(url);
  const s = (await c.next()) as Snapshot;
  c.close();
  model.upsert('policy', 'a', { v: 1 });
  model.upsert('policy', 'b', { v: 1 });
  model.remove('policy', 'a');
  await tick();
  const c2 = new Client(`${url}?since=${s.seq + 1}`);
  const m = await c2.next();
  assert.equal(m.type, 'deltas');
  assert.deepEqual((m as { deltas: Delta[] }).deltas.map((d) => `${d.seq}:${d.op}:${'key' in d ? d.key : ''}`), [`${s.seq + 2}:upsert:b`, `${s.seq + 3}:remove:a`]);
  const c3 = new Client(`${url}?since=${hub.currentSeq}`);
  const none = await c3.next();
  assert.equal(none.type, 'deltas');
  assert.deepEqual((none as { deltas: Delta[] }).deltas, []);
  c2.close();
  c3.close();
});

test('since older than the ring → a snapshot; a bad since → error, then a snapshot', async () => {
  const { model, url } = await rig({ ringSize: 3 });
  for (let i = 0; i < 10; i++) model.upsert('policy', String(i), { i });
  await tick();
  const c = new Client(`${url}?since=2`);
  const m = await c.next();
  assert.equal(m.type, 'snapshot');
  assert.equal((m as Snapshot).seq, 10);
  const c2 = new Client(`${url}?since=-4`);
  const e = await c2.next();
  assert.equal(e.type, 'error');
  assert.equal((e as { code: string }).code, 'bad-since');
  assert.equal((await c2.next()).type, 'snapshot');
  // resume by message works like ?since
  c.send({ type: 'resume', seq: 9 });
  const r = await c.nextOf('deltas');
  assert.deepEqual(r.deltas.map((d) => d.seq), [10]);
  c.close();
  c2.close();
});

test('bad JSON, unknown type, extra fields, binary → an error each; the connection stays usable', async () => {
  const { url } = await rig();
  const c = new Client(url);
  await c.nextOf('snapshot');
  const bad: Array<[unknown, string]> = [
    ['{not json', 'bad-json'],
    [{ type: 'subscribe', topic: 'x' }, 'bad-message'],
    [{ type: 'ping', echo: 1, extra: true }, 'bad-message'],
    [{ type: 'resume', seq: -1 }, 'bad-message'],
    [Buffer.from([1, 2, 3]), 'bad-message'],
  ];
  for (const [msg, code] of bad) {
    c.send(msg);
    const e = await c.nextOf('error');
    assert.equal(e.code, code, JSON.stringify(msg));
  }
  c.send({ type: 'ping', echo: 42 });
  const p = await c.nextOf('pong');
  assert.equal(p.echo, 42);
  c.close();
});

test('a frame over maxPayload closes that connection only', async () => {
  const { url } = await rig({ maxPayloadBytes: 1024 });
  const big = new Client(url);
  const other = new Client(url);
  await big.nextOf('snapshot');
  await other.nextOf('snapshot');
  big.ws.on('error', () => undefined);
  big.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(4096) }));
  const { code } = await big.closed;
  assert.equal(code, 1009, 'message too big');
  other.send({ type: 'ping', echo: 7 });
  assert.equal((await other.nextOf('pong')).echo, 7);
  other.close();
});

test('a client that does not read is bounded: withheld after maxBufferedBytes, then a snapshot when it drains', async () => {
  const maxBuffered = 256 * 1024;
  const { model, url, hub, lines } = await rig({ maxBufferedBytes: maxBuffered });
  const slow = new Client(url);
  const fast = new Client(url);
  await slow.nextOf('snapshot');
  await fast.nextOf('snapshot');
  const sock = (slow.ws as unknown as { _socket: import('node:net').Socket })._socket;
  sock.pause();
  const blob = 'x'.repeat(64 * 1024);
  const serverClients = (hub as unknown as { clients: Set<{ ws: WebSocket; behind: boolean }> }).clients;
  let maxSeen = 0;
  let behind = false;
  for (let i = 0; i < 1500 && !behind; i++) {
    model.upsert('policy', String(i % 50), { blob, i });
    await tick();
    for (const c of serverClients) maxSeen = Math.max(maxSeen, c.ws.bufferedAmount);
    behind = [...serverClients].some((c) => c.behind);
  }
  assert.ok(behind, 'the slow client is marked behind');
  // Keep changing: the slow client's queue does not grow any more.
  const before = Math.max(...[...serverClients].map((c) => c.ws.bufferedAmount));
  for (let i = 0; i < 100; i++) {
    model.upsert('policy', String(i % 50), { blob, i: -i });
    await tick();
  }
  const afterMore = Math.max(...[...serverClients].map((c) => c.ws.bufferedAmount));
  assert.ok(afterMore <= before, `no growth while behind (${before} → ${afterMore})`);
  assert.ok(maxSeen < maxBuffered + 2 * 1024 * 1024, `bounded queue (max ${maxSeen})`);
  assert.ok(lines.some((l) => String(l['msg']).includes('not reading')));
  // The fast client kept receiving deltas all along.
  const fastDeltas = await fast.nextOf('deltas');
  assert.ok(fastDeltas.deltas.length > 0);
  sock.resume();
  // After the backlog it gets a snapshot current at the latest seq.
  for (;;) {
    const m = await slow.next(10_000);
    if (m.type === 'snapshot') {
      assert.equal(m.seq, hub.currentSeq);
      break;
    }
  }
  slow.close();
  fast.close();
});

test('subscribe: only the chosen topics, a snapshot of them, from/through cover the holes', async () => {
  const { model, url } = await rig();
  model.upsert('link', '1', { index: 1, name: 'lo' });
  model.upsert('policy', 'p1', { key: 'p1' });
  const c = new Client(url);
  await c.nextOf('snapshot');
  c.send({ type: 'subscribe', topics: ['policy', 'tunnel'] });
  const sub = await c.nextOf('subscribed');
  assert.deepEqual(sub.topics.sort(), ['policy', 'tunnel']);
  const snap = await c.nextOf('snapshot');
  assert.deepEqual(Object.keys(snap.entities).sort(), ['policy', 'tunnel']);
  assert.deepEqual(snap.topics?.sort(), ['policy', 'tunnel']);
  model.upsert('link', '2', { index: 2, name: 'eth0' }); // not a topic
  model.upsert('policy', 'p2', { key: 'p2' });
  const d = await c.nextOf('deltas');
  assert.deepEqual(d.deltas.map((x) => x.kind), ['policy']);
  assert.equal(d.from, snap.seq + 1, 'from: right after the snapshot');
  assert.equal(d.through, d.deltas[0]!.seq);
  assert.ok(d.deltas[0]!.seq > d.from!, 'the link delta is a hole, covered by from..through');
  c.send({ type: 'subscribe', topics: ['nonsense'] });
  const e = await c.nextOf('error');
  assert.equal(e.code, 'bad-topic');
  c.send({ type: 'subscribe', topics: ['*'] });
  assert.deepEqual((await c.nextOf('subscribed')).topics, ['*']);
  assert.ok('link' in (await c.nextOf('snapshot')).entities);
  c.close();
  // ?topics= at connect, and resume within the topics
  const t = new Client(`${url}?topics=policy`);
  const ts = await t.nextOf('snapshot');
  assert.deepEqual(Object.keys(ts.entities), ['policy']);
  t.close();
});

test('a subscribed client that does not read gets its deltas coalesced (latest per entity), then a bounded fallback to a snapshot', async () => {
  const maxBuffered = 256 * 1024;
  const { model, url, hub } = await rig({ maxBufferedBytes: maxBuffered, maxPendingDeltas: 40 });
  const slow = new Client(url);
  await slow.nextOf('snapshot');
  slow.send({ type: 'subscribe', topics: ['policy'] });
  await slow.nextOf('snapshot');
  const serverClients = (hub as unknown as { clients: Set<{ ws: WebSocket; pending?: { size: number }; behind: boolean }> }).clients;
  const sock = (slow.ws as unknown as { _socket: import('node:net').Socket })._socket;
  sock.pause();
  const blob = 'x'.repeat(64 * 1024);
  let coalescing = false;
  for (let i = 0; i < 400 && !coalescing; i++) {
    model.upsert('policy', String(i % 20), { blob, i });
    await tick();
    coalescing = [...serverClients].some((c) => c.pending !== undefined);
  }
  assert.ok(coalescing, 'backed up → coalescing');
  // 20 entities churned many times: at most 20 pending, the queue stays put.
  for (let i = 0; i < 200; i++) {
    model.upsert('policy', String(i % 20), { small: true, i });
    await tick();
  }
  const pend = [...serverClients].find((c) => c.pending)?.pending;
  assert.ok(pend && pend.size <= 20, `pending ${pend?.size}`);
  sock.resume();
  let merged: Extract<ServerMessage, { type: 'deltas' }> | undefined;
  for (;;) {
    const m = await slow.next(10_000);
    if (m.type === 'deltas' && m.coalesced) {
      merged = m;
      break;
    }
  }
  assert.equal(merged.deltas.length, 20, 'one delta per entity');
  const last = merged.deltas.find((d) => d.op !== 'reset' && d.key === '19');
  assert.equal(last?.op === 'upsert' && (last.value as unknown as { i: number }).i, 199, 'the latest value');
  assert.equal(merged.through, hub.currentSeq);
  // Past maxPendingDeltas (40 distinct entities while backed up) → a snapshot instead.
  sock.pause();
  let behind = false;
  for (let i = 0; i < 600 && !behind; i++) {
    model.upsert('policy', `n${i}`, { blob, i });
    await tick();
    behind = [...serverClients].some((c) => c.behind);
  }
  assert.ok(behind, 'too many distinct pending deltas → behind');
  sock.resume();
  for (;;) {
    const m = await slow.next(10_000);
    if (m.type === 'snapshot') {
      assert.equal(m.seq, hub.currentSeq);
      assert.deepEqual(Object.keys(m.entities), ['policy'], 'a snapshot of its topics');
      break;
    }
  }
  slow.close();
});

test('?parts=1: a big snapshot comes as a head with every kind\'s first rows and parts, all before any delta; without it, one message', async () => {
  const { model, url } = await rig();
  const n = SNAPSHOT_PART_ROWS * 2 + 7;
  for (let i = 0; i < n; i++) model.upsert('sa', `k${i}`, { spi: i });
  model.upsert('link', '1', { index: 1, name: 'lo' });
  const c = new Client(`${url}?parts=1`);
  const head = (await c.next()) as Snapshot;
  assert.equal(head.type, 'snapshot');
  assert.equal(head.parts, 2);
  assert.deepEqual(head.totals, { ...Object.fromEntries(Object.keys(head.entities).map((k) => [k, 0])), sa: n, link: 1 });
  assert.equal(head.entities.sa.length, SNAPSHOT_PART_ROWS);
  assert.equal(head.entities.link.length, 1, 'small kinds whole in the head');
  model.upsert('sa', 'k0', { spi: 0, changed: true }); // a change while the parts go out: a delta after them
  const keys = new Set(head.entities.sa.map((r) => r.key));
  for (let p = 1; p <= 2; p++) {
    const m = await c.next();
    assert.equal(m.type, 'snapshot-part', `message ${p} after the head`);
    if (m.type !== 'snapshot-part') return;
    assert.equal(m.part, p);
    assert.equal(m.seq, head.seq);
    for (const r of m.entities.sa ?? []) keys.add(r.key);
  }
  assert.equal(keys.size, n, 'every row once');
  const d = await c.nextOf('deltas');
  assert.deepEqual(d.deltas.map((x) => x.seq), [head.seq + 1]);
  c.close();
  const whole = new Client(url);
  const s = (await whole.next()) as Snapshot;
  assert.equal(s.entities.sa.length, n);
  assert.equal(s.parts, undefined);
  whole.close();
});

test('the delta ring keeps the newest deltas in order, consecutive, across many wrap-arounds', () => {
  const ring = new DeltaRing(7);
  assert.equal(ring.firstSeq, undefined);
  assert.deepEqual(ring.after(0), []);
  for (let seq = 1; seq <= 1000; seq++) {
    ring.push({ seq, kind: 'policy', op: 'remove', key: String(seq) });
    const kept = ring.after(0).map((d) => d.seq);
    const want = Array.from({ length: Math.min(seq, 7) }, (_, i) => seq - Math.min(seq, 7) + 1 + i);
    assert.deepEqual(kept, want, `after ${seq} pushes`);
    assert.equal(ring.firstSeq, want[0]);
    // From any seq kept (or older): exactly the ones after it.
    for (const since of [want[0]! - 5, want[0]! - 1, want[0]!, seq - 2, seq]) assert.deepEqual(ring.after(since).map((d) => d.seq), want.filter((x) => x > since), `since ${since}`);
  }
  assert.deepEqual(ring.after(990, (d) => d.seq % 2 === 0).map((d) => d.seq), [994, 996, 998, 1000]);
  const none = new DeltaRing(0);
  none.push({ seq: 1, kind: 'policy', op: 'remove', key: '1' });
  assert.equal(none.size, 0);
});

test('resume after the ring wrapped many times: exactly the missed deltas while kept, a snapshot once gone', async () => {
  const { model, url, hub } = await rig({ ringSize: 50 });
  for (let i = 0; i < 1234; i++) model.upsert('policy', String(i % 30), { i });
  await tick();
  const seq = hub.currentSeq;
  const c = new Client(`${url}?since=${seq - 50}`);
  const m = await c.nextOf('deltas');
  assert.deepEqual(m.deltas.map((d) => d.seq), Array.from({ length: 50 }, (_, i) => seq - 49 + i));
  assert.deepEqual(m.deltas.map((d) => (d.op === 'upsert' ? (d.value as unknown as { i: number }).i : -1)), Array.from({ length: 50 }, (_, i) => 1234 - 50 + i));
  c.send({ type: 'resume', seq: seq - 51 });
  assert.equal((await c.next()).type, 'snapshot', 'one older than the ring keeps');
  c.close();
});

/** The hub's server-side sockets (tests only). */
const serverSockets = (hub: Hub) => [...(hub as unknown as { clients: Set<{ ws: WebSocket }> }).clients].map((c) => c.ws);

test('a client that never reads and floods subscribe, resume and bad messages: its unsent bytes stay bounded, one snapshot waits (the newest request\'s)', async () => {
  const maxBuffered = 256 * 1024;
  const { model, url, hub } = await rig({ maxBufferedBytes: maxBuffered, messageBurst: 1_000_000, messagesPerSecond: 1_000_000 });
  for (let i = 0; i < 1000; i++) model.upsert('policy', String(i), { key: String(i), pad: 'p'.repeat(1000) });
  await tick();
  let made = 0;
  const snapshot = hub.snapshot.bind(hub);
  hub.snapshot = (t) => (made++, snapshot(t));
  const snapshotBytes = JSON.stringify(snapshot()).length;
  const c = new Client(url);
  await c.nextOf('snapshot');
  made = 0;
  (c.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
  const seq = hub.currentSeq;
  const flood = [
    { type: 'subscribe', topics: ['*'] },
    { type: 'resume', seq: 0 },
    { type: 'resume', seq: seq - 10 },
    'not json',
    { type: 'ping', echo: 1 },
    { type: 'subscribe', topics: ['sa', 'policy'] },
  ];
  let maxUnsent = 0;
  for (let round = 0; round < 40; round++) {
    for (const m of flood) c.send(m);
    await new Promise((r) => setTimeout(r, 10));
    for (const ws of serverSockets(hub)) maxUnsent = Math.max(maxUnsent, ws.bufferedAmount);
  }
  c.send({ type: 'subscribe', topics: ['policy'] });
  await new Promise((r) => setTimeout(r, 50));
  for (const ws of serverSockets(hub)) maxUnsent = Math.max(maxUnsent, ws.bufferedAmount);
  console.log(`241 requests from a client that does not read: ${made} snapshots made, at most ${(maxUnsent / 1024).toFixed(0)} KiB unsent (a snapshot is ${(snapshotBytes / 1024).toFixed(0)} KiB)`);
  // What the kernel's socket buffers hold is not the process's; past them: a quarter of the bound and one snapshot.
  assert.ok(maxUnsent <= maxBuffered / 4 + snapshotBytes + 64 * 1024, `unsent bytes bounded (${maxUnsent})`);
  assert.ok(made < 40, `snapshots made only as they leave (${made} for 121 subscribe and resume requests)`);
  (c.ws as unknown as { _socket: import('node:net').Socket })._socket.resume();
  // Once it reads: the snapshot it gets last is of the newest request's topics, and it is current.
  const got: ServerMessage[] = [await c.next(10_000)];
  for (let m; (m = await c.next(1000).catch(() => undefined)); ) got.push(m);
  const last = got.filter((m) => m.type === 'snapshot').at(-1);
  console.log(`then it read ${got.length} messages: ${[...new Set(got.map((m) => m.type))].join(', ')}`);
  assert.deepEqual(last?.topics, ['policy']);
  assert.equal(last?.seq, hub.currentSeq);
  c.send({ type: 'ping', echo: 7 });
  assert.equal((await c.nextOf('pong')).echo, 7);
  c.close();
});

test('client messages are rate-limited: past the burst one error, then a close with 1008 and the reason', async () => {
  const { url } = await rig({ messageBurst: 5, messagesPerSecond: 2 });
  const c = new Client(url);
  await c.nextOf('snapshot');
  for (let i = 0; i < 5; i++) c.send({ type: 'ping', echo: i });
  for (let i = 0; i < 5; i++) assert.equal((await c.nextOf('pong')).echo, i);
  c.send({ type: 'ping', echo: 5 });
  const e = await c.next();
  assert.equal(e.type, 'error');
  assert.equal((e as { code: string }).code, 'rate-limited');
  // Within the rate again (2/s): taken.
  await new Promise((r) => setTimeout(r, 600));
  c.send({ type: 'ping', echo: 6 });
  assert.equal((await c.nextOf('pong')).echo, 6);
  // A client that goes on past the limit is closed.
  for (let i = 0; i < 30; i++) c.send({ type: 'subscribe', topics: ['*'] });
  const closed = await c.closed;
  assert.equal(closed.code, CLOSE_RATE_LIMITED);
  assert.match(closed.reason, /rate limit: at most 5 messages at once, 2 a second/);
});

test('a cap on clients: upgrades past maxClients are refused with 503 and the reason; a place freed is taken again', async () => {
  const { url, hub } = await rig({ maxClients: 2 });
  const a = new Client(url);
  const b = new Client(url);
  await a.nextOf('snapshot');
  await b.nextOf('snapshot');
  const refused = await new Promise<{ status: number; body: string }>((resolve) => {
    const ws = new WebSocket(url);
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('open', () => {
      resolve({ status: 101, body: 'accepted' });
      ws.terminate();
    });
    ws.once('error', () => undefined);
  });
  assert.equal(refused.status, 503);
  assert.match(refused.body, /"too-many-clients".*at most 2 WebSocket clients/);
  a.close();
  for (let i = 0; i < 50 && hub.clientCount > 1; i++) await new Promise((r) => setTimeout(r, 20));
  const c = new Client(url);
  assert.equal((await c.next()).type, 'snapshot');
  b.close();
  c.close();
});

test('snapshots in sockets share one budget: past it a client waits; a client whose snapshot never moves is let go and the waiting one served', async () => {
  const { model, url, lines, hub } = await rig({ maxCatchUpBytes: 1024 * 1024, catchUpStallMs: 1000 });
  // ~30 MB a snapshot: more than the kernel's socket buffers take from a client that does not read.
  for (let i = 0; i < 3000; i++) model.upsert('policy', String(i), { key: String(i), pad: 'p'.repeat(10_000) });
  await tick();
  const stuck = new Client(url);
  await new Promise<void>((resolve) => stuck.ws.once('open', () => resolve((stuck.ws as unknown as { _socket: import('node:net').Socket })._socket.pause() && undefined)));
  await new Promise((r) => setTimeout(r, 100));
  model.upsert('policy', 'moved', { key: 'moved' }); // a new seq: the next client's snapshot is its own
  const t0 = Date.now();
  const waiting = new Client(url);
  const first = await waiting.next(10_000);
  const waited = Date.now() - t0;
  assert.equal(first.type, 'snapshot');
  assert.ok(waited >= 900, `the waiting client got its snapshot after ${waited} ms: before the stuck one was let go`);
  assert.ok(lines.some((l) => /has not moved for 1 s/.test(String(l['msg']))), 'the stuck client was let go');
  assert.equal(serverSockets(hub).length, 1);
  (stuck.ws as unknown as { _socket: import('node:net').Socket })._socket.resume();
  assert.equal((await stuck.closed).code, 1006, 'terminated');
  waiting.close();
});

test('fan-out: a batch is serialised once per topic set and every client of that set is sent the same bytes; other topics get only their kinds', async () => {
  const { model, hub, url } = await rig({ immediateBurst: 0 }); // one batch
  const everything = Array.from({ length: 5 }, () => new Client(url));
  const policies = Array.from({ length: 3 }, () => new Client(`${url}?topics=policy`));
  const links = new Client(`${url}?topics=link`);
  for (const c of [...everything, ...policies, links]) await c.nextOf('snapshot');
  // What the hub hands each of its sockets, by the client's topics.
  const sent = new Map<string, unknown[]>();
  for (const c of (hub as unknown as { clients: Set<{ ws: WebSocket; topics?: Set<string> }> }).clients) {
    const topics = c.topics ? [...c.topics].join() : '*';
    const send = c.ws.send.bind(c.ws) as (...a: unknown[]) => void;
    c.ws.send = ((data: unknown, ...rest: unknown[]) => {
      sent.set(topics, [...(sent.get(topics) ?? []), data]);
      send(data, ...rest);
    }) as WebSocket['send'];
  }
  let serialised = 0;
  const stringify = JSON.stringify;
  JSON.stringify = ((...a: Parameters<typeof stringify>) => {
    if ((a[0] as { type?: unknown } | null)?.type === 'deltas') serialised++;
    return stringify(...a);
  }) as typeof JSON.stringify;
  try {
    model.upsert('link', '1', { index: 1, name: 'lo' });
    model.upsert('policy', 'p1', { key: 'p1' });
    model.upsert('policy', 'p2', { key: 'p2' });
    await tick();
  } finally {
    JSON.stringify = stringify;
  }
  assert.equal(serialised, 3, 'one deltas message for each topic set (all, policy, link), made once');
  for (const [topics, n] of [['*', 5], ['policy', 3], ['link', 1]] as const) {
    const data = sent.get(topics) ?? [];
    assert.equal(data.length, n, `${topics}: one send per client`);
    assert.ok(data.every((d) => Buffer.isBuffer(d)), `${topics}: bytes made once, not a string each socket encodes again`);
    assert.equal(new Set(data).size, 1, `${topics}: the very same bytes for every client`);
  }
  const kinds = async (c: Client) => (await c.nextOf('deltas')).deltas.map((d) => d.kind);
  for (const c of everything) assert.deepEqual(await kinds(c), ['link', 'policy', 'policy']);
  for (const c of policies) assert.deepEqual(await kinds(c), ['policy', 'policy']);
  assert.deepEqual(await kinds(links), ['link']);
  for (const c of [...everything, ...policies, links]) c.close();
});

test('a change sent alone costs a token per client: with as many clients as the burst, one goes at once, the next waits for the batch', async () => {
  const { model, hub, url } = await rig({ immediateBurst: 4, immediatePerSecond: 10 });
  const clients = Array.from({ length: 4 }, () => new Client(url));
  for (const c of clients) await c.nextOf('snapshot');
  await new Promise((r) => setTimeout(r, 450)); // the bucket is full again
  let sent = 0;
  for (const c of (hub as unknown as { clients: Set<{ ws: WebSocket }> }).clients) {
    const send = c.ws.send.bind(c.ws) as (...a: unknown[]) => void;
    c.ws.send = ((...a: unknown[]) => {
      sent++;
      send(...a);
    }) as WebSocket['send'];
  }
  model.upsert('link', '1', { index: 1, name: 'a' });
  assert.equal(sent, 4, 'the first change went to every client at once');
  model.upsert('link', '2', { index: 2, name: 'b' });
  assert.equal(sent, 4, 'the four frames took the burst: the second change waits for the batch');
  const keys = async (c: Client) => (await c.nextOf('deltas')).deltas.map((d) => ('key' in d ? d.key : d.op));
  for (const c of clients) assert.deepEqual([await keys(c), await keys(c)], [['1'], ['2']]);
  for (const c of clients) c.close();
});

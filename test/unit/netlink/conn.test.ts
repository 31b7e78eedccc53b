// The request engine (netlink/conn.ts) on the fake transport: seq, multipart, ACK, extack, DONE errors,
// DUMP_INTR retry, foreign senders, broken datagrams, timeouts, close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetlinkConnection } from '../../../server/netlink/conn.ts';
import { DecodeError, DumpInterruptedError, NetlinkError } from '../../../server/netlink/errors.ts';
import { encodeMessage } from '../../../server/netlink/message.ts';
import { NLMSG_DONE, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_MULTI, NLM_F_REQUEST } from '../../../server/netlink/constants.ts';
import { fakeTransport, multipart, nlError } from './fake.ts';

const T = 0x42;

test('sequence numbers increase and each reply goes to its request by seq', async () => {
  const held: Buffer[][] = [];
  const t = fakeTransport((req) => {
    // answer in reverse order: the engine must match by seq, not by arrival
    held.push([encodeMessage(T, 0, req.seq, Buffer.from(`r${req.seq}`), 0), nlError(req, 0)]);
    return [];
  });
  const conn = new NetlinkConnection('test', t);
  const p1 = conn.do(T, Buffer.alloc(0), { op: 'one' });
  const p2 = conn.do(T, Buffer.alloc(0), { op: 'two' });
  const [s1, s2] = t.requests.map((r) => r.seq);
  assert.equal(s2, (s1! + 1) >>> 0);
  for (const r of t.requests) assert.equal(r.flags, NLM_F_REQUEST | NLM_F_ACK, 'do-requests ask for an ACK');
  assert.equal(t.requests[0]!.pid, t.portId);
  for (const bufs of held.reverse()) t.inject(Buffer.concat(bufs));
  const [r1, r2] = await Promise.all([p1, p2]);
  assert.equal(r1[0]!.payload.toString(), `r${s1}`);
  assert.equal(r2[0]!.payload.toString(), `r${s2}`);
  conn.close();
});

test('a multipart dump split over two datagrams is gathered until NLMSG_DONE', async () => {
  const t = fakeTransport((req) => multipart(req, T, [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]));
  const conn = new NetlinkConnection('test', t);
  const parts = await conn.dump(T, Buffer.alloc(0), { op: 'dump' });
  assert.deepEqual(parts.map((m) => m.payload.toString()), ['a', 'b', 'c']);
  assert.equal(t.requests[0]!.flags & NLM_F_DUMP, NLM_F_DUMP);
  assert.equal(t.requests[0]!.flags & NLM_F_ACK, 0, 'dumps end with DONE, no ACK asked');
  conn.close();
});

test('an ACK resolves a do-request', async () => {
  const t = fakeTransport((req) => [nlError(req, 0)]);
  const conn = new NetlinkConnection('test', t);
  assert.deepEqual(await conn.do(T, Buffer.alloc(0), { op: 'set' }), []);
  conn.close();
});

test('errno + extack message becomes the NetlinkError text', async () => {
  const t = fakeTransport((req) => [nlError(req, 22, 'Invalid SPI')]);
  const conn = new NetlinkConnection('xfrm', t);
  await assert.rejects(conn.do(T, Buffer.alloc(0), { op: 'add SA' }), (e) => {
    assert.ok(e instanceof NetlinkError);
    assert.equal(e.message, 'xfrm: add SA: EINVAL (Invalid SPI)');
    assert.equal(e.errno, 22);
    assert.equal(e.extack?.message, 'Invalid SPI');
    return true;
  });
  // EPERM without extack says what is missing
  const t2 = fakeTransport((req) => [nlError(req, 1)]);
  const c2 = new NetlinkConnection('xfrm', t2);
  await assert.rejects(c2.dump(T, Buffer.alloc(0), { op: 'dump SAs' }), { message: 'xfrm: dump SAs: EPERM (needs CAP_NET_ADMIN)' });
  conn.close();
  c2.close();
});

test('NLMSG_DONE with a negative errno fails the dump', async () => {
  const t = fakeTransport((req) => {
    const done = Buffer.alloc(4);
    done.writeInt32LE(-105);
    return [encodeMessage(T, NLM_F_MULTI, req.seq, Buffer.from('x')), encodeMessage(NLMSG_DONE, NLM_F_MULTI, req.seq, done)];
  });
  const conn = new NetlinkConnection('test', t);
  await assert.rejects(conn.dump(T, Buffer.alloc(0), { op: 'dump' }), (e) => e instanceof NetlinkError && e.errno === 105);
  conn.close();
});

test('NLMSG_DONE of a failed dump carries the kernel\'s extack text into the error', async () => {
  const t = fakeTransport((req) => {
    const msg = Buffer.from('dump stopped by test\0');
    const tlv = Buffer.alloc(4 + ((msg.length + 3) & ~3));
    tlv.writeUInt16LE(4 + msg.length, 0);
    tlv.writeUInt16LE(1, 2); // NLMSGERR_ATTR_MSG
    msg.copy(tlv, 4);
    const done = Buffer.alloc(4);
    done.writeInt32LE(-22);
    return [encodeMessage(NLMSG_DONE, NLM_F_MULTI | 0x200 /* NLM_F_ACK_TLVS */, req.seq, Buffer.concat([done, tlv]))];
  });
  const conn = new NetlinkConnection('test', t);
  await assert.rejects(conn.dump(T, Buffer.alloc(0), { op: 'dump' }), { message: 'test: dump: EINVAL (dump stopped by test)' });
  conn.close();
});

test('NLM_F_DUMP_INTR: the dump is retried, then succeeds; retries are bounded', async () => {
  let n = 0;
  const t = fakeTransport((req) => multipart(req, T, [Buffer.from(`try${++n}`)], n < 3 ? NLM_F_DUMP_INTR : 0));
  const conn = new NetlinkConnection('test', t);
  const parts = await conn.dump(T, Buffer.alloc(0), { op: 'dump' });
  assert.equal(t.requests.length, 3);
  assert.deepEqual(parts.map((m) => m.payload.toString()), ['try3']);
  const always = fakeTransport((req) => multipart(req, T, [Buffer.from('x')], NLM_F_DUMP_INTR));
  const c2 = new NetlinkConnection('test', always);
  await assert.rejects(c2.dump(T, Buffer.alloc(0), { op: 'dump', retries: 2 }), DumpInterruptedError);
  assert.equal(always.requests.length, 3);
  conn.close();
  c2.close();
});

test('a datagram from a non-zero port is ignored', async () => {
  let req0: Parameters<typeof nlError>[0] | undefined;
  const t = fakeTransport((req) => {
    req0 = req;
    return [];
  });
  const conn = new NetlinkConnection('test', t);
  const p = conn.do(T, Buffer.alloc(0), { op: 'set' });
  t.inject(nlError(req0!, 1), 999); // a spoofed error from another process
  t.inject(nlError(req0!, 0), 0);
  assert.deepEqual(await p, []);
  assert.equal(conn.foreignDatagrams, 1);
  conn.close();
});

test('a truncated datagram fails the pending request with a DecodeError; the next request works', async () => {
  let mode: 'broken' | 'ok' = 'broken';
  const t = fakeTransport((req) => {
    if (mode === 'broken') return [multipart(req, T, [Buffer.alloc(40)])[0]!.subarray(0, 30)];
    return [nlError(req, 0)];
  });
  const conn = new NetlinkConnection('test', t);
  await assert.rejects(conn.dump(T, Buffer.alloc(0), { op: 'dump' }), DecodeError);
  mode = 'ok';
  assert.deepEqual(await conn.do(T, Buffer.alloc(0), { op: 'set' }), []);
  conn.close();
});

test('no answer → a timeout error naming the operation; a late answer is ignored', async () => {
  let late: Buffer | undefined;
  const t = fakeTransport((req) => {
    late = nlError(req, 0);
    return [];
  });
  const conn = new NetlinkConnection('test', t);
  const keepAlive = setTimeout(() => undefined, 5000); // the engine's timer is unref'd (it never holds the process)
  await assert.rejects(conn.do(T, Buffer.alloc(0), { op: 'get thing', timeoutMs: 30 }), (e) => e instanceof NetlinkError && /test: get thing: ETIMEDOUT \(no answer in 30 ms\)/.test(e.message));
  t.inject(late!);
  await new Promise((r) => setImmediate(r));
  clearTimeout(keepAlive);
  conn.close();
});

test('a dump times out on silence, not on its whole length: parts every 25 ms over 750 ms pass a 400 ms timeout; silence after them fails it', async () => {
  let req: Parameters<Parameters<typeof fakeTransport>[0]>[0] | undefined;
  const t = fakeTransport((r) => ((req = r), []));
  const conn = new NetlinkConnection('test', t);
  const keepAlive = setTimeout(() => undefined, 5000);
  const part = (i: number) => encodeMessage(T, NLM_F_MULTI, req!.seq, Buffer.from(`p${i}`), 0);
  // Gaps far below the timeout (a loaded CI host delays timers by tens of ms), the whole dump well above it.
  const flowing = conn.dump(T, Buffer.alloc(0), { op: 'dump slowly', timeoutMs: 400 });
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, 25));
    t.inject(part(i));
  }
  t.inject(encodeMessage(NLMSG_DONE, NLM_F_MULTI, req!.seq, Buffer.alloc(4), 0));
  assert.equal((await flowing).length, 30, 'every part, no timeout while they flowed');
  const stalled = conn.dump(T, Buffer.alloc(0), { op: 'dump SAs', timeoutMs: 60 });
  await new Promise((r) => setTimeout(r, 20));
  t.inject(part(0));
  await assert.rejects(stalled, (e) => e instanceof NetlinkError && /test: dump SAs: ETIMEDOUT \(no answer in 60 ms after 1 of its messages\)/.test(e.message));
  clearTimeout(keepAlive);
  conn.close();
});

test('close() rejects what is pending', async () => {
  const t = fakeTransport(() => []);
  const conn = new NetlinkConnection('test', t);
  const p = conn.dump(T, Buffer.alloc(0), { op: 'dump' });
  conn.close();
  await assert.rejects(p, /connection closed/);
});

test('a send failure rejects that request only', async () => {
  let fail = true;
  const t = fakeTransport((req) => (fail ? new Error('EMSGSIZE') : [nlError(req, 0)]));
  const conn = new NetlinkConnection('test', t);
  await assert.rejects(conn.do(T, Buffer.alloc(0), { op: 'set' }), /EMSGSIZE/);
  fail = false;
  assert.deepEqual(await conn.do(T, Buffer.alloc(0), { op: 'set' }), []);
  conn.close();
});

test('a timeout whose read-what-is-waiting fails (ENOBUFS) rejects the requests with that error, no throw from the timer', async () => {
  const t = fakeTransport(() => []);
  const lost = Object.assign(new Error('test: recv: ENOBUFS (receive buffer overflowed, events were lost)'), { code: 'ENOBUFS' });
  t.drain = () => {
    throw lost;
  };
  const conn = new NetlinkConnection('test', t);
  const hold = setInterval(() => {}, 20); // request timers are unref'd: keep the test's event loop alive
  const a = conn.do(T, Buffer.alloc(0), { op: 'one', timeoutMs: 10 });
  const b = conn.do(T, Buffer.alloc(0), { op: 'two', timeoutMs: 5000 });
  await assert.rejects(a, /ENOBUFS/);
  await assert.rejects(b, /ENOBUFS/);
  clearInterval(hold);
  conn.close();
});

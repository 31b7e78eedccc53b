// PF_KEY v2: struct sizes, encoder/decoder round trips for every extension, malformed input as
// DecodeError, the request engine over a fake socket (dumps until seq 0, ENOENT = empty, broadcasts
// ignored, errno), the PROMISC monitor (duplicates, our own pid), and the source end to end on fakes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../../server/netlink/errors.ts';
import {
  decodeSadbMessage, encodeSadbMessage, parseIp, type SadbExtensions, type SadbMessage,
} from '../../../server/families/pfkey/message.ts';
import { EXT, PFKEY_STRUCTS, SADB, SATYPE } from '../../../server/families/pfkey/spec.ts';
import { PfkeyConnection, PfkeyError } from '../../../server/families/pfkey/conn.ts';
import { openPromiscMonitor } from '../../../server/families/pfkey/monitor.ts';
import { PFKEY_NOT_AVAILABLE, PfkeySource, RegisterBusyError } from '../../../server/families/pfkey/source.ts';
import { keyFingerprint } from '../../../server/families/fingerprint.ts';
import { Model } from '../../../server/model/model.ts';
import { AF_INET, AF_INET6 } from '../../../server/sys/libc.ts';
import { fakePfkeyTransport, fakePromiscSocket, reply } from './fake.ts';
import { buildAddSa } from '../../tools/pfkey-sa.ts';
import type { Logger } from '../../../server/log.ts';

const quiet = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;

test('every sadb struct has the size pfkeyv2.h states', () => {
  const sizes: Record<string, number> = {
    sadb_msg: 16, sadb_ext: 4, sadb_sa: 16, sadb_lifetime: 32, sadb_address: 8, sadb_key: 8, sadb_ident: 16, sadb_sens: 16,
    sadb_prop: 8, sadb_comb: 72, sadb_supported: 8, sadb_alg: 8, sadb_spirange: 16, sadb_x_kmprivate: 8, sadb_x_sa2: 16,
    sadb_x_policy: 16, sadb_x_ipsecrequest: 16, sadb_x_nat_t_type: 8, sadb_x_nat_t_port: 8, sadb_x_sec_ctx: 8,
    sadb_x_kmaddress: 8, sadb_x_filter: 40,
  };
  for (const s of PFKEY_STRUCTS) assert.equal(s.size, sizes[s.name], s.name);
  assert.equal(PFKEY_STRUCTS.length, Object.keys(sizes).length);
});

test('parseIp reads IPv4, IPv6 and IPv4-mapped text', () => {
  assert.equal(parseIp('10.0.0.2').toString('hex'), '0a000002');
  assert.equal(parseIp('fd00::1').toString('hex'), 'fd000000000000000000000000000001');
  assert.equal(parseIp('::').toString('hex'), '0'.repeat(32));
  assert.equal(parseIp('::ffff:1.2.3.4').toString('hex'), '00000000000000000000ffff01020304');
  assert.equal(parseIp('1:2:3:4:5:6:7:8').toString('hex'), '00010002000300040005000600070008');
});

const v4 = (address: string, prefixlen = 32, proto = 255, port = 0) => ({ family: AF_INET, address, port, proto, prefixlen });
const v6 = (address: string, prefixlen = 128, proto = 255, port = 0) => ({ family: AF_INET6, address, port, proto, prefixlen });
const life = (n: number) => ({ allocations: n, bytes: BigInt(n) * 1000n, addtime: BigInt(n) + 1n, usetime: 0n });

test('every extension survives encode → decode (key bytes become length + fingerprint)', () => {
  const authKey = Buffer.alloc(32, 0x11);
  const encKey = Buffer.alloc(16, 0x22);
  const ext: SadbExtensions = {
    sa: { spi: 0xdeadbeef, replay: 32, state: 1, auth: 5, encrypt: 12, flags: 0x80000000 },
    lifetimeCurrent: life(1), lifetimeHard: life(2), lifetimeSoft: life(3),
    addressSrc: v4('10.0.0.1'), addressDst: v4('10.0.0.2'), addressProxy: v6('fd00:1::', 64, 6, 443),
    keyAuth: { bits: 256, key: authKey }, keyEncrypt: { bits: 128, key: encKey },
    identitySrc: { type: 2, id: 7n, value: 'moon.example' }, identityDst: { type: 3, id: 0n, value: '' },
    sensitivity: { dpd: 1, sensLevel: 2, integLevel: 3, sensBitmap: '0102030405060708', integBitmap: '' },
    proposal: { replay: 64, combs: [{ auth: 5, encrypt: 12, flags: 0, authMinbits: 256, authMaxbits: 256, encryptMinbits: 128, encryptMaxbits: 256, softAllocations: 1, hardAllocations: 2, softBytes: 3n, hardBytes: 4n, softAddtime: 5n, hardAddtime: 6n, softUsetime: 7n, hardUsetime: 8n }] },
    supportedAuth: [{ id: 5, ivlen: 0, minbits: 256, maxbits: 256 }], supportedEncrypt: [{ id: 12, ivlen: 8, minbits: 128, maxbits: 256 }, { id: 3, ivlen: 8, minbits: 192, maxbits: 192 }],
    spirange: { min: 0x100, max: 0xffff },
    kmprivate: { length: 8 },
    policy: { type: 2, dir: 2, id: 9, priority: 100, requests: [
      { proto: 50, mode: 2, level: 3, reqid: 7, tunnelSrc: { family: AF_INET, address: '192.0.2.1', port: 0 }, tunnelDst: { family: AF_INET, address: '192.0.2.2', port: 0 } },
      { proto: 51, mode: 1, level: 2, reqid: 0 },
    ] },
    sa2: { mode: 2, sequence: 5, reqid: 42 },
    natTType: { type: 2 }, natTSport: { port: 4500 }, natTDport: { port: 4501 }, natTOa: v4('198.51.100.7', 32, 0),
    secCtx: { alg: 1, doi: 1, context: 'system_u:object_r:ipsec_spd_t:s0' },
    kmaddress: { local: { family: AF_INET6, address: 'fd00::1', port: 0 }, remote: { family: AF_INET6, address: 'fd00::2', port: 0 } },
    filter: { saddr: '0a000000'.padEnd(32, '0'), daddr: '0a000100'.padEnd(32, '0'), family: AF_INET, splen: 24, dplen: 24 },
  };
  const buf = encodeSadbMessage({ type: SADB.ADD, satype: SATYPE.ESP, seq: 3, pid: 77 }, ext);
  assert.equal(buf.length % 8, 0);
  assert.equal(buf.readUInt16LE(4) * 8, buf.length);
  const m = decodeSadbMessage(buf);
  assert.deepEqual(m.header, { version: 2, type: SADB.ADD, errno: 0, satype: SATYPE.ESP, len: buf.length / 8, reserved: 0, seq: 3, pid: 77 });
  const expected = { ...ext, keyAuth: { bits: 256, fingerprint: keyFingerprint(authKey) }, keyEncrypt: { bits: 128, fingerprint: keyFingerprint(encKey) } };
  assert.deepEqual(m.ext, expected);
  assert.equal(m.unknown, undefined);
  // Every extension number Linux defines (1..26) was exercised.
  assert.equal(Object.keys(m.ext).length, 26);
  // Key bytes are nowhere in the decoded value.
  const json = JSON.stringify(m, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  assert.ok(!json.includes(authKey.toString('hex')) && !json.includes('1111111111'));
});

test('unknown extension types are kept as type and length only', () => {
  const base = encodeSadbMessage({ type: SADB.GET, satype: SATYPE.ESP }, { sa: { spi: 1, replay: 0, state: 1, auth: 0, encrypt: 0, flags: 0 } });
  const secret = Buffer.alloc(16, 0x42);
  const unknown = Buffer.concat([Buffer.from([3, 0, 99, 0, 0, 0, 0, 0]), secret]);
  const buf = Buffer.concat([base, unknown]);
  buf.writeUInt16LE(buf.length / 8, 4);
  const m = decodeSadbMessage(buf);
  assert.deepEqual(m.unknown, [{ type: 99, length: 24 }]);
  assert.ok(!JSON.stringify(m.unknown).includes('42424242'));
});

test('malformed messages throw DecodeError, never anything else', () => {
  const good = encodeSadbMessage({ type: SADB.DUMP }, { sa: { spi: 1, replay: 0, state: 1, auth: 0, encrypt: 0, flags: 0 } });
  const cases: Array<[string, Buffer]> = [
    ['short', good.subarray(0, 10)],
    ['bad version', Buffer.from(good).fill(3, 0, 1)],
    ['len past end', (() => { const b = Buffer.from(good); b.writeUInt16LE(9, 4); return b; })()],
    ['len too small', (() => { const b = Buffer.from(good); b.writeUInt16LE(1, 4); return b; })()],
    ['zero-length extension', (() => { const b = Buffer.from(good); b.writeUInt16LE(0, 16); return b; })()],
    ['extension past the message', (() => { const b = Buffer.from(good); b.writeUInt16LE(5, 16); return b; })()],
    ['extension shorter than its struct', (() => { const b = Buffer.concat([good.subarray(0, 16), Buffer.from([1, 0, 6, 0, 0, 0, 0, 0])]); b.writeUInt16LE(3, 4); return b; })()],
    ['duplicate extension', (() => { const b = Buffer.concat([good, good.subarray(16)]); b.writeUInt16LE(b.length / 8, 4); return b; })()],
    ['key bits past the extension', (() => {
      const b = encodeSadbMessage({ type: SADB.ADD }, { keyAuth: { bits: 64, key: Buffer.alloc(8) } });
      b.writeUInt16LE(4096, 16 + 4);
      return b;
    })()],
  ];
  for (const [name, buf] of cases) assert.throws(() => decodeSadbMessage(buf), DecodeError, name);
});

// ---- request engine ----

const saReply = (req: SadbMessage, seq: number, spi: number): Buffer =>
  reply(req, { seq, satype: SATYPE.ESP }, { sa: { spi, replay: 32, state: 1, auth: 5, encrypt: 12, flags: 0 }, addressSrc: v4('10.0.0.1', 32, 0), addressDst: v4('10.0.0.2', 32, 0), sa2: { mode: 2, sequence: 0, reqid: 1 } });

test('a dump collects replies until the one with seq 0, ignoring broadcasts in between', async () => {
  const t = fakePfkeyTransport((req) => [
    saReply(req, 1, 0x10),
    // another process's ADD notification, broadcast to every PF_KEY socket
    encodeSadbMessage({ type: SADB.ADD, satype: SATYPE.ESP, seq: 9, pid: 4321 }),
    saReply(req, 2, 0x11),
    saReply(req, 0, 0x12),
  ]);
  const conn = new PfkeyConnection('pfkey', t, 1234);
  const r = await conn.dump({ type: SADB.DUMP, op: 'dump SAs' });
  assert.deepEqual(r.messages.map((m) => m.ext.sa!.spi), [0x10, 0x11, 0x12]);
  assert.equal(r.endErrno, undefined);
  assert.equal(conn.broadcastsIgnored, 1);
  assert.equal(t.requests[0]!.header.pid, 1234);
  conn.close();
});

test('ENOENT answers an empty dump; other errnos reject with the errno in words', async () => {
  const t = fakePfkeyTransport((req) => [reply(req, { errno: req.header.type === SADB.DUMP ? 2 : 3 })]);
  const conn = new PfkeyConnection('pfkey', t, 1234);
  assert.deepEqual((await conn.dump({ type: SADB.DUMP, op: 'dump SAs' })).messages, []);
  await assert.rejects(conn.request({ type: SADB.GET, op: 'get SA' }), (e: unknown) => e instanceof PfkeyError && e.code === 'ESRCH' && /pfkey: get SA: ESRCH/.test(e.message));
  conn.close();
});

test('a dump the kernel cut short reports the errno of its last message', async () => {
  const t = fakePfkeyTransport((req) => [saReply(req, 1, 1), reply(req, { seq: 0, errno: 256 - 22, satype: 3 }, { sa: { spi: 2, replay: 0, state: 1, auth: 0, encrypt: 0, flags: 0 }, addressSrc: v4('10.0.0.1'), addressDst: v4('10.0.0.2') })]);
  const conn = new PfkeyConnection('pfkey', t, 1);
  const r = await conn.dump({ type: SADB.DUMP, op: 'dump SAs' });
  assert.equal(r.messages.length, 2);
  assert.equal(r.endErrno, 22);
  conn.close();
});

test('requests are serialized and matched by type, pid and seq', async () => {
  const t = fakePfkeyTransport((req) => [reply(req, { seq: req.header.seq + 1000 }), reply(req)]);
  const conn = new PfkeyConnection('pfkey', t, 5);
  const [a, b] = await Promise.all([conn.request({ type: SADB.X_PROMISC, op: 'a' }), conn.request({ type: SADB.X_PROMISC, op: 'b' })]);
  assert.equal(a.header.seq + 1, b.header.seq);
  assert.equal(conn.broadcastsIgnored, 2);
  conn.close();
});

// ---- PROMISC monitor ----

test('the promiscuous monitor switches promisc on, collapses double deliveries and skips our own messages', async () => {
  const sock = fakePromiscSocket();
  const got: SadbMessage[] = [];
  const errors: unknown[] = [];
  const mon = openPromiscMonitor({ source: 'pfkey', ownPid: 42, socket: sock }, { onMessage: (m) => got.push(m), onError: (e) => errors.push(e) });
  const on = decodeSadbMessage(sock.sent[0]!);
  assert.deepEqual([on.header.type, on.header.satype, on.header.len], [SADB.X_PROMISC, 1, 2]);
  const add = buildAddSa({ spi: 0x1000, src: '10.0.0.1', dst: '10.0.0.2', encrypt: 12, encryptKey: Buffer.alloc(16, 9), pid: 7 });
  const notify = encodeSadbMessage({ type: SADB.ADD, satype: 3, seq: 1, pid: 7 }, { sa: { spi: 0x1000, replay: 32, state: 1, auth: 0, encrypt: 12, flags: 0 } });
  sock.inject(add); // the user's request, once
  sock.inject(notify); // the kernel's notification, twice (promisc copy + broadcast copy)
  sock.inject(notify);
  sock.inject(encodeSadbMessage({ type: SADB.DUMP, seq: 1, pid: 42 })); // ours
  sock.inject(Buffer.from('0207000000090000', 'hex')); // malformed
  // read at once, handled a moment later (after the XFRM deltas of the same wake-up went out)
  assert.equal(got.length, 0);
  await new Promise((r) => setImmediate(r));
  assert.equal(got.length, 2);
  assert.equal(mon.counters.duplicates, 1);
  assert.equal(mon.counters.own, 1);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof DecodeError);
  // what was read before close is dropped, not handled after it
  sock.inject(notify);
  mon.close();
  assert.ok(sock.closed);
  await new Promise((r) => setImmediate(r));
  assert.equal(got.length, 2);
});

// ---- source end to end on fakes ----

function fakeKernelWithSad() {
  const sad = new Map<number, Buffer>(); // spi → dump reply template
  const kernel = (req: SadbMessage): Buffer[] => {
    switch (req.header.type) {
      case SADB.DUMP: {
        if (!sad.size) return [reply(req, { errno: 2 })];
        const spis = [...sad.keys()];
        return spis.map((spi, i) => saReply(req, i === spis.length - 1 ? 0 : i + 1, spi));
      }
      case SADB.X_SPDDUMP:
        return [reply(req, { errno: 2 })];
      case SADB.GET: {
        const spi = req.ext.sa!.spi;
        return sad.has(spi) ? [saReply(req, req.header.seq, spi)] : [reply(req, { errno: 3 })];
      }
      default:
        return [reply(req, { errno: 95 })];
    }
  };
  return { sad, kernel };
}

/** Wait until `done()` holds (the source's lookups are asynchronous), at most 5 s: no fixed sleep a loaded host overruns. */
const until = async (done: () => boolean) => {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
};

test('the source dumps into pfkey-sa, follows PROMISC events with SADB_GET and logs every event', async () => {
  const { sad, kernel } = fakeKernelWithSad();
  sad.set(0x10, Buffer.alloc(0));
  const model = new Model();
  const promisc = fakePromiscSocket();
  const src = new PfkeySource(model, quiet, {
    transport: fakePfkeyTransport(kernel), promiscSocket: promisc, pid: 99,
    readRegister: async () => [encodeSadbMessage({ type: SADB.REGISTER, satype: 3, pid: 99 }, { supportedAuth: [{ id: 5, ivlen: 0, minbits: 256, maxbits: 256 }], supportedEncrypt: [{ id: 12, ivlen: 8, minbits: 128, maxbits: 256 }] })],
  });
  await src.start();
  assert.equal(src.status.state, 'ok');
  assert.deepEqual(model.list('pfkey-sa').map((s) => (s as { key: string }).key), ['esp/10.0.0.2/0x00000010']);
  // REGISTER is never sent at start (the kernel's probe holds the XFRM config mutex): only when asked.
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(model.list('pfkey-alg'), []);
  assert.equal((model.get('pfkey-register', 'register') as { state: string }).state, 'idle');
  const asked = src.startRegister();
  assert.equal((model.get('pfkey-register', 'register') as { state: string }).state, 'running');
  assert.throws(() => src.startRegister(), RegisterBusyError);
  await asked.done;
  const reg = model.get('pfkey-register', 'register') as { state: string; tookMs: number; startedAt: number; finishedAt: number };
  assert.equal(reg.state, 'done');
  assert.ok(reg.tookMs >= 0 && reg.finishedAt >= reg.startedAt, JSON.stringify(reg));
  assert.deepEqual(model.list('pfkey-alg').map((a) => (a as { key: string; name: string }).name), ['hmac-sha256', 'aes-cbc']);

  // Another process adds 0x11: the kernel broadcasts ADD; the source asks the kernel for it.
  sad.set(0x11, Buffer.alloc(0));
  promisc.inject(encodeSadbMessage({ type: SADB.ADD, satype: 3, seq: 5, pid: 555 }, { sa: { spi: 0x11, replay: 0, state: 1, auth: 0, encrypt: 0, flags: 0 }, addressSrc: v4('10.0.0.1'), addressDst: v4('10.0.0.2') }));
  await until(() => model.get('pfkey-sa', 'esp/10.0.0.2/0x00000011') !== undefined);
  const sa = model.get('pfkey-sa', 'esp/10.0.0.2/0x00000011') as { reqid: number; encrypt: { name: string } };
  assert.equal(sa.encrypt.name, 'aes-cbc');
  const events = model.list('event') as Array<{ type: string; summary: string; ref?: string }>;
  assert.equal(events.at(-1)!.type, 'SADB_ADD');
  assert.equal(events.at(-1)!.ref, 'pfkey-sa:esp/10.0.0.2/0x00000011');
  assert.match(events.at(-1)!.summary, /spi 0x00000011 10\.0\.0\.1 → 10\.0\.0\.2 \(seq 5, pid 555\)/);

  // It is deleted: DELETE broadcast, GET answers ESRCH, the SA leaves the table.
  sad.delete(0x11);
  promisc.inject(encodeSadbMessage({ type: SADB.DELETE, satype: 3, seq: 6, pid: 555 }, { sa: { spi: 0x11, replay: 0, state: 1, auth: 0, encrypt: 0, flags: 0 }, addressSrc: v4('10.0.0.1'), addressDst: v4('10.0.0.2') }));
  await until(() => model.get('pfkey-sa', 'esp/10.0.0.2/0x00000011') === undefined);
  assert.equal(model.get('pfkey-sa', 'esp/10.0.0.2/0x00000011'), undefined);

  // A failed request is an event with the errno, and changes nothing.
  promisc.inject(encodeSadbMessage({ type: SADB.ADD, satype: 3, seq: 7, pid: 555, errno: 17 }));
  await until(() => (model.list('event').at(-1) as { type: string }).type === 'SADB_ADD failed: EEXIST');
  assert.equal((model.list('event').at(-1) as { type: string }).type, 'SADB_ADD failed: EEXIST');
  src.stop();
});

test('without af_key the source says PF_KEY is not available and nothing throws', async () => {
  const model = new Model();
  const src = new PfkeySource(model, quiet);
  await src.start();
  if (src.status.state === 'ok') {
    src.stop();
    return; // a kernel with af_key (the lab): covered by the lab tests
  }
  assert.ok(['not-available', 'no-permission'].includes(src.status.state), src.status.state);
  if (src.status.state === 'not-available') assert.equal(src.status.reason, PFKEY_NOT_AVAILABLE);
  // nothing to ask REGISTER of: the state says why, and asking is refused
  const reg = model.get('pfkey-register', 'register') as { state: string; reason: string };
  assert.deepEqual([reg.state, reg.reason], ['unavailable', src.status.reason]);
  assert.throws(() => src.startRegister(), RegisterBusyError);
  assert.equal((model.get('source', 'pfkey') as { state: string }).state, src.status.state);
  src.stop();
});

test('EXT numbers cover 1..26 once each', () => {
  const nums = Object.values(EXT).sort((a, b) => a - b);
  assert.deepEqual(nums, Array.from({ length: 26 }, (_, i) => i + 1));
});

test('REGISTER: a failed reader leaves state failed with the reason', async () => {
  const { kernel } = fakeKernelWithSad();
  const model = new Model();
  const src = new PfkeySource(model, quiet, { transport: fakePfkeyTransport(kernel), promiscSocket: fakePromiscSocket(), pid: 99, readRegister: async () => Promise.reject(new Error('pfkey: register: no answer in 300 s')) });
  await src.start();
  await src.startRegister().done;
  const reg = model.get('pfkey-register', 'register') as { state: string; reason: string };
  assert.deepEqual([reg.state, reg.reason], ['failed', 'pfkey: register: no answer in 300 s']);
  src.stop();
});

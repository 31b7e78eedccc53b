// AF_ALG encodings (sockaddr_alg, cmsg with CMSG_ALIGN) and the probe runner's rules: one probe at a
// time, clear reasons when AF_ALG cannot be used, the plan for each algorithm, and no key in any result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALG_SET_AEAD_ASSOCLEN, ALG_SET_IV, ALG_SET_OP, CMSG_HDR_LEN, SOCKADDR_ALG_SIZE, cmsgSpace, decodeAlgControl, encodeAlgControl, encodeSockaddrAlg,
} from '../../../server/families/alg/spec.ts';
import { DEFAULT_USES, ProbeBusyError, ProbeRunner, planFor } from '../../../server/families/alg/runner.ts';
import type { ProbePlan } from '../../../server/families/alg/probe.ts';
import { parseProcCrypto } from '../../../server/families/crypto/proc.ts';
import { SyscallError, Errno } from '../../../server/sys/errno.ts';
import { AF_ALG, SOL_ALG } from '../../../server/sys/libc.ts';
import { Model } from '../../../server/model/model.ts';
import { createLogger } from '../../../server/log.ts';

test('sockaddr_alg: family, type at 2, name at 24, 88 bytes (longer names: sockaddr_alg_new)', () => {
  const a = encodeSockaddrAlg('aead', 'rfc4106(gcm(aes))');
  assert.equal(a.length, SOCKADDR_ALG_SIZE);
  assert.equal(a.readUInt16LE(0), AF_ALG);
  assert.equal(a.toString('utf8', 2, 6), 'aead');
  assert.equal(a[6], 0);
  assert.equal(a.toString('utf8', 24, 24 + 17), 'rfc4106(gcm(aes))');
  const long = encodeSockaddrAlg('skcipher', 'x'.repeat(100));
  assert.equal(long.length, 24 + 101);
  assert.throws(() => encodeSockaddrAlg('a-type-too-long', 'x'), RangeError);
});

test('cmsg: ALG_SET_OP, ALG_SET_IV (af_alg_iv) and ALG_SET_AEAD_ASSOCLEN laid out with CMSG_ALIGN, round trip', () => {
  const iv = Buffer.from('0011223344556677', 'hex');
  const buf = encodeAlgControl({ op: 'encrypt', iv, assoclen: 16 });
  // OP: 16 + 4 → 24; IV: 16 + 4 + 8 = 28 → 32; ASSOCLEN: 24.
  assert.equal(buf.length, cmsgSpace(4) + cmsgSpace(12) + cmsgSpace(4));
  assert.equal(buf.length, 24 + 32 + 24);
  assert.equal(buf.readBigUInt64LE(0), BigInt(CMSG_HDR_LEN + 4));
  assert.equal(buf.readInt32LE(8), SOL_ALG);
  assert.equal(buf.readInt32LE(12), ALG_SET_OP);
  assert.equal(buf.readUInt32LE(16), 1 /* ALG_OP_ENCRYPT */);
  assert.equal(buf.readBigUInt64LE(24), BigInt(CMSG_HDR_LEN + 12));
  assert.equal(buf.readInt32LE(24 + 12), ALG_SET_IV);
  assert.equal(buf.readUInt32LE(24 + 16), 8, 'ivlen');
  assert.deepEqual(buf.subarray(24 + 20, 24 + 28), iv);
  assert.equal(buf.readInt32LE(56 + 12), ALG_SET_AEAD_ASSOCLEN);
  assert.equal(buf.readUInt32LE(56 + 16), 16);
  const back = decodeAlgControl(buf);
  assert.deepEqual({ op: back.op, iv: back.iv, assoclen: back.assoclen, unknown: back.unknown }, { op: 'encrypt', iv, assoclen: 16, unknown: [] });
  for (const c of [{ op: 'decrypt' as const }, { iv: Buffer.alloc(16, 7) }, { iv: Buffer.alloc(12, 1), assoclen: 0 }, {}]) {
    const r = decodeAlgControl(encodeAlgControl(c));
    assert.deepEqual({ op: r.op, iv: r.iv, assoclen: r.assoclen }, { op: c.op, iv: 'iv' in c ? c.iv : undefined, assoclen: 'assoclen' in c ? c.assoclen : undefined });
  }
});

const ALGS = parseProcCrypto(`name : rfc4106(gcm(aes))
driver : rfc4106-gcm-aesni
module : kernel
priority : 400
selftest : passed
internal : no
type : aead
ivsize : 8
maxauthsize : 16

name : cbc(aes)
driver : cbc-aes-aesni
module : kernel
priority : 400
selftest : passed
internal : no
type : skcipher
ivsize : 16

name : cbc(aes)
driver : cbc(aes-generic)
module : kernel
priority : 100
selftest : passed
internal : no
type : skcipher
ivsize : 16
`);

test('probe plan: AEAD with key+salt, tag and 16 bytes of AAD; skcipher with /proc/crypto ivsize; hash keyed; skips said', () => {
  assert.deepEqual(planFor({ name: 'rfc4106(gcm(aes))', role: 'aead', keyBits: [160], icvBits: 128 }, ALGS), { name: 'rfc4106(gcm(aes))', type: 'aead', keyBytes: 20, ivBytes: 8, authsize: 16, assoclen: 16 });
  assert.deepEqual(planFor({ name: 'cbc(aes)', role: 'enc', keyBits: [256] }, ALGS), { name: 'cbc(aes)', type: 'skcipher', keyBytes: 32, ivBytes: 16 });
  assert.deepEqual(planFor({ name: 'hmac(sha256)', role: 'auth', keyBits: [256] }, ALGS), { name: 'hmac(sha256)', type: 'hash', keyBytes: 32 });
  assert.deepEqual(planFor({ name: 'gcm(aes)', role: 'aead', keyBits: [128] }, []), { name: 'gcm(aes)', type: 'aead', keyBytes: 16, ivBytes: 12, authsize: 16, assoclen: 16 });
  assert.match((planFor({ name: 'deflate', role: 'comp', keyBits: [0] }, ALGS) as { skip: string }).skip, /AF_ALG/);
  assert.match((planFor({ name: 'ecb(cipher_null)', role: 'enc', keyBits: [0] }, ALGS) as { skip: string }).skip, /null/);
});

function deferred() {
  let resolve!: () => void;
  const p = new Promise<void>((r) => (resolve = r));
  return { p, resolve };
}

function runner(opts: { unavailable?: string; measure?: (plan: ProbePlan) => Promise<{ bytes: number; seconds: number }>; uses?: Parameters<typeof planFor>[0][] } = {}) {
  const model = new Model();
  const plans: ProbePlan[] = [];
  const r = new ProbeRunner({
    sink: model,
    log: createLogger('silent'),
    uses: () => opts.uses ?? [],
    algorithms: () => ALGS,
    reread: async () => undefined,
    unavailable: () => opts.unavailable,
    measure: async (plan) => {
      plans.push(plan);
      return opts.measure ? opts.measure(plan) : { bytes: 64 * 1024 * 1024, seconds: 0.5 };
    },
  });
  r.publish();
  return { model, r, plans };
}

test('probe: one at a time — a second request while one runs is refused with a clear message', async () => {
  const gate = deferred();
  const { r, model } = runner({ measure: async () => (await gate.p, { bytes: 1_000_000, seconds: 0.01 }) });
  const first = r.start();
  await new Promise((res) => setImmediate(res));
  assert.equal(r.busy, true);
  assert.equal((model.get('crypto-probe', 'probe') as { state: string }).state, 'running');
  assert.throws(() => r.start(), (err: unknown) => err instanceof ProbeBusyError && /already running/.test(err.message) && /wait for it to finish/.test(err.message));
  gate.resolve();
  const done = await first;
  assert.equal(done.state, 'done');
  assert.equal(r.busy, false);
  const again = r.start(); // allowed once the first finished
  await again;
});

test('probe: with no SA in use the default ESP set is measured, with rates, drivers and no key anywhere', async () => {
  const { r, plans, model } = runner();
  const res = await r.start();
  assert.equal(res.basis, 'default');
  assert.deepEqual(plans.map((p) => p.name), DEFAULT_USES.map((u) => u.name));
  assert.deepEqual(res.results.map((x) => [x.name, x.mbPerSec, x.driver]), [
    ['rfc4106(gcm(aes))', 134.2, 'rfc4106-gcm-aesni'],
    ['cbc(aes)', 134.2, 'cbc-aes-aesni'],
    ['hmac(sha256)', 134.2, undefined],
  ]);
  const wire = JSON.stringify(model.get('crypto-probe', 'probe'));
  assert.ok(!/key"\s*:/.test(wire.replace(/"key":"probe"/, '')), 'no key field in the entity');
  const ev = (model.list('event') as Array<{ type: string; summary: string }>).find((e) => e.type === 'probe');
  assert.match(ev!.summary, /rfc4106\(gcm\(aes\)\) 134.2 MB\/s/);
});

test('probe: AF_ALG unavailable (restricted, no socket) → state unavailable with the reason; EAFNOSUPPORT mid-run too', async () => {
  const a = runner({ unavailable: 'AF_ALG is restricted: /proc/sys/crypto/af_alg_restrict = 1' });
  const ra = await a.r.start();
  assert.equal(ra.state, 'unavailable');
  assert.match(ra.reason!, /restricted/);
  assert.equal(a.plans.length, 0);

  const b = runner({ measure: async () => { throw new SyscallError('alg', 'socket', Errno.EAFNOSUPPORT); } });
  const rb = await b.r.start();
  assert.equal(rb.state, 'unavailable');
  assert.match(rb.reason!, /AF_ALG is not in this kernel/);

  const c = runner({
    uses: [{ name: 'cbc(aes)', role: 'enc', keyBits: [128] }, { name: 'hmac(sha256)', role: 'auth', keyBits: [256] }],
    measure: async (plan) => {
      if (plan.type === 'hash') throw new SyscallError('alg', 'bind(hash, hmac(sha256))', Errno.ENOENT, 'no such algorithm, or algif_hash not in this kernel');
      return { bytes: 2_000_000, seconds: 0.1 };
    },
  });
  const rc = await c.r.start();
  assert.equal(rc.state, 'done');
  assert.equal(rc.basis, 'in-use');
  assert.equal(rc.results[0]!.mbPerSec, 20);
  assert.match(rc.results[1]!.error!, /algif_hash not in this kernel/);
});

test('probe: a rate far below 0.1 MB/s (an emulated CPU) keeps four significant digits, never 0', async () => {
  const { r } = runner({ uses: [{ name: 'rfc4106(gcm(aes))', role: 'aead', keyBits: [160] }], measure: async () => ({ bytes: 16384, seconds: 1.666726 }) });
  const res = await r.start();
  assert.equal(res.results[0]!.mbPerSec, 0.00983);
});

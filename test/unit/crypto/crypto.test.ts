// /proc/crypto parsing and the crypto panel's header facts, from captured text (this host's 6.18 kernel,
// and the lab's 7.2 kernels where captured) and hand-made files for the states a host may be in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../helpers.ts';
import { parseProcCrypto } from '../../../server/families/crypto/proc.ts';
import { servingDriver, candidatesFor } from '../../../server/wire/crypto.ts';
import { afAlgUnavailable, fipsState, readCryptoInfo, type FileReader } from '../../../server/families/crypto/info.ts';
import { CryptoSource } from '../../../server/families/crypto/source.ts';
import { DecodeError } from '../../../server/netlink/errors.ts';
import { Model } from '../../../server/model/model.ts';
import type { CryptoAlgorithm } from '../../../server/wire/crypto.ts';
import { createLogger } from '../../../server/log.ts';

const fixtures = path.join(projectRoot, 'test/fixtures/crypto');
/** A captured file without its provenance comment lines. */
const captured = (name: string) => readFileSync(path.join(fixtures, name), 'utf8').split('\n').filter((l) => !l.startsWith('#')).join('\n');

const GCM_AESNI = `name         : rfc4106(gcm(aes))
driver       : rfc4106-gcm-aesni
module       : aesni_intel
priority     : 400
refcnt       : 3
selftest     : passed
internal     : no
type         : aead
async        : yes
blocksize    : 1
ivsize       : 8
maxauthsize  : 16
geniv        : <none>

name         : __rfc4106(gcm(aes))
driver       : __rfc4106-gcm-aesni
module       : aesni_intel
priority     : 400
refcnt       : 1
selftest     : passed
internal     : yes
type         : aead

name         : rfc4106(gcm(aes))
driver       : rfc4106(gcm_base(ctr(aes-generic),ghash-generic))
module       : kernel
priority     : 100
refcnt       : 1
selftest     : passed
internal     : no
fips         : yes
type         : aead
async        : no
blocksize    : 1
ivsize       : 8
maxauthsize  : 16
geniv        : <none>
brand-new-line : some value
`;

test('/proc/crypto: common lines, type-specific fields kept as given, numbers as numbers', () => {
  const algs = parseProcCrypto(GCM_AESNI);
  assert.equal(algs.length, 3);
  const [aesni, internal, generic] = algs as [CryptoAlgorithm, CryptoAlgorithm, CryptoAlgorithm];
  assert.deepEqual(aesni, {
    key: 'rfc4106-gcm-aesni', name: 'rfc4106(gcm(aes))', driver: 'rfc4106-gcm-aesni', module: 'aesni_intel', priority: 400, refcnt: 3,
    selftest: 'passed', internal: false, type: 'aead', fields: { async: 'yes', blocksize: 1, ivsize: 8, maxauthsize: 16, geniv: '<none>' },
  });
  assert.equal(internal.internal, true);
  assert.equal(generic.fips, true);
  assert.equal((aesni as CryptoAlgorithm).fips, undefined, 'no fips line, no fips field');
  assert.equal(generic.fields['brand-new-line'], 'some value', 'unknown lines are kept');
});

test('/proc/crypto: the serving driver is the highest-priority usable entry (internal ones never)', () => {
  const algs = parseProcCrypto(GCM_AESNI);
  assert.equal(servingDriver(algs, 'rfc4106(gcm(aes))', 'aead')?.driver, 'rfc4106-gcm-aesni');
  assert.deepEqual(candidatesFor(algs, 'rfc4106(gcm(aes))').map((a) => a.driver), ['rfc4106-gcm-aesni', 'rfc4106(gcm_base(ctr(aes-generic),ghash-generic))']);
  assert.equal(servingDriver(algs, '__rfc4106(gcm(aes))'), undefined);
  const failed = parseProcCrypto(GCM_AESNI.replace('selftest     : passed', 'selftest     : failed'));
  assert.equal(servingDriver(failed, 'rfc4106(gcm(aes))')?.module, 'kernel', 'a failed self-test is skipped');
});

test('/proc/crypto: captured files parse completely (this host, and the lab kernels where captured)', () => {
  const files = readdirSync(fixtures).filter((f) => f.endsWith('.proc-crypto.txt'));
  assert.ok(files.length >= 1);
  for (const f of files) {
    const text = captured(f);
    const algs = parseProcCrypto(text);
    assert.equal(algs.length, (text.match(/^name\s*:/gm) ?? []).length, `${f}: one entry per name line`);
    for (const a of algs) assert.ok(a.name && a.driver && a.type !== 'unknown', `${f}: ${a.driver} complete`);
  }
  // This host (6.18): cbc(aes) exists as an lskcipher, sha256 as an shash.
  const host = parseProcCrypto(captured('host-6.18.proc-crypto.txt'));
  assert.equal(servingDriver(host, 'cbc(aes)', 'skcipher')?.type, 'lskcipher');
  assert.ok(servingDriver(host, 'sha256', 'hash'));
});

test('/proc/crypto: a block without name or driver is a DecodeError; garbage lines are skipped', () => {
  assert.throws(() => parseProcCrypto('driver : x\nmodule : kernel\n'), DecodeError);
  assert.deepEqual(parseProcCrypto('\n\n'), []);
  assert.equal(parseProcCrypto('name : a\ndriver : b\nno colon here\n')[0]!.driver, 'b');
  const dup = parseProcCrypto('name : a\ndriver : b\n\nname : a\ndriver : b\n');
  assert.deepEqual(dup.map((a) => a.key), ['b', 'b#2']);
});

function fakeFs(files: Record<string, string>, dirs: string[] = []): FileReader {
  return { read: (p) => files[p], exists: (p) => dirs.includes(p) || p in files };
}

test('crypto info: fips_enabled absent / 0 / 1; af_alg_restrict absent (7.2) and present (7.3)', () => {
  assert.match(fipsState(undefined).fipsNote!, /absent/);
  assert.deepEqual(fipsState('1\n'), { fipsEnabled: true });
  assert.deepEqual(fipsState('0\n'), { fipsEnabled: false });

  const ok = () => ({ ok: true });
  const i72 = readCryptoInfo(fakeFs({ '/proc/modules': 'algif_hash 16384 0 - Live 0x0\naf_alg 32768 1 algif_hash, Live 0x0\n' }), ok);
  assert.deepEqual(i72.afAlg.restrict, { present: false });
  assert.equal(i72.afAlg.modules.find((m) => m.name === 'algif_hash')!.state, 'loaded');
  assert.equal(i72.afAlg.modules.find((m) => m.name === 'algif_aead')!.state, 'not-loaded');
  assert.equal(afAlgUnavailable(i72), undefined);

  const i73 = readCryptoInfo(fakeFs({ '/proc/modules': '', '/proc/sys/crypto/af_alg_restrict': '1\n' }), ok);
  assert.deepEqual(i73.afAlg.restrict, { present: true, value: '1' });
  assert.match(afAlgUnavailable(i73)!, /restricted: \/proc\/sys\/crypto\/af_alg_restrict = 1/);
  const i73open = readCryptoInfo(fakeFs({ '/proc/sys/crypto/af_alg_restrict': '0\n' }), ok);
  assert.equal(afAlgUnavailable(i73open), undefined);

  const builtin = readCryptoInfo(fakeFs({}, ['/sys/module/af_alg']), ok);
  assert.equal(builtin.afAlg.procModules, false);
  assert.equal(builtin.afAlg.modules[0]!.state, 'built-in');
  assert.equal(builtin.afAlg.modules[1]!.state, 'unknown');

  const none = readCryptoInfo(fakeFs({}), () => ({ ok: false, error: 'crypto: socket: EAFNOSUPPORT (address family not in this kernel)' }));
  assert.match(afAlgUnavailable(none)!, /EAFNOSUPPORT/);
});

test('crypto source: crypto-alg rows and the crypto-info row; a missing /proc/crypto is a state, not a crash', async () => {
  const model = new Model();
  const src = new CryptoSource(model, createLogger('silent'), { fs: fakeFs({ '/proc/crypto': GCM_AESNI }), socket: () => ({ ok: true }), intervalMs: 0 });
  await src.start();
  assert.equal(src.status.state, 'ok');
  assert.equal(model.count('crypto-alg'), 3);
  const info = model.get('crypto-info', 'crypto') as { algorithms: number; fipsNote?: string };
  assert.equal(info.algorithms, 3);
  assert.ok(info.fipsNote);

  const m2 = new Model();
  const s2 = new CryptoSource(m2, createLogger('silent'), { fs: fakeFs({}), socket: () => ({ ok: true }), intervalMs: 0 });
  await s2.start();
  assert.equal(s2.status.state, 'ok');
  assert.match(s2.status.reason!, /\/proc\/crypto absent/);
  assert.equal(m2.count('crypto-alg'), 0);
});

// Kernel crypto on Debian's 7.2 kernel (AF_ALG as modules): the crypto panel's facts (no /proc/sys/crypto in
// 7.2, so no fips_enabled and no af_alg_restrict), the driver serving each algorithm SAs use compared with a
// separate awk reading of /proc/crypto, and the AF_ALG probe: with algif_hash kept from loading it says why
// for the hash and measures the rest; a second request while one runs is refused; then every rate.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cleanupAll, requireLab, sh } from '../scenarios/index.ts';
import { addEspSasCommand, highestDriver, runProbe, startInProcess, until, type InProcess } from './devcrypto.ts';

const BLOCK = '/etc/modprobe.d/sascope-lab-no-algif-hash.conf';

describe('kernel crypto (debian kernel)', () => {
  let s: InProcess;
  before(async () => {
    requireLab();
    await cleanupAll();
    await sh(`ip xfrm state flush; echo 'install algif_hash /bin/false' > ${BLOCK}`);
    s = await startInProcess();
  });
  after(async () => {
    await s?.stop();
    await sh(`rm -f ${BLOCK}; ip xfrm state flush`, { allowFail: true });
  });

  test('7.2: no /proc/sys/crypto — fips_enabled absent, no af_alg_restrict; the AF_ALG socket opens; /proc/crypto read', async () => {
    const { status, body } = await s.api('/api/v1/crypto');
    assert.equal(status, 200);
    assert.equal(body.info.fipsEnabled, undefined);
    assert.match(body.info.fipsNote, /fips_enabled absent/);
    assert.deepEqual(body.info.afAlg.restrict, { present: false });
    assert.equal(body.info.afAlg.socket, true, body.info.afAlg.socketError);
    assert.equal(body.info.afAlg.procModules, true);
    assert.equal(body.info.algorithms, Number((await sh("grep -c '^name' /proc/crypto")).trim()));
    assert.ok(body.algorithms.length > 10);
    assert.equal(body.probe.state, 'idle');
  });

  test('probe with algif_hash kept from loading: hmac(sha256) says why, the others get a rate; a second request is refused', { timeout: 180_000 }, async () => {
    // Both requests leave before the server answers either: the first starts the run, the second finds it running
    // (sequential requests would depend on the run outlasting a round trip in this shared event loop).
    const [a, b] = await Promise.all([s.api('/api/v1/crypto/probe', { method: 'POST' }), s.api('/api/v1/crypto/probe', { method: 'POST' })]);
    assert.equal(a.status, 202);
    assert.equal(b.status, 409, JSON.stringify(b.body));
    assert.match(b.body.error.message, /a crypto probe is already running/);
    const done = await until('the probe to finish', () => {
      const p = s.get('crypto-probe', 'probe');
      return p && p.state !== 'running' && p.state !== 'idle' ? p : undefined;
    }, 150_000);
    assert.equal(done.state, 'done', done.reason);
    assert.equal(done.basis, 'default');
    const by = new Map(done.results.map((r) => [r.name, r]));
    assert.match(by.get('hmac(sha256)')!.error!, /algif_hash not in this kernel/);
    for (const n of ['rfc4106(gcm(aes))', 'cbc(aes)']) assert.ok((by.get(n)!.mbPerSec ?? 0) > 0, `${n}: ${JSON.stringify(by.get(n))}`);
    // The independent fact: modprobe cannot load algif_hash, and /proc/modules lacks it.
    assert.notEqual((await sh('modprobe algif_hash; echo $?', { allowFail: true })).trim(), '0');
    await s.kernel.sources.find((x) => x.id === 'crypto')!.resync('test');
    const info = s.get('crypto-info', 'crypto')!;
    assert.equal(info.afAlg.modules.find((m) => m.name === 'algif_hash')!.state, 'not-loaded');
    assert.equal(info.afAlg.modules.find((m) => m.name === 'algif_aead')!.state, 'loaded');
    const text = JSON.stringify(done);
    assert.ok(!/"key"\s*:\s*"(?!probe")/.test(text), 'no key in the probe entity');
  });

  test('SAs in use: the driver serving rfc4106(gcm(aes)), cbc(aes) and hmac(sha256) is the highest-priority /proc/crypto entry; the probe rates each', { timeout: 480_000 }, async () => {
    await sh(`rm -f ${BLOCK}`);
    await sh(addEspSasCommand());
    const uses = await until('the three algorithms with drivers', () => {
      const u = s.list('crypto-use');
      return u.length >= 3 && u.every((x) => x.driver) ? u : undefined;
    }, 180_000);
    const by = new Map(uses.map((u) => [u.key, u]));
    assert.equal(by.get('aead:rfc4106(gcm(aes))')!.driver, highestDriver('rfc4106(gcm(aes))', 'aead'));
    assert.equal(by.get('enc:cbc(aes)')!.driver, highestDriver('cbc(aes)', 'skcipher lskcipher'));
    assert.equal(by.get('auth:hmac(sha256)')!.driver, highestDriver('hmac(sha256)', 'shash ahash'));
    assert.deepEqual(by.get('aead:rfc4106(gcm(aes))')!.keyBits, [160]);
    assert.equal(by.get('aead:rfc4106(gcm(aes))')!.saCount, 1);

    const done = await runProbe(s);
    assert.equal(done.state, 'done', done.reason);
    assert.equal(done.basis, 'in-use');
    for (const r of done.results) {
      assert.ok((r.mbPerSec ?? 0) > 0, `${r.name}: ${JSON.stringify(r)}`);
      assert.ok(r.driver, `${r.name} names its driver`);
      assert.ok(r.bytes <= 64 * 1024 * 1024 && r.seconds <= 1.5, `${r.name} bounded: ${r.bytes} bytes in ${r.seconds} s`);
    }
    assert.deepEqual(done.results.map((r) => r.name).sort(), ['cbc(aes)', 'hmac(sha256)', 'rfc4106(gcm(aes))']);
  });
});

// Kernel crypto on the custom 7.2 kernel (everything built in, -cpu max exposes AES-NI): no /proc/modules,
// so the AF_ALG modules are "built in, or not in this kernel" until the probe binds; the AES-NI drivers serve
// the SAs' algorithms (checked against a separate awk reading of /proc/crypto); the probe rates each.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sh } from '../scenarios/index.ts';
import { addEspSasCommand, highestDriver, inProcessForSuite, runProbe, until } from './devcrypto.ts';

describe('kernel crypto (custom kernel)', () => {
  const sascope = inProcessForSuite('ip xfrm state flush');

  test('built-in crypto: no /proc/modules, AF_ALG socket opens, fips_enabled and af_alg_restrict absent', async () => {
    const { body } = await sascope().api('/api/v1/crypto');
    assert.equal(body.info.afAlg.socket, true, body.info.afAlg.socketError);
    assert.equal(body.info.afAlg.procModules, false);
    for (const m of body.info.afAlg.modules) assert.ok(['built-in', 'unknown'].includes(m.state), JSON.stringify(m));
    assert.deepEqual(body.info.afAlg.restrict, { present: false });
    assert.match(body.info.fipsNote, /absent/);
  });

  test('the SAs\' algorithms are served by the highest-priority drivers (AES-NI for rfc4106(gcm(aes))); the probe rates each', { timeout: 480_000 }, async () => {
    await sh(addEspSasCommand(0x8200));
    const uses = await until('drivers for the algorithms in use', () => {
      const u = sascope().list('crypto-use');
      return u.length >= 3 && u.every((x) => x.driver) ? u : undefined;
    }, 180_000);
    const by = new Map(uses.map((u) => [u.key, u]));
    const gcm = by.get('aead:rfc4106(gcm(aes))')!;
    assert.equal(gcm.driver, highestDriver('rfc4106(gcm(aes))', 'aead'));
    assert.match(gcm.driver!, /aesni|avx|vaes/, 'an AES-NI driver rather than the generic template');
    assert.ok(gcm.alternatives.length >= 0);
    assert.equal(by.get('enc:cbc(aes)')!.driver, highestDriver('cbc(aes)', 'skcipher lskcipher'));
    assert.equal(by.get('auth:hmac(sha256)')!.driver, highestDriver('hmac(sha256)', 'shash ahash'));

    const done = await runProbe(sascope());
    assert.equal(done.state, 'done', done.reason);
    for (const r of done.results) {
      assert.ok((r.mbPerSec ?? 0) > 0, `${r.name}: ${JSON.stringify(r)}`);
      assert.ok(r.driver);
    }
  });
});

// Lab self-tests for either kernel: the VM environment and AF_ALG.
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { afAlgCheck, afAlgHash, inLab, linuxSourceDir, requireLab, sh } from '../scenarios/index.ts';

describe('lab self-test (any kernel)', () => {
  test('inside the lab VM as root in the project directory, scratch on tmpfs', async () => {
    requireLab();
    assert.ok(inLab());
    assert.equal(process.getuid?.(), 0);
    assert.ok(existsSync('package.json'));
    assert.match(await sh('findmnt -n -o FSTYPE /tmp'), /tmpfs/);
    assert.match((await sh('uname -r')).trim(), /^7\.2\./);
  });

  test('the 7.2 source (uapi headers, netlink specs, ynl) is readable at $SASCOPE_LAB_SRC', () => {
    const src = linuxSourceDir();
    for (const f of ['include/uapi/linux/xfrm.h', 'include/uapi/linux/pfkeyv2.h', 'Documentation/netlink/specs/ovpn.yaml', 'tools/net/ynl/pyynl/cli.py']) {
      assert.ok(existsSync(`${src}/${f}`), `${src}/${f}`);
    }
  });

  test("an AF_ALG sha256 matches node's crypto", async () => {
    requireLab();
    const data = randomBytes(4096);
    assert.equal(await afAlgHash('sha256', data), createHash('sha256').update(data).digest('hex'));
    const key = randomBytes(32);
    assert.equal(await afAlgHash('hmac(sha256)', data, key), createHmac('sha256', key).update(data).digest('hex'));
    const check = await afAlgCheck();
    for (const kind of ['hash', 'skcipher', 'aead', 'rng']) assert.equal(check[kind], true, `${kind}: ${check[kind]}`);
  });
});

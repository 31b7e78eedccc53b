// The AF_ALG declarations (server/families/alg/spec.ts, AF_ALG/SOL_ALG of server/sys/libc.ts) against
// <linux/if_alg.h> of the lab's 7.2 source tree and the C library's <sys/socket.h>: option and operation
// numbers, struct sockaddr_alg / af_alg_iv as encoded, and the control-message layout (CMSG_LEN/CMSG_SPACE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as alg from '../../../server/families/alg/spec.ts';
import { AF_ALG, SOL_ALG } from '../../../server/sys/libc.ts';
import { assertNamesMatch, headerConstants, linuxSource, structLayouts, uapiHeader } from './kernel.ts';

const src = linuxSource('alg tables');
if (src) {
  const header = uapiHeader(src, 'linux/if_alg.h');
  const k = headerConstants(header);
  const sizes = [0, 4, 12, 20];
  const values = ['AF_ALG', 'SOL_ALG', 'sizeof(struct cmsghdr)', ...sizes.flatMap((n) => [`CMSG_LEN(${n})`, `CMSG_SPACE(${n})`])];
  const c = structLayouts(src, ['sys/socket.h', 'linux/if_alg.h'], header, ['sockaddr_alg', 'af_alg_iv'], values);
  const field = (s: string, f: string) => c.get(s)!.fields.find((x) => x.name === f)!;

  test('ALG_SET_* and ALG_OP_* are the kernel\'s', () => {
    const ours = Object.entries(alg).filter(([n, v]) => /^ALG_(SET|OP)_/.test(n) && typeof v === 'number').map(([n, v]): [number, string] => [v as number, n]);
    assert.ok(ours.length >= 7);
    assertNamesMatch('if_alg.h', ours, '', k, String);
  });
  test('AF_ALG and SOL_ALG are the C library\'s', () => {
    assert.equal(AF_ALG, c.values.get('AF_ALG'));
    assert.equal(SOL_ALG, c.values.get('SOL_ALG'));
  });
  test('sockaddr_alg is encoded with the kernel\'s layout', () => {
    assert.equal(alg.SOCKADDR_ALG_SIZE, c.get('sockaddr_alg')!.size);
    const b = alg.encodeSockaddrAlg('aead', 'gcm(aes)');
    assert.equal(b.length, c.get('sockaddr_alg')!.size);
    assert.equal(b.readUInt16LE(field('sockaddr_alg', 'salg_family').offset), AF_ALG);
    assert.equal(b.toString('utf8', field('sockaddr_alg', 'salg_type').offset).split('\0')[0], 'aead');
    assert.equal(b.toString('utf8', field('sockaddr_alg', 'salg_name').offset).split('\0')[0], 'gcm(aes)');
    for (const f of ['salg_feat', 'salg_mask']) assert.equal(b.readUInt32LE(field('sockaddr_alg', f).offset), 0, f);
  });
  test('control messages have the C library\'s cmsghdr layout and af_alg_iv the kernel\'s', () => {
    assert.equal(alg.CMSG_HDR_LEN, c.values.get('sizeof(struct cmsghdr)'));
    for (const n of sizes) {
      assert.equal(alg.cmsgLen(n), c.values.get(`CMSG_LEN(${n})`), `CMSG_LEN(${n})`);
      assert.equal(alg.cmsgSpace(n), c.values.get(`CMSG_SPACE(${n})`), `CMSG_SPACE(${n})`);
    }
    const iv = Buffer.from('00112233445566778899aabb', 'hex');
    const cm = alg.encodeAlgControl({ iv });
    const data = cm.subarray(alg.CMSG_HDR_LEN);
    assert.equal(data.readUInt32LE(field('af_alg_iv', 'ivlen').offset), iv.length);
    assert.deepEqual(data.subarray(c.get('af_alg_iv')!.size, c.get('af_alg_iv')!.size + iv.length), iv);
  });
}

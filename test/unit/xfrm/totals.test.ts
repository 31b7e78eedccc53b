// Totals (SADINFO/SPDINFO, /proc/net/xfrm_stat with rates), the fingerprint secret's storage, --netns
// errors, and the sizes of the XFRM structs this family added (koffi's C layout as the independent view).
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync, chmodSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import koffi from 'koffi';
import { AttrWriter } from '../../../server/netlink/attr.ts';
import { encodeStruct } from '../../../server/netlink/struct.ts';
import { DecodeError } from '../../../server/netlink/errors.ts';
import { decodeSadInfo, decodeSpdInfo, parseXfrmStat, XfrmStatReader } from '../../../server/families/xfrm/totals.ts';
import {
  XFRM_MSG, xfrm_aevent_id, xfrm_user_acquire, xfrm_user_report, xfrm_user_mapping, xfrm_user_kmaddress, xfrm_address_filter,
  xfrm_usersa_info, xfrm_selector, xfrm_userpolicy_info, xfrmu_sadhinfo, xfrmu_spdinfo, xfrmu_spdhinfo, xfrmu_spdhthresh, xfrm_encap_tmpl,
} from '../../../server/families/xfrm/spec.ts';
import { keyFingerprint, loadFingerprintSecret, useFingerprintSecret } from '../../../server/families/fingerprint.ts';
import { setKernelNetns, NetnsError } from '../../../server/sys/netns.ts';
import { TEST_FINGERPRINT_SECRET } from '../decoders.ts';
import { rawMessage } from './build.ts';

test('NEWSADINFO and NEWSPDINFO: u32 flags header, then XFRMA_SAD_* / XFRMA_SPD_*', () => {
  const sad = new AttrWriter().u32(1, 12).bytes(2, encodeStruct(xfrmu_sadhinfo, { sadhcnt: 8, sadhmcnt: 1048576 })).encode();
  assert.deepEqual(decodeSadInfo(rawMessage(XFRM_MSG.NEWSADINFO, Buffer.concat([Buffer.alloc(4), sad]))), { count: 12, hashBuckets: 8, hashMax: 1048576 });
  const spd = new AttrWriter()
    .bytes(1, encodeStruct(xfrmu_spdinfo, { incnt: 1, outcnt: 2, fwdcnt: 3, inscnt: 4, outscnt: 5, fwdscnt: 6 }))
    .bytes(2, encodeStruct(xfrmu_spdhinfo, { spdhcnt: 7, spdhmcnt: 1048576 }))
    .bytes(3, encodeStruct(xfrmu_spdhthresh, { lbits: 32, rbits: 32 }))
    .bytes(4, encodeStruct(xfrmu_spdhthresh, { lbits: 128, rbits: 128 }))
    .encode();
  assert.deepEqual(decodeSpdInfo(rawMessage(XFRM_MSG.NEWSPDINFO, Buffer.concat([Buffer.alloc(4), spd]))), {
    in: 1, out: 2, fwd: 3, inSocket: 4, outSocket: 5, fwdSocket: 6, hashBuckets: 7, hashMax: 1048576,
    ipv4Thresh: { lbits: 32, rbits: 32 }, ipv6Thresh: { lbits: 128, rbits: 128 },
  });
  assert.throws(() => decodeSadInfo(rawMessage(XFRM_MSG.NEWSADINFO, Buffer.alloc(2))), DecodeError);
});

test('/proc/net/xfrm_stat: every counter by name, rates between reads', () => {
  const text = (a: number, b: number) => `XfrmInError               	${a}\nXfrmOutNoStates           	${b}\n`;
  assert.deepEqual(parseXfrmStat(text(1, 2)), { XfrmInError: 1n, XfrmOutNoStates: 2n });
  assert.throws(() => parseXfrmStat('garbage line here\n'), DecodeError);
  let t = text(10, 0);
  const r = new XfrmStatReader('/x', () => t);
  assert.equal(r.sample(1000).rates, undefined);
  t = text(30, 0);
  assert.deepEqual(r.sample(3000).rates, { XfrmInError: 10, XfrmOutNoStates: 0 });
});

test('fingerprint secret: created once with mode 0600 in a 0700 dir, reused; unwritable dir → memory, said so', () => {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'sascope-fp-')), 'data');
  const a = loadFingerprintSecret(dir);
  assert.equal(a.persisted, true);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(a.path!).mode & 0o777, 0o600);
  const key = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const f1 = keyFingerprint(key);
  const secret = readFileSync(a.path!);
  loadFingerprintSecret(dir);
  assert.equal(keyFingerprint(key), f1, 'same secret after a restart');
  assert.equal(readFileSync(a.path!).compare(secret), 0);
  assert.match(f1, /^[0-9a-f]{8}$/);

  const blocker = path.join(path.dirname(dir), 'file');
  writeFileSync(blocker, 'x');
  const b = loadFingerprintSecret(path.join(blocker, 'sub'));
  assert.equal(b.persisted, false);
  assert.match(b.reason ?? '', /in memory, fingerprints change across restarts/);
  assert.match(keyFingerprint(key), /^[0-9a-f]{8}$/);
  chmodSync(blocker, 0o644);
  useFingerprintSecret(TEST_FINGERPRINT_SECRET);
});

test('fingerprint: HMAC-SHA256 of the key under the secret, first 8 hex digits, for every key length (one-shot path and the long-key fallback)', () => {
  const secret = randomBytes(32);
  useFingerprintSecret(secret);
  try {
    for (const len of [0, 1, 16, 20, 32, 36, 63, 64, 65, 128, 511, 512, 513, 1000]) {
      const key = randomBytes(len);
      assert.equal(keyFingerprint(key), createHmac('sha256', secret).update(key).digest('hex').slice(0, 8), `key of ${len} bytes`);
    }
    // A long key after a short one: nothing of the short one is left in the scratch block.
    const short = randomBytes(8);
    const f = keyFingerprint(short);
    keyFingerprint(randomBytes(300));
    assert.equal(keyFingerprint(short), f);
  } finally {
    useFingerprintSecret(TEST_FINGERPRINT_SECRET);
  }
});

test('--netns: a missing namespace is a one-line error; bad names are refused', () => {
  assert.throws(() => setKernelNetns('sascope-no-such-ns'), (e) => e instanceof NetnsError && /not found/.test(e.message) && !e.message.includes('\n'));
  assert.throws(() => setKernelNetns('../etc'), NetnsError);
});

test('XFRM struct sizes: the table, the kernel, and koffi\'s C layout agree', () => {
  const addr = koffi.array('uint32', 4, 'Array');
  const sel = koffi.struct('x5_sel', { daddr: addr, saddr: addr, dport: 'uint16', dport_mask: 'uint16', sport: 'uint16', sport_mask: 'uint16', family: 'uint16', prefixlen_d: 'uint8', prefixlen_s: 'uint8', proto: 'uint8', ifindex: 'int', user: 'uint32' });
  const saId = koffi.struct('x5_saId', { daddr: addr, spi: 'uint32', family: 'uint16', proto: 'uint8' });
  const id = koffi.struct('x5_id', { daddr: addr, spi: 'uint32', proto: 'uint8' });
  const u64x = (n: number, p: string) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${p}${i}`, 'uint64']));
  const lftCfg = koffi.struct('x5_lftcfg', u64x(8, 'l'));
  const lftCur = koffi.struct('x5_lftcur', u64x(4, 'c'));
  const pol = koffi.struct('x5_pol', { sel, lft: lftCfg, curlft: lftCur, priority: 'uint32', index: 'uint32', dir: 'uint8', action: 'uint8', flags: 'uint8', share: 'uint8' });
  const sa = koffi.struct('x5_sa', { sel, id, saddr: addr, lft: lftCfg, curlft: lftCur, stats: koffi.array('uint32', 3), seq: 'uint32', reqid: 'uint32', family: 'uint16', mode: 'uint8', replay_window: 'uint8', flags: 'uint8' });
  const cases: Array<[{ name: string; size: number }, number, unknown]> = [
    [xfrm_usersa_info, 224, sa],
    [xfrm_selector, 56, sel],
    [xfrm_userpolicy_info, 168, pol],
    [xfrm_aevent_id, 48, koffi.struct('x5_ae', { sa_id: saId, saddr: addr, flags: 'uint32', reqid: 'uint32' })],
    [xfrm_user_acquire, 280, koffi.struct('x5_acq', { id, saddr: addr, sel, policy: pol, aalgos: 'uint32', ealgos: 'uint32', calgos: 'uint32', seq: 'uint32' })],
    [xfrm_user_report, 60, koffi.struct('x5_rep', { proto: 'uint8', sel })],
    [xfrm_user_mapping, 64, koffi.struct('x5_map', { id: saId, reqid: 'uint32', old_saddr: addr, new_saddr: addr, old_sport: 'uint16', new_sport: 'uint16' })],
    [xfrm_user_kmaddress, 40, koffi.struct('x5_km', { local: addr, remote: addr, reserved: 'uint32', family: 'uint16' })],
    [xfrm_address_filter, 36, koffi.struct('x5_af', { saddr: addr, daddr: addr, family: 'uint16', splen: 'uint8', dplen: 'uint8' })],
    [xfrm_encap_tmpl, 24, koffi.struct('x5_encap', { encap_type: 'uint16', encap_sport: 'uint16', encap_dport: 'uint16', encap_oa: addr })],
    [xfrmu_spdinfo, 24, koffi.struct('x5_spdi', { a: 'uint32', b: 'uint32', c: 'uint32', d: 'uint32', e: 'uint32', f: 'uint32' })],
    [xfrmu_spdhthresh, 2, koffi.struct('x5_th', { l: 'uint8', r: 'uint8' })],
  ];
  for (const [spec, kernel, k] of cases) {
    assert.equal(spec.size, kernel, `${spec.name} table`);
    assert.equal(koffi.sizeof(k as never), kernel, `${spec.name} koffi`);
  }
});

// Fixed C structs: the kernel's sizes, the same layouts declared independently through koffi (C alignment
// rules applied by koffi, not by us), and koffi.decode against decodeStruct on random bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import koffi from 'koffi';
import { decodeStruct, defineStruct, encodeStruct, type StructSpec } from '../../../server/netlink/struct.ts';
import { DecodeError } from '../../../server/netlink/errors.ts';
import {
  xfrm_id, xfrm_selector, xfrm_user_expire, xfrm_user_tmpl, xfrm_userpolicy_info, xfrm_usersa_id, xfrm_usersa_info,
  xfrm_lifetime_cfg, xfrm_lifetime_cur, xfrm_userpolicy_id, xfrm_user_polexpire,
} from '../../../server/families/xfrm/spec.ts';
import { ifinfomsg } from '../../../server/families/link/spec.ts';

test('sizes the kernel uses', () => {
  const want: Array<[StructSpec, number]> = [
    [xfrm_usersa_info, 224], [xfrm_selector, 56], [xfrm_userpolicy_info, 168], [xfrm_user_tmpl, 64], [xfrm_id, 24],
    [xfrm_usersa_id, 24], [xfrm_user_expire, 232], [ifinfomsg, 16], [xfrm_userpolicy_id, 64], [xfrm_user_polexpire, 176],
  ];
  for (const [s, n] of want) assert.equal(s.size, n, s.name);
});

// <linux/xfrm.h> written again for koffi. xfrm_address_t is a union of __be32 a4 / __be32 a6[4]: 16 bytes, 4-aligned.
const K = (() => {
  const addr = koffi.array('uint32', 4, 'Array');
  const sel = koffi.struct('k_xfrm_selector', {
    daddr: addr, saddr: addr, dport: 'uint16_be', dport_mask: 'uint16_be', sport: 'uint16_be', sport_mask: 'uint16_be',
    family: 'uint16', prefixlen_d: 'uint8', prefixlen_s: 'uint8', proto: 'uint8', ifindex: 'int', user: 'uint32',
  });
  const lftCfg = koffi.struct('k_xfrm_lifetime_cfg', {
    soft_byte_limit: 'uint64', hard_byte_limit: 'uint64', soft_packet_limit: 'uint64', hard_packet_limit: 'uint64',
    soft_add_expires_seconds: 'uint64', hard_add_expires_seconds: 'uint64', soft_use_expires_seconds: 'uint64', hard_use_expires_seconds: 'uint64',
  });
  const lftCur = koffi.struct('k_xfrm_lifetime_cur', { bytes: 'uint64', packets: 'uint64', add_time: 'uint64', use_time: 'uint64' });
  const id = koffi.struct('k_xfrm_id', { daddr: addr, spi: 'uint32_be', proto: 'uint8' });
  const stats = koffi.struct('k_xfrm_stats', { replay_window: 'uint32', replay: 'uint32', integrity_failed: 'uint32' });
  const sa = koffi.struct('k_xfrm_usersa_info', {
    sel, id, saddr: addr, lft: lftCfg, curlft: lftCur, stats, seq: 'uint32', reqid: 'uint32', family: 'uint16', mode: 'uint8', replay_window: 'uint8', flags: 'uint8',
  });
  const pol = koffi.struct('k_xfrm_userpolicy_info', {
    sel, lft: lftCfg, curlft: lftCur, priority: 'uint32', index: 'uint32', dir: 'uint8', action: 'uint8', flags: 'uint8', share: 'uint8',
  });
  return {
    sel, pol, sa, id,
    tmpl: koffi.struct('k_xfrm_user_tmpl', {
      id, family: 'uint16', saddr: addr, reqid: 'uint32', mode: 'uint8', share: 'uint8', optional: 'uint8', aalgos: 'uint32', ealgos: 'uint32', calgos: 'uint32',
    }),
    saId: koffi.struct('k_xfrm_usersa_id', { daddr: addr, spi: 'uint32_be', family: 'uint16', proto: 'uint8' }),
    expire: koffi.struct('k_xfrm_user_expire', { state: sa, hard: 'uint8' }),
    polId: koffi.struct('k_xfrm_userpolicy_id', { sel, index: 'uint32', dir: 'uint8' }),
    polExpire: koffi.struct('k_xfrm_user_polexpire', { pol, hard: 'uint8' }),
    ifinfomsg: koffi.struct('k_ifinfomsg', { ifi_family: 'uint8', pad: 'uint8', ifi_type: 'uint16', ifi_index: 'int', ifi_flags: 'uint32', ifi_change: 'uint32' }),
  };
})();

test('sizes agree with koffi.sizeof of the C declarations', () => {
  const pairs: Array<[StructSpec, unknown]> = [
    [xfrm_selector, K.sel], [xfrm_userpolicy_info, K.pol], [xfrm_usersa_info, K.sa], [xfrm_id, K.id], [xfrm_user_tmpl, K.tmpl],
    [xfrm_usersa_id, K.saId], [xfrm_user_expire, K.expire], [xfrm_userpolicy_id, K.polId], [xfrm_user_polexpire, K.polExpire], [ifinfomsg, K.ifinfomsg],
  ];
  for (const [s, k] of pairs) assert.equal(s.size, koffi.sizeof(k as Parameters<typeof koffi.sizeof>[0]), s.name);
  assert.equal(koffi.offsetof(K.tmpl, 'saddr'), xfrm_user_tmpl.fields.find((f) => f.name === 'saddr')!.offset, 'xfrm_user_tmpl.saddr');
  assert.equal(koffi.offsetof(K.tmpl, 'aalgos'), xfrm_user_tmpl.fields.find((f) => f.name === 'aalgos')!.offset, 'xfrm_user_tmpl.aalgos');
});

/** koffi's decoded value in decodeStruct's form: addresses as bytes, u64 as bigint, padding ignored. */
function normalize(v: unknown, spec: StructSpec): Record<string, unknown> {
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of spec.fields) {
    if (f.name.startsWith('_pad')) continue;
    const x = o[f.name];
    const k = f.kind;
    if (typeof k === 'object' && 'kind' in k) out[f.name] = normalize(x, k);
    else if (typeof k === 'object' && 'bytes' in k) {
      const b = Buffer.alloc(16);
      (x as number[]).forEach((w, i) => b.writeUInt32LE(w >>> 0, i * 4));
      out[f.name] = b;
    } else if (k === 'u64') out[f.name] = BigInt(x as number | bigint);
    else out[f.name] = x;
  }
  return out;
}

test('koffi.decode and decodeStruct agree on random bytes (xfrm_selector, xfrm_userpolicy_info)', () => {
  for (const [spec, k] of [[xfrm_selector, K.sel], [xfrm_userpolicy_info, K.pol]] as const) {
    for (let i = 0; i < 200; i++) {
      const buf = randomBytes(spec.size);
      const ours = decodeStruct(spec, buf);
      const theirs = normalize(koffi.decode(buf, k), spec);
      const strip = (x: Record<string, unknown>): unknown => JSON.parse(JSON.stringify(x, (key, v) => (key.startsWith('_pad') ? undefined : typeof v === 'bigint' ? v.toString() : v)));
      assert.deepEqual(strip(ours), strip(theirs), `${spec.name} ${buf.toString('hex')}`);
    }
  }
});

test('encodeStruct → decodeStruct round trip; short buffers are a DecodeError', () => {
  const v = {
    sel: { daddr: Buffer.alloc(16, 1), saddr: Buffer.alloc(16, 2), dport: 443, dport_mask: 0xffff, sport: 0, sport_mask: 0, family: 2, prefixlen_d: 24, prefixlen_s: 32, proto: 6, ifindex: -1, user: 7 },
    lft: Object.fromEntries(xfrm_lifetime_cfg.fields.map((f, i) => [f.name, BigInt(i) << 40n])),
    curlft: Object.fromEntries(xfrm_lifetime_cur.fields.map((f, i) => [f.name, BigInt(i + 1)])),
    priority: 100, index: 8, dir: 1, action: 0, flags: 0, share: 0,
  };
  const buf = encodeStruct(xfrm_userpolicy_info, v);
  assert.equal(buf.length, 168);
  const back = decodeStruct(xfrm_userpolicy_info, buf) as Record<string, unknown>;
  delete back['_pad'];
  delete (back['sel'] as Record<string, unknown>)['_pad'];
  assert.deepEqual(back, v);
  assert.throws(() => decodeStruct(xfrm_userpolicy_info, buf.subarray(0, 167)), DecodeError);
  assert.throws(() => decodeStruct(xfrm_selector, buf, 120), (e) => e instanceof DecodeError && /needs 56 bytes, 48 left/.test(e.message));
  assert.throws(() => decodeStruct(xfrm_selector, buf, 500), (e) => e instanceof DecodeError && /0 left/.test(e.message));
});

test('u64 fields at their edges: 0, 2^32-1, 2^32, 2^53+1, 2^64-2 and 2^64-1 (XFRM_INF)', () => {
  const edges = [0n, 0xffffffffn, 0x100000000n, 2n ** 53n + 1n, 2n ** 64n - 2n, 2n ** 64n - 1n, 0xffffffff00000000n, 0x00000000ffffffffn + (1n << 63n)];
  for (const v of edges) {
    const buf = Buffer.alloc(xfrm_lifetime_cur.size);
    for (let off = 0; off < buf.length; off += 8) buf.writeBigUInt64LE(v, off);
    assert.deepEqual(Object.values(decodeStruct(xfrm_lifetime_cur, buf)), [v, v, v, v], `0x${v.toString(16)}`);
  }
});

test('defineStruct refuses a size its fields do not add up to', () => {
  assert.throws(() => defineStruct('bad', 8, [['a', 'u32'], ['b', 'u16']]), /add up to 6 bytes, declared 8/);
});

test('string fields stop at NUL', () => {
  const s = defineStruct('named', 8, [['name', { string: 8 }]]);
  assert.deepEqual(decodeStruct(s, Buffer.from('eth0\0xyz')), { name: 'eth0' });
  assert.deepEqual(decodeStruct(s, Buffer.from('abcdefgh')), { name: 'abcdefgh' });
});

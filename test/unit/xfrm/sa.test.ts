// SA decoding on kernel-shaped messages: every attribute family, keys fingerprinted and dropped (and
// scrubbed from the datagram), unknown attributes kept redacted, truncated and misaligned input rejected
// with a DecodeError, and mutated input never throwing anything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { decodeSaMessage } from '../../../server/families/xfrm/sa.ts';
import { saKey } from '../../../server/wire/xfrm.ts';
import { XFRM_MSG, xfrm_usersa_flush, xfrm_user_mapping, xfrm_user_report, xfrm_user_acquire, xfrm_encap_tmpl, xfrm_mark, xfrm_user_offload, xfrm_lifetime_cur, xfrm_replay_state } from '../../../server/families/xfrm/spec.ts';
import { encodeStruct } from '../../../server/netlink/struct.ts';
import { DecodeError } from '../../../server/netlink/errors.ts';
import { toWire } from '../../../server/model/model.ts';
import { TEST_FINGERPRINT_SECRET } from '../decoders.ts';
import { addr, aevent, algo, delSa, esn, expire, newSa, rawMessage, saInfo } from './build.ts';

const fp = (key: Buffer) => createHmac('sha256', TEST_FINGERPRINT_SECRET).update(key).digest('hex').slice(0, 8);

test('NEWSA with AEAD, ESN, encap, marks, if_id, offload, dir, IP-TFS: every field, fingerprint, no key', () => {
  const key = randomBytes(20);
  const m = newSa({ spi: 0x1004, flags: 0x80 | 0x20, replayWindow: 0, mode: 5 }, (w) => {
    w.bytes(18, algo('rfc4106(gcm(aes))', key, 128));
    w.bytes(4, encodeStruct(xfrm_encap_tmpl, { encap_type: 2, encap_sport: 4500, encap_dport: 4501, encap_oa: addr('192.0.2.9') }));
    w.bytes(23, esn({ seq: 5, oseq: 7, seqHi: 1, oseqHi: 2, window: 4096 }));
    w.bytes(21, encodeStruct(xfrm_mark, { v: 0x10, m: 0xff }));
    w.u32(29, 0x20).u32(30, 0xf0).u32(31, 42).u32(22, 64).u32(24, 3).u8(33, 2).u32(34, 20).u32(32, 30).u32(35, 1);
    w.bytes(28, encodeStruct(xfrm_user_offload, { ifindex: 7, flags: 2 | 4 }));
    w.u64(15, 1_795_000_100n);
    w.u32(39, 5).u32(40, 1000).u32(41, 1400).flag(38);
  });
  const d = decodeSaMessage(m);
  assert.equal(d?.kind, 'upsert');
  if (d?.kind !== 'upsert') return;
  const sa = d.sa;
  assert.equal(sa.key, 'inet:esp:10.0.0.2:0x00001004:mark=0x10/0xff');
  assert.equal(sa.spi, 0x1004);
  assert.equal(sa.proto, 'esp');
  assert.equal(sa.mode, 'iptfs');
  assert.deepEqual(sa.flags, ['af-unspec', 'esn']);
  assert.deepEqual(sa.extraFlags, ['dont-encap-dscp', 'oseq-may-wrap']);
  assert.deepEqual(sa.aead, { name: 'rfc4106(gcm(aes))', keyBits: 160, icvBits: 128, fingerprint: fp(key) });
  assert.deepEqual(sa.encap, { type: 'espinudp', sport: 4500, dport: 4501, oa: '192.0.2.9' });
  assert.deepEqual(sa.antiReplay, { esn: true, seq: 5, oseq: 7, seqHi: 1, oseqHi: 2, replayWindow: 4096, bitmapLength: 128 });
  assert.deepEqual(sa.mark, { value: 0x10, mask: 0xff });
  assert.deepEqual(sa.setMark, { value: 0x20, mask: 0xf0 });
  assert.equal(sa.ifId, 42);
  assert.equal(sa.tfcpad, 64);
  assert.equal(sa.dir, 'out');
  assert.equal(sa.natKeepaliveInterval, 20);
  assert.equal(sa.mtimerThresh, 30);
  assert.equal(sa.pcpu, 1);
  assert.deepEqual(sa.offload, { ifindex: 7, dir: 'in', type: 'packet' });
  assert.equal(sa.lastUsed, 1_795_000_100n);
  assert.deepEqual(sa.iptfs, { dontFrag: true, initDelayUs: 5, maxQueueSize: 1000, pktSize: 1400 });
  assert.equal(sa.lifetime.current.bytes, 1234n);
  assert.equal(sa.selector.src, '10.0.0.1/32');
  // the key is nowhere in the result, and no longer in the datagram either
  const json = JSON.stringify(toWire(sa));
  assert.ok(!json.includes(key.toString('hex')), 'key hex in decoded SA');
  assert.equal(m.payload.indexOf(key), -1, 'key bytes left in the datagram');
});

test('cbc + hmac: XFRMA_ALG_AUTH and AUTH_TRUNC both fingerprinted, truncation kept; comp has no key', () => {
  const ek = randomBytes(16);
  const ak = randomBytes(32);
  const d = decodeSaMessage(newSa({ spi: 0x1003 }, (w) => {
    w.bytes(1, algo('hmac(sha256)', ak));
    w.bytes(20, algo('hmac(sha256)', ak, 128));
    w.bytes(2, algo('cbc(aes)', ek));
    w.bytes(3, algo('deflate', Buffer.alloc(0)));
  }));
  assert.ok(d?.kind === 'upsert');
  assert.deepEqual(d.sa.auth, { name: 'hmac(sha256)', keyBits: 256, truncBits: 128, fingerprint: fp(ak) });
  assert.deepEqual(d.sa.enc, { name: 'cbc(aes)', keyBits: 128, fingerprint: fp(ek) });
  assert.deepEqual(d.sa.comp, { name: 'deflate', keyBits: 0 });
  assert.equal(d.sa.mode, 'tunnel');
});

test('algorithm names: up to the first NUL, all 64 bytes of alg_name when it has none (keyBits after it is not read as text)', () => {
  const long = `${'x'.repeat(60)}(ab)`;
  const key = Buffer.from([0, 1, 2, 0]);
  const d = decodeSaMessage(newSa({ spi: 0x1004 }, (w) => {
    w.bytes(2, algo(long, key));
    w.bytes(3, algo('lzs', Buffer.alloc(0)));
  }));
  assert.ok(d?.kind === 'upsert');
  assert.equal(d.sa.enc?.name, long);
  assert.equal(d.sa.comp?.name, 'lzs');
});

test('IPv6 SA key puts the address in brackets; legacy replay state', () => {
  const d = decodeSaMessage(newSa({ src: 'fd00::1', dst: 'fd00::2', family: 10, spi: 0x1006, mode: 0 }, (w) => {
    w.bytes(10, encodeStruct(xfrm_replay_state, { oseq: 3, seq: 2, bitmap: 0x3 }));
  }));
  assert.ok(d?.kind === 'upsert');
  assert.equal(d.sa.key, 'inet6:esp:[fd00::2]:0x00001006');
  assert.equal(d.sa.src, 'fd00::1');
  assert.equal(d.sa.mode, 'transport');
  assert.deepEqual(d.sa.antiReplay, { esn: false, seq: 2, oseq: 3, bitmap: 3 });
  assert.equal(saKey('inet6', 'esp', 'fd00::2', 0x1006), d.sa.key);
});

test('an attribute this code has never seen is kept with its number, redacted (no bytes)', () => {
  const secretish = randomBytes(24);
  const d = decodeSaMessage(newSa({}, (w) => w.bytes(77, secretish)));
  assert.ok(d?.kind === 'upsert');
  assert.deepEqual(d.sa.unknown, [{ type: 77, nested: false, length: 24 }]);
  assert.ok(!JSON.stringify(toWire(d.sa)).includes(secretish.toString('hex')));
});

test('UPDSA, DELSA (usersa_id + XFRMA_SA) and EXPIRE soft/hard', () => {
  const u = decodeSaMessage(newSa({ spi: 9 }, undefined, XFRM_MSG.UPDSA));
  assert.ok(u?.kind === 'upsert' && u.type === 'UPDSA');
  const key = randomBytes(20);
  const del = decodeSaMessage(delSa({ spi: 9 }, (w) => w.bytes(18, algo('rfc4106(gcm(aes))', key, 128))));
  assert.ok(del?.kind === 'remove');
  assert.equal(del.sa.key, 'inet:esp:10.0.0.2:0x00000009');
  assert.equal(del.sa.aead?.fingerprint, fp(key));
  const soft = decodeSaMessage(expire({ spi: 9, bytes: 99n }, false));
  assert.ok(soft?.kind === 'expire' && !soft.hard && soft.sa.lifetime.current.bytes === 99n);
  const hard = decodeSaMessage(expire({ spi: 9 }, true));
  assert.ok(hard?.kind === 'expire' && hard.hard);
});

test('DELSA without XFRMA_SA is a DecodeError', () => {
  const m = delSa({});
  const cut = rawMessage(XFRM_MSG.DELSA, m.payload.subarray(0, 24));
  assert.throws(() => decodeSaMessage(cut), (e) => e instanceof DecodeError && /without XFRMA_SA/.test(e.message));
});

test('NEWAE: counters, replay state, thresholds, cause flags', () => {
  const d = decodeSaMessage(aevent({ spi: 0x2001 }, 1 | 8 | 16, (w) => {
    w.bytes(10, encodeStruct(xfrm_replay_state, { oseq: 6, seq: 0, bitmap: 0 }));
    w.bytes(9, encodeStruct(xfrm_lifetime_cur, { bytes: 600n, packets: 6n, add_time: 1n, use_time: 2n }));
    w.u32(11, 2).u32(12, 10);
  }));
  assert.ok(d?.kind === 'aevent');
  assert.equal(d.ae.id.key, 'inet:esp:10.0.0.2:0x00002001');
  assert.deepEqual(d.ae.flags, ['rthr', 'ethr', 'cr']);
  assert.equal(d.ae.current?.bytes, 600n);
  assert.deepEqual(d.ae.antiReplay, { esn: false, seq: 0, oseq: 6, bitmap: 0 });
  assert.equal(d.ae.replayThresh, 2);
  assert.equal(d.ae.etimerThresh, 10);
});

test('ACQUIRE, REPORT, MAPPING, FLUSHSA, MIGRATE', () => {
  const info = saInfo({});
  const acq = encodeStruct(xfrm_user_acquire, {
    id: { daddr: addr('10.0.0.2'), spi: 0, proto: 50 }, saddr: addr('10.0.0.1'), sel: { ...(info['sel'] as object), family: 2 },
    policy: { sel: { family: 2 }, index: 8, dir: 1 }, aalgos: 0xffffffff, ealgos: 0xffffffff, calgos: 0xffffffff, seq: 0x1234,
  });
  const a = decodeSaMessage(rawMessage(XFRM_MSG.ACQUIRE, acq));
  assert.ok(a?.kind === 'acquire');
  assert.equal(a.acquire.id.dst, '10.0.0.2');
  assert.equal(a.acquire.policyIndex, 8);
  assert.equal(a.acquire.seq, 0x1234);

  const r = decodeSaMessage(rawMessage(XFRM_MSG.REPORT, encodeStruct(xfrm_user_report, { proto: 50, sel: info['sel'] })));
  assert.ok(r?.kind === 'report' && r.proto === 'esp' && r.selector.dst === '10.0.0.2/32');

  const mp = encodeStruct(xfrm_user_mapping, {
    id: { daddr: addr('10.0.0.2'), spi: 0x1005, family: 2, proto: 50 }, reqid: 5, old_saddr: addr('10.0.0.1'), new_saddr: addr('198.51.100.7'), old_sport: 4500, new_sport: 61000,
  });
  const map = decodeSaMessage(rawMessage(XFRM_MSG.MAPPING, mp));
  assert.ok(map?.kind === 'mapping');
  assert.deepEqual([map.oldSrc, map.oldSport, map.newSrc, map.newSport, map.id.spi], ['10.0.0.1', 4500, '198.51.100.7', 61000, 0x1005]);

  const f = decodeSaMessage(rawMessage(XFRM_MSG.FLUSHSA, encodeStruct(xfrm_usersa_flush, { proto: 255 })));
  assert.deepEqual(f, { kind: 'flush', proto: 'any' });
  assert.deepEqual(decodeSaMessage(rawMessage(XFRM_MSG.MIGRATE, Buffer.alloc(0))), { kind: 'migrate', type: 'MIGRATE' });
  assert.equal(decodeSaMessage(rawMessage(XFRM_MSG.NEWPOLICY, Buffer.alloc(0))), undefined);
});

test('truncated header, truncated and misaligned attributes, a key longer than its attribute: DecodeError', () => {
  const good = newSa({}, (w) => w.bytes(18, algo('rfc4106(gcm(aes))', randomBytes(20), 128)));
  assert.throws(() => decodeSaMessage(rawMessage(XFRM_MSG.NEWSA, good.payload.subarray(0, 100))), DecodeError);
  assert.throws(() => decodeSaMessage(rawMessage(XFRM_MSG.NEWSA, good.payload.subarray(0, good.payload.length - 5))), DecodeError);
  // an attribute header claiming more bytes than there are
  const bad = Buffer.from(good.payload);
  bad.writeUInt16LE(0xfff0, 224);
  assert.throws(() => decodeSaMessage(rawMessage(XFRM_MSG.NEWSA, bad)), DecodeError);
  // two trailing bytes: shorter than an attribute header (misaligned tail)
  assert.throws(() => decodeSaMessage(rawMessage(XFRM_MSG.NEWSA, Buffer.concat([good.payload, Buffer.from([1, 2])]))), DecodeError);
  // alg_key_len says 4096 bits but the attribute is short
  const lying = newSa({}, (w) => {
    const a = algo('cbc(aes)', randomBytes(16));
    a.writeUInt32LE(4096, 64);
    w.bytes(2, a);
  });
  assert.throws(() => decodeSaMessage(lying), (e) => e instanceof DecodeError && /runs past/.test(e.message));
  // ESN bitmap longer than the attribute
  const e = esn({ seq: 0, oseq: 0, seqHi: 0, oseqHi: 0, window: 64 });
  e.writeUInt32LE(100, 0);
  assert.throws(() => decodeSaMessage(newSa({}, (w) => w.bytes(23, e))), DecodeError);
});

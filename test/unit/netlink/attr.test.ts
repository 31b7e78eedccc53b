// struct nlattr: AttrReader (sticky error, alignment, flags) and AttrWriter round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttrReader, AttrWriter } from '../../../server/netlink/attr.ts';
import { DecodeError } from '../../../server/netlink/errors.ts';
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER } from '../../../server/netlink/constants.ts';

function tlv(type: number, data: Buffer, declaredLen = 4 + data.length): Buffer {
  const b = Buffer.alloc((4 + data.length + 3) & ~3);
  b.writeUInt16LE(declaredLen, 0);
  b.writeUInt16LE(type, 2);
  data.copy(b, 4);
  return b;
}

test('AttrWriter → AttrReader round trip of every scalar kind', () => {
  const buf = new AttrWriter()
    .u8(1, 0xab).u16(2, 0xbeef).u32(3, 0xdeadbeef).u64(4, 0xfedcba9876543210n).be16(5, 0x1234).be32(6, 0x0a000001)
    .string(7, 'eth0').flag(8).flag(9, false).bytes(10, Buffer.from([1, 2, 3])).encode();
  const r = new AttrReader(buf);
  const got: Record<number, unknown> = {};
  while (r.next()) {
    switch (r.type) {
      case 1: got[1] = r.u8(); break;
      case 2: got[2] = r.u16(); break;
      case 3: got[3] = r.u32(); break;
      case 4: got[4] = r.u64(); break;
      case 5: got[5] = r.be16(); break;
      case 6: got[6] = r.be32(); break;
      case 7: got[7] = r.string(); break;
      case 8: got[8] = r.data.length; break;
      case 10: got[10] = [...r.data]; break;
      default: got[r.type] = 'unexpected';
    }
  }
  assert.equal(r.err, undefined);
  assert.deepEqual(got, { 1: 0xab, 2: 0xbeef, 3: 0xdeadbeef, 4: 0xfedcba9876543210n, 5: 0x1234, 6: 0x0a000001, 7: 'eth0', 8: 0, 10: [1, 2, 3] });
});

test('every attribute starts 4-byte aligned', () => {
  const buf = new AttrWriter().u8(1, 1).string(2, 'ab').u16(3, 7).u32(4, 9).encode();
  assert.equal(buf.length, 8 + 8 + 8 + 8);
  const r = new AttrReader(buf);
  const offsets: number[] = [];
  while (r.next()) offsets.push(r.offset);
  assert.deepEqual(offsets, [8, 16, 24, 32]);
  // The last attribute may omit its padding.
  const r2 = new AttrReader(buf.subarray(0, 8 + 8 + 6));
  let n = 0;
  while (r2.next()) n++;
  assert.equal(n, 3);
  assert.equal(r2.err, undefined);
});

test('NLA_UINT reads 4 and 8 bytes; other sizes are an error', () => {
  const four = Buffer.alloc(4);
  four.writeUInt32LE(0xffffffff);
  const eight = Buffer.alloc(8);
  eight.writeBigUInt64LE(1n << 40n);
  const r = new AttrReader(Buffer.concat([tlv(1, four), tlv(2, eight), tlv(3, Buffer.alloc(2))]));
  r.next();
  assert.equal(r.uint(), 0xffffffffn);
  r.next();
  assert.equal(r.uint(), 1n << 40n);
  r.next();
  assert.equal(r.uint(), 0n);
  assert.ok(r.err instanceof DecodeError);
  const s = new AttrReader(tlv(1, Buffer.from([0xff, 0xff, 0xff, 0xff])));
  s.next();
  assert.equal(s.sint(), -1n);
});

test('wrong-length scalar sets a sticky error; next() then stops', () => {
  const r = new AttrReader(Buffer.concat([tlv(1, Buffer.alloc(3)), tlv(2, Buffer.alloc(4))]));
  assert.ok(r.next());
  assert.equal(r.u32(), 0);
  assert.ok(r.err instanceof DecodeError);
  assert.match(r.err!.message, /attribute 1 is not a u32 \(length 3\)/);
  const first = r.err;
  r.u16(); // a second misuse does not replace the first error
  assert.equal(r.err, first);
  assert.equal(r.next(), false);
});

test('nla_len < 4, past the end, or a short trailer is an error with the offset', () => {
  const good = tlv(1, Buffer.alloc(4));
  for (const [bad, re] of [
    [tlv(2, Buffer.alloc(4), 2), /length 2 out of bounds/],
    [tlv(2, Buffer.alloc(4), 40), /length 40 out of bounds/],
    [Buffer.from([1, 2]), /2 trailing bytes/],
  ] as const) {
    const r = new AttrReader(Buffer.concat([good, bad]), 'test', 100);
    assert.ok(r.next());
    assert.equal(r.next(), false);
    assert.ok(r.err instanceof DecodeError);
    assert.match(r.err!.message, re);
    assert.equal(r.err!.offset, 100 + good.length);
  }
});

test('nested attributes: NLA_F_NESTED set by the writer, flags masked off the type, offsets of the inner reader are absolute', () => {
  const buf = new AttrWriter().u32(1, 5).nest(2, (w) => w.string(1, 'x').u16(2, 9)).encode();
  const r = new AttrReader(buf);
  r.next();
  r.next();
  assert.equal(r.type, 2);
  assert.ok(r.nested);
  assert.equal(r.flags, NLA_F_NESTED);
  const inner = r.nest();
  inner.next();
  assert.equal(inner.string(), 'x');
  assert.equal(inner.offset, 8 + 4 + 8);
  inner.next();
  assert.equal(inner.u16(), 9);
  assert.equal(inner.next(), false);
  assert.equal(inner.err, undefined);
});

test('NLA_F_NET_BYTEORDER is masked off the type and kept in flags', () => {
  const r = new AttrReader(tlv(3 | NLA_F_NET_BYTEORDER, Buffer.from([0, 80])));
  r.next();
  assert.equal(r.type, 3);
  assert.equal(r.flags, NLA_F_NET_BYTEORDER);
  assert.equal(r.nested, false);
  assert.equal(r.be16(), 80);
});

test('string stops at the first NUL, and reads an unterminated one whole', () => {
  const r = new AttrReader(Buffer.concat([tlv(1, Buffer.from('ab\0cd')), tlv(2, Buffer.from('xyz'))]));
  r.next();
  assert.equal(r.string(), 'ab');
  r.next();
  assert.equal(r.string(), 'xyz');
});

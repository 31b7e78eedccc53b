// Declarative attribute sets: the generic walker (netlink/spec.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attrNumber, attrSet, decodeAttrs } from '../../../server/netlink/spec.ts';
import { AttrWriter } from '../../../server/netlink/attr.ts';
import { DecodeError } from '../../../server/netlink/errors.ts';
import { defineStruct } from '../../../server/netlink/struct.ts';

const inner = attrSet('inner', [
  [1, { name: 'name', type: 'string' }],
  [2, { name: 'id', type: 'u32' }],
]);
const pair = defineStruct('pair', 8, [['a', 'u32'], ['b', 'be32']]);
const outer = attrSet('outer', [
  [1, { name: 'mode', type: 'u8', enum: { 0: 'p2p', 1: 'mp' } }],
  [2, { name: 'addr', type: 'binary', multi: true }],
  [3, { name: 'child', type: 'nest', nest: inner }],
  [4, { name: 'items', type: 'array', nest: inner }],
  [5, { name: 'pair', type: 'struct', struct: pair }],
  [6, { name: 'on', type: 'flag' }],
  [7, { name: 'big', type: 'u64' }],
  [8, { name: 'custom', type: 'custom', decode: (d) => d.length }],
  [9, { name: 'port', type: 'be16' }],
]);
const secret = attrSet('secret', [[1, { name: 'id', type: 'u32' }]], { redactUnknown: true });

test('scalars, enum names, nest, array, struct, flag, custom, multi', () => {
  const buf = new AttrWriter()
    .u8(1, 1)
    .bytes(2, Buffer.from([1]))
    .bytes(2, Buffer.from([2]))
    .nest(3, (w) => w.string(1, 'a').u32(2, 7))
    .nest(4, (w) => w.nest(1, (e) => e.string(1, 'x')).nest(2, (e) => e.u32(2, 3)))
    .bytes(5, Buffer.from([1, 0, 0, 0, 0, 0, 0, 2]))
    .flag(6)
    .u64(7, 2n ** 63n)
    .bytes(8, Buffer.alloc(5))
    .be16(9, 443)
    .encode();
  const d = decodeAttrs(outer, buf);
  assert.deepEqual(d, {
    mode: 'mp',
    addr: [Buffer.from([1]), Buffer.from([2])],
    child: { name: 'a', id: 7 },
    items: [{ name: 'x' }, { id: 3 }],
    pair: { a: 1, b: 2 },
    on: true,
    big: 2n ** 63n,
    custom: 5,
    port: 443,
  });
});

test('an enum value without a name stays a number', () => {
  assert.deepEqual(decodeAttrs(outer, new AttrWriter().u8(1, 9).encode()), { mode: 9 });
});

test('unknown attributes are kept with their number and hex, or redacted per set', () => {
  const buf = new AttrWriter().u32(1, 1).bytes(77, Buffer.from([0xde, 0xad])).nest(78, (w) => w.u8(1, 1)).encode();
  assert.deepEqual(decodeAttrs(inner, buf).unknown, [
    { type: 77, nested: false, length: 2, hex: 'dead' },
    { type: 78, nested: true, length: 8, hex: '0500010001000000' },
  ]);
  const r = decodeAttrs(secret, buf);
  assert.equal(r['id'], 1);
  assert.deepEqual(r.unknown, [
    { type: 77, nested: false, length: 2 },
    { type: 78, nested: true, length: 8 },
  ]);
  assert.ok(!JSON.stringify(r.unknown).includes('dead'), 'no payload bytes of a redacted set');
});

test('malformed input is a DecodeError: wrong scalar size, short struct, bad nest, bad array element, bad TLV', () => {
  const cases: Buffer[] = [
    new AttrWriter().u16(1, 1).encode(), // u8 declared, 2 bytes
    new AttrWriter().bytes(5, Buffer.alloc(4)).encode(), // struct of 8 in 4 bytes
    new AttrWriter().nest(3, (w) => w.u16(2, 1)).encode(), // inner id u32 in 2 bytes
    new AttrWriter().nest(4, (w) => w.bytes(1, Buffer.from([9, 0, 1]))).encode(), // array element is a broken TLV run
    Buffer.from([8, 0, 1, 0, 0]), // nla_len past the end
    new AttrWriter().u32(7, 1).encode(), // u64 in 4 bytes
  ];
  for (const [i, b] of cases.entries()) assert.throws(() => decodeAttrs(outer, b), DecodeError, `case ${i}`);
});

test('attrSet refuses duplicate numbers; attrNumber finds by name', () => {
  assert.throws(() => attrSet('dup', [[1, { name: 'a', type: 'u8' }], [1, { name: 'b', type: 'u8' }]]), /declared twice/);
  assert.equal(attrNumber(outer, 'items'), 4);
  assert.throws(() => attrNumber(outer, 'nope'), /has no attribute nope/);
});

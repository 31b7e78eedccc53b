// The tables type what they decode and what a request may carry (netlink/spec.ts, netlink/struct.ts). The
// lines marked ts-expect-error are checked by tsc over this file (the typecheck phase): each names a table or a
// mapping that must not compile; once one compiles, the unused directive fails the type check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attrSet, decodeAttrs, encodeAttrs, type Decoded } from '../../../server/netlink/spec.ts';
import { AttrWriter } from '../../../server/netlink/attr.ts';
import { decodeStruct, defineStruct, type Struct } from '../../../server/netlink/struct.ts';

const pair = defineStruct('pair', 16, [['a', 'u32'], ['_pad', { pad: 4 }], ['big', 'u64']]);
const inner = attrSet('inner', [
  [1, { name: 'name', type: 'string' }],
  [2, { name: 'id', type: 'u32' }],
]);
const outer = attrSet('outer', [
  [1, { name: 'mode', type: 'u8', enum: { 0: 'p2p', 1: 'mp' } }],
  [2, { name: 'addr', type: 'binary', multi: true }],
  [3, { name: 'child', type: 'nest', nest: inner }],
  [4, { name: 'pair', type: 'struct', struct: pair }],
  [5, { name: 'on', type: 'flag' }],
  [6, { name: 'bytes', type: 'uint' }],
  [7, { name: 'len', type: 'custom', decode: (d) => d.length }],
]);

/** A mapping written against the table: it compiles only while the table gives these types. */
function summary(d: Decoded<typeof outer>): { mode: string | number; child?: string; a?: number; big?: bigint; bytes: bigint; len?: number; on: boolean; addrs: number } {
  return {
    mode: d.mode ?? 'none',
    child: d.child?.name,
    a: d.pair?.a,
    big: d.pair?.big,
    bytes: d.bytes ?? 0n,
    len: d.len,
    on: d.on === true,
    addrs: (d.addr ?? []).reduce((n, b) => n + b.length, 0),
  };
}

test('decoded values are typed from the table; requests are built from it by name', () => {
  const req = encodeAttrs(outer, { mode: 'mp', child: { name: 'x', id: 7 }, addr: [Buffer.from([1, 2])], on: true, bytes: 5n });
  const same = new AttrWriter().u8(1, 1).nest(3, (w) => w.string(1, 'x').u32(2, 7)).bytes(2, Buffer.from([1, 2])).flag(5).u64(6, 5n).encode();
  assert.deepEqual(req, same);
  assert.deepEqual(summary(decodeAttrs(outer, req)), { mode: 'mp', child: 'x', a: undefined, big: undefined, bytes: 5n, len: undefined, on: true, addrs: 2 });
  const s: Struct<typeof pair> = decodeStruct(pair, Buffer.from([1, 0, 0, 0, 9, 9, 9, 9, 2, 0, 0, 0, 0, 0, 0, 0]));
  assert.deepEqual(s, { a: 1, big: 2n });
  assert.throws(() => encodeAttrs(outer, { mode: 'bridge' as 'mp' }), /outer\.mode: no value named bridge/);
});

test('a table that does not fit its mapping, or a request that does not fit its table, fails the type check', () => {
  const retyped = attrSet('outer', [
    [1, { name: 'mode', type: 'u8', enum: { 0: 'p2p', 1: 'mp' } }],
    [3, { name: 'child', type: 'nest', nest: inner }],
    [6, { name: 'bytes', type: 'u32' }], // was uint: a bigint counter
  ]);
  // @ts-expect-error: 'bytes' decodes to a number now, and the mapping adds it to a bigint
  summary(decodeAttrs(retyped, Buffer.alloc(0)));

  // @ts-expect-error: a nest without the set its members come from
  attrSet('broken', [[1, { name: 'child', type: 'nest' }]]);
  // @ts-expect-error: enum names belong to scalars only
  attrSet('broken', [[1, { name: 'label', type: 'string', enum: { 0: 'x' } }]]);

  const d = decodeAttrs(outer, Buffer.alloc(0));
  // @ts-expect-error: no attribute of that name in the table
  void d.modes;
  // @ts-expect-error: a struct's padding is not a field
  void d.pair?._pad;
  // @ts-expect-error: a u32 inside the nest is a number, not a string
  const id: string | undefined = d.child?.id;
  void id;

  // @ts-expect-error: a misspelt attribute name in a request
  assert.throws(() => encodeAttrs(outer, { chlid: { id: 1 } }), /has no attribute chlid/);
  // @ts-expect-error: a misspelt name inside a nest
  assert.throws(() => encodeAttrs(outer, { child: { idd: 1 } }), /has no attribute idd/);
  // @ts-expect-error: a 64-bit attribute takes a bigint
  assert.throws(() => encodeAttrs(outer, { bytes: 5 }), TypeError);
});

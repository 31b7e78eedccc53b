// Big-grid sorting: numeric and natural text order, direction, stability, missing values last.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ColumnDef } from '@tanstack/react-table';
import { RowSorter, sortRows } from '../../../components/ui/sort-rows.ts';
import { columnsOf } from '../../../components/ui/DataTable.tsx';

type R = { n?: number; s: string; id: number };
const cols: ColumnDef<R, any>[] = [
  { id: 'n', accessorFn: (r) => r.n },
  { id: 's', accessorFn: (r) => r.s },
  { accessorKey: 'id' },
  { id: 'fixed', accessorFn: () => 0, enableSorting: false },
];
const rows: R[] = [
  { n: 10, s: '10.0.10.1', id: 1 },
  { n: 2, s: '10.0.2.1', id: 2 },
  { s: 'b', id: 3 },
  { n: 2, s: 'a', id: 4 },
];
const ids = (rs: readonly R[]) => rs.map((r) => r.id);

test('numbers sort numerically, stable on ties, missing last in both directions', () => {
  assert.deepEqual(ids(sortRows(rows, cols, [{ id: 'n', desc: false }])), [2, 4, 1, 3]);
  assert.deepEqual(ids(sortRows(rows, cols, [{ id: 'n', desc: true }])), [1, 2, 4, 3]);
});

test('text sorts in natural order (addresses), accessorKey columns work, a second key breaks ties', () => {
  assert.deepEqual(ids(sortRows(rows, cols, [{ id: 's', desc: false }])), [2, 1, 4, 3]);
  assert.deepEqual(ids(sortRows(rows, cols, [{ id: 'id', desc: true }])), [4, 3, 2, 1]);
  assert.deepEqual(ids(sortRows(rows, cols, [{ id: 'n', desc: false }, { id: 'id', desc: true }])), [4, 2, 1, 3]);
});

test('no sorting, an unknown column or a column that may not sort keep the given order (same array)', () => {
  assert.equal(sortRows(rows, cols, []), rows);
  assert.equal(sortRows(rows, cols, [{ id: 'nope', desc: false }]), rows);
  assert.equal(sortRows(rows, cols, [{ id: 'fixed', desc: false }]), rows);
});

test('the common columns of every list (columnsOf) sort by their sortValue, 64-bit counters as bigint; no sortValue: no sort', () => {
  type C = { bytes: string; name: string };
  const cs: C[] = [{ bytes: '18446744073709551615', name: 'b' }, { bytes: '9007199254740993', name: 'a' }, { bytes: '9007199254740992', name: 'c' }];
  const defs = columnsOf<C>([
    { id: 'bytes', header: 'Bytes', cell: (c) => c.bytes, sortValue: (c) => BigInt(c.bytes) },
    { id: 'name', header: 'Name', cell: (c) => c.name },
  ]);
  assert.deepEqual(sortRows(cs, defs, [{ id: 'bytes', desc: false }]).map((c) => c.name), ['c', 'a', 'b']);
  assert.deepEqual(sortRows(cs, defs, [{ id: 'bytes', desc: true }]).map((c) => c.name), ['b', 'a', 'c']);
  assert.equal(sortRows(cs, defs, [{ id: 'name', desc: false }]), cs);
});

test('RowSorter: rows changed in place are merged back into the kept order, the same order a full sort gives', () => {
  type S = { key: string; n?: number; s: string };
  const sc: ColumnDef<S, any>[] = [{ id: 'n', accessorFn: (r) => r.n }, { id: 's', accessorFn: (r) => r.s }];
  let seed = 7;
  const rnd = (m: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % m);
  const make = (i: number): S => ({ key: `k${i}`, n: rnd(10) ? rnd(50) : undefined, s: `10.0.${rnd(20)}.${rnd(20)}` });
  let rs = Array.from({ length: 500 }, (_, i) => make(i));
  for (const sorting of [[{ id: 'n', desc: false }], [{ id: 'n', desc: true }, { id: 's', desc: false }], [{ id: 's', desc: true }]]) {
    const sorter = new RowSorter<S>();
    for (let round = 0; round < 30; round++) {
      const got = sorter.sort(rs, sc, sorting, (r) => r.key);
      assert.deepEqual(got.map((r) => r.key), sortRows(rs, sc, sorting).map((r) => r.key), `round ${round} of ${JSON.stringify(sorting)}`);
      rs = rs.slice();
      for (let c = rnd(40); c > 0; c--) {
        const i = rnd(rs.length);
        rs[i] = { ...make(i), key: rs[i]!.key };
      }
      if (round === 20) rs.push(make(rs.length)); // a new row: sorted anew
    }
  }
});

test('RowSorter: the same rows, columns and sorting give the same array; a changed key sorts anew', () => {
  type S = { key: string; n: number };
  const sc: ColumnDef<S, any>[] = [{ id: 'n', accessorFn: (r) => r.n }];
  const sorting = [{ id: 'n', desc: false }];
  const sorter = new RowSorter<S>();
  const a = [{ key: 'a', n: 2 }, { key: 'b', n: 1 }];
  const first = sorter.sort(a, sc, sorting, (r) => r.key);
  assert.equal(sorter.sort(a, sc, sorting, (r) => r.key), first);
  assert.deepEqual(sorter.sort([{ key: 'c', n: 0 }, a[1]!], sc, sorting, (r) => r.key).map((r) => r.key), ['c', 'b']);
});

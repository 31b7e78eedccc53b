// The big grid's row elements (DataTable's assignSlots): a scroll reuses the elements of the rows it leaves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignSlots } from '../../../components/ui/DataTable.tsx';

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

test('rows that stay keep their slot; rows that come into view take the slots of rows that left; no slot is new', () => {
  const a = assignSlots(new Map(), range(0, 35));
  assert.deepEqual([...a.values()], range(0, 35));
  const b = assignSlots(a, range(3, 35)); // wheel: three rows down
  for (const i of range(3, 32)) assert.equal(b.get(i), a.get(i));
  assert.deepEqual([35, 36, 37].map((i) => b.get(i)), [0, 1, 2]);
  const c = assignSlots(b, range(500, 35)); // fling: every row new, the slots in the order they were on screen
  assert.deepEqual(range(500, 35).map((i) => c.get(i)), range(3, 35).map((i) => b.get(i)));
  assert.equal(new Set(c.values()).size, 35);
});

test('a window that grows takes new slots beside the free ones, never one in use', () => {
  const a = assignSlots(new Map(), range(0, 10));
  const b = assignSlots(a, range(100, 20));
  assert.equal(new Set(b.values()).size, 20);
  assert.deepEqual(range(100, 10).map((i) => b.get(i)), range(0, 10));
});

// The latest change per entity (server/wire/coalesce.ts), as the hub's backed-up clients and the fleet agent use it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatestPerEntity } from '../../../server/wire/coalesce.ts';
import type { Delta } from '../../../server/wire/protocol.ts';

test('one change per entity, the latest, in the order of the latest changes; a reset replaces its kind', () => {
  const q = new LatestPerEntity<Delta>(7);
  const up = (seq: number, key: string): Delta => ({ seq, kind: 'policy', op: 'upsert', key, value: {} as never });
  q.add(up(7, 'a'));
  q.add(up(8, 'b'));
  q.add({ seq: 9, kind: 'sa', op: 'remove', key: 'a' }); // same key, other kind: its own entity
  q.add(up(10, 'a'));
  assert.deepEqual(q.list().map((d) => d.seq), [8, 9, 10]);
  q.add({ seq: 11, kind: 'policy', op: 'reset' });
  q.add(up(12, 'c'));
  assert.deepEqual(q.list().map((d) => `${d.seq}:${d.op}`), ['9:remove', '11:reset', '12:upsert']);
  assert.equal(q.size, 3);
  assert.equal(q.from, 7);
});

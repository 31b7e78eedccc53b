import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MultiMap } from '../../../server/model/multimap.ts';

test('MultiMap: one value, a few, many and back keep every value once, in the order added', () => {
  const m = new MultiMap();
  assert.deepEqual([...m.get('a')], []);
  m.add('a', 'x');
  m.add('a', 'x');
  assert.deepEqual([...m.get('a')], ['x']);
  for (let i = 0; i < 12; i++) m.add('a', `v${i}`);
  m.add('a', 'v3');
  assert.deepEqual([...m.get('a')], ['x', ...Array.from({ length: 12 }, (_, i) => `v${i}`)]);
  for (let i = 0; i < 12; i++) m.delete('a', `v${i}`);
  assert.deepEqual([...m.get('a')], ['x']);
  assert.equal(m.first('a'), 'x');
  m.delete('a', 'x');
  assert.equal(m.first('a'), undefined);
  assert.deepEqual([...m.values()], []);
});

test('MultiMap: a few values — delete of one absent is a no-op, first is the oldest left, a reader iterating sees what it began with', () => {
  const m = new MultiMap();
  m.add('k', 'a');
  m.add('k', 'b');
  m.add('k', 'c');
  m.delete('k', 'z');
  assert.deepEqual([...m.get('k')], ['a', 'b', 'c']);
  const seen: string[] = [];
  for (const v of m.get('k')) {
    if (seen.push(v) > 3) break; // a Set would show what is added while iterating, without end
    m.add('k', `${v}2`);
    m.delete('k', 'c');
  }
  assert.deepEqual(seen, ['a', 'b', 'c']);
  m.delete('k', 'a');
  assert.equal(m.first('k'), 'b');
  m.set('k', ['q']);
  assert.deepEqual([...m.get('k')], ['q']);
  m.set('k', []);
  assert.deepEqual([...m.get('k')], []);
});

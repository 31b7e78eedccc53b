// The browser's counter history: rates from two samples, no ring for counters that never move, bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateTracker, SAMPLES } from '../../../components/live/rates.ts';

test('a rate needs two different samples; it is per second over the last two', () => {
  const r = new RateTracker();
  r.record('a', 1000, 0);
  assert.equal(r.rate('a'), 0);
  r.record('a', 1000, 1000); // unchanged: still nothing to say
  assert.equal(r.rate('a'), 0);
  r.record('a', 3000, 2000);
  assert.equal(r.rate('a'), 1000); // (3000 - 1000) / 2 s
  r.record('a', 4000, 3000);
  assert.equal(r.rate('a'), 1000);
  assert.deepEqual(r.series('a'), [1000, 1000]);
});

test('the ring holds at most SAMPLES samples; forget drops the key', () => {
  const r = new RateTracker();
  for (let i = 0; i < SAMPLES * 3; i++) r.record('k', i * 10, i * 1000);
  assert.equal(r.series('k').length, SAMPLES - 1);
  r.forget('k');
  assert.deepEqual(r.series('k'), []);
  r.record('k', 5, 0);
  r.record('k', 15, 1000);
  assert.equal(r.rate('k'), 10); // a fresh start, not from the forgotten samples
});

test('no more keys than maxKeys are tracked', () => {
  const r = new RateTracker(2);
  for (const k of ['a', 'b', 'c']) {
    r.record(k, 0, 0);
    r.record(k, 100, 1000);
  }
  assert.equal(r.rate('a'), 100);
  assert.equal(r.rate('b'), 100);
  assert.equal(r.rate('c'), 0);
});

test('a key first seen in a snapshot is not sampled; its first change brings the value it had since then', () => {
  const r = new RateTracker();
  assert.equal(r.has('sa'), false);
  r.record('sa', 5000, 10_000, { v: 5000, t: 0 }); // a delta that left the counter as the snapshot had it
  assert.equal(r.has('sa'), false, 'no samples for a counter that has not moved');
  r.record('sa', 9000, 20_000, { v: 5000, t: 0 });
  assert.equal(r.rate('sa'), 200, '(9000 - 5000) over the 20 s since the snapshot');
  r.record('sa', 10_000, 21_000, { v: 9000, t: 0 }); // a ring exists: `before` is not needed any more
  assert.equal(r.rate('sa'), 1000);
});

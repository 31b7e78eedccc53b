// Reconnect backoff: full jitter under a doubling, capped bound, so clients of a restarted server
// do not all come back at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RECONNECT_BASE_MS, RECONNECT_CAP_MS, reconnectBound, reconnectDelay } from '../../../components/live/backoff.ts';

test('the bound doubles per attempt from the base and stops at the cap', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map(reconnectBound), [500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  assert.equal(RECONNECT_BASE_MS, 500);
  assert.equal(reconnectBound(10_000), RECONNECT_CAP_MS); // no overflow to Infinity/NaN after many failures
});

test('the delay is drawn below the bound: from 0 (random 0) to just under the bound (random → 1)', () => {
  for (const attempt of [0, 3, 50]) {
    assert.equal(reconnectDelay(attempt, () => 0), 0);
    assert.equal(reconnectDelay(attempt, () => 0.5), reconnectBound(attempt) / 2);
    assert.equal(reconnectDelay(attempt, () => 0.999999), reconnectBound(attempt) - 1);
  }
});

test('1,000 clients reconnecting after the same close spread over the window, not in one millisecond', () => {
  for (const attempt of [0, 6]) {
    const delays = Array.from({ length: 1000 }, () => reconnectDelay(attempt));
    assert.ok(delays.every((d) => Number.isInteger(d) && d >= 0 && d < reconnectBound(attempt)));
    // Same millisecond for at most a handful of clients (uniform over 500 or 10,000 ms: ~2 or ~0.1 expected).
    const perMs = new Map<number, number>();
    for (const d of delays) perMs.set(d, (perMs.get(d) ?? 0) + 1);
    assert.ok(Math.max(...perMs.values()) <= 12, `most clients in one millisecond: ${Math.max(...perMs.values())}`);
    // And both halves of the window are used.
    const low = delays.filter((d) => d < reconnectBound(attempt) / 2).length;
    assert.ok(low > 350 && low < 650, `clients in the first half: ${low}`);
  }
});

// The rekey countdown in words (wall tiles, the tunnels table, the tunnel page): past the soft expiry a
// tunnel is waiting for a rekey (the peer's, on the responder side) with a deadline, not "expired".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rekeyText } from '../../../components/tunnels/rekey-text.ts';

const T0 = Date.UTC(2026, 11, 1, 0, 0, 0);

test("rekey text: after the soft expiry the tunnel waits for the peer's rekey with the hard expiry in N s, never 'expired'", () => {
  const now = T0;
  assert.deepEqual(rekeyText({ softExpiresAt: now + 120_000, hardExpiresAt: now + 180_000 }, now), { label: 'next rekey', value: '2 min 0 s', urgent: false });
  const waiting = rekeyText({ softExpiresAt: now - 5000, hardExpiresAt: now + 42_000 }, now);
  assert.deepEqual(waiting, { label: "waiting for the peer's rekey", value: 'hard expiry in 42 s', urgent: true });
  assert.doesNotMatch(`${waiting.label} ${waiting.value}`, /expired/);
  assert.deepEqual(rekeyText({ softExpiresAt: now - 60_000, hardExpiresAt: now - 1 }, now), { label: 'hard expiry', value: 'passed', urgent: true });
  assert.equal(rekeyText({ useLimitPending: true }, now).value, 'after first use');
});

test('rekey text: a down tunnel has no countdown, even one kept from its last SA (the wall tile beside "Hard expiry reached")', () => {
  const now = T0;
  const kept = { softExpiresAt: now + 124_000, hardExpiresAt: now + 300_000 };
  assert.deepEqual(rekeyText(kept, now, 'down'), { label: 'no current SA', value: '—', urgent: false });
  assert.equal(rekeyText(kept, now, 'up').label, 'next rekey');
});

// list-sas rows as the source decodes them: times charon prints relative to now are signed (a CHILD SA whose
// rekey is overdue says rekey-time "-3"), counters and ids are not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childSa, ikeSa } from '../../../server/families/vici/entities.ts';
import { DecodeError } from '../../../server/netlink/errors.ts';

const NOW = 1_800_000_000_000;
const ike = { name: 'lab', uniqueId: 1 };
const child = { name: 'net', uniqueid: '7', state: 'INSTALLED', 'rekey-time': '-3', 'life-time': '12', 'install-time': '33', 'bytes-in': '5' };

test('an overdue rekey (rekey-time "-3", as charon 5.9.8 printed it in the lab-ui run) decodes to a time in the past', () => {
  const c = childSa(ike, child, NOW, 'list-sa lab child net-7');
  assert.equal(c.rekeyAt, NOW - 3000);
  assert.equal(c.expiresAt, NOW + 12_000);
  assert.equal(c.installedAt, NOW - 33_000);
  assert.equal(ikeSa('lab', { uniqueid: '1', state: 'ESTABLISHED', 'reauth-time': '-1' }, NOW, 'list-sa lab').reauthAt, NOW - 1000);
});

test("a last use a moment ahead of charon's clock (use-in 2^64 - 1: its unsigned now - t) is just now, not a decode error", () => {
  const c = childSa(ike, { ...child, 'use-in': '18446744073709551615', 'use-out': '4' }, NOW, 'list-sa lab child net-17');
  assert.equal(c.lastInAt, NOW);
  assert.equal(c.lastOutAt, NOW - 4000);
  assert.throws(() => childSa(ike, { ...child, 'use-in': '18446744073709551616' }, NOW, 'x'), DecodeError, 'past 64 bits: still an error');
});

test('a sign where none belongs (a counter, a unique id) is still a decode error', () => {
  assert.throws(() => childSa(ike, { ...child, 'bytes-in': '-5' }, NOW, 'x'), (e: unknown) => e instanceof DecodeError && /bytes-in: "-5" is not a decimal number/.test(e.message));
  assert.throws(() => childSa(ike, { ...child, uniqueid: '-7' }, NOW, 'x'), DecodeError);
});

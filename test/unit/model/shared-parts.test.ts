// The model's shared parts, in a process of their own: pools and shapes are per process (another file's
// rows could have used up the shapes or shown a shape's values seldom repeat).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../../server/model/model.ts';

test('parts that repeat across rows are kept once, frozen, and a change to one row leaves the others as they were', () => {
  const m = new Model();
  const sel = (proto: string | number) => ({ src: '0.0.0.0/0', dst: '0.0.0.0/0', proto, sport: 0, dport: 0 });
  for (let i = 0; i < 3; i++) m.upsert('tunnel', `t${i}`, { name: `t${i}`, selector: sel('any'), flags: ['esn'] });
  const rows = [0, 1, 2].map((i) => m.get('tunnel', `t${i}`) as { selector: { proto: unknown }; flags: string[] });
  assert.equal(rows[0]!.selector, rows[1]!.selector);
  assert.equal(rows[0]!.flags, rows[2]!.flags);
  assert.ok(Object.isFrozen(rows[0]!.selector));
  const seen: unknown[] = [];
  m.onChange((c) => seen.push(c));
  m.upsert('tunnel', 't1', { name: 't1', selector: sel('any'), flags: ['esn'] });
  assert.equal(seen.length, 0, 'the same row again changes nothing');
  m.patch('tunnel', 't1', { selector: { proto: 6 } });
  assert.deepEqual((m.get('tunnel', 't1') as { selector: unknown }).selector, sel(6));
  assert.deepEqual((m.get('tunnel', 't0') as { selector: unknown }).selector, sel('any'));
  m.upsert('tunnel', 't2', { name: 't2', selector: sel('6'), flags: ['esn'] });
  assert.equal((m.get('tunnel', 't2') as { selector: { proto: unknown } }).selector.proto, '6', '"6" and 6 are different values');
  assert.equal((m.get('tunnel', 't1') as { selector: { proto: unknown } }).selector.proto, 6);
});

test('a part made of shared parts is shared too (policies\' lifetimes, a check\'s differences), and a part holding one of its own is not', () => {
  const m = new Model();
  const limits = { softByteLimit: '18446744073709551615', hardByteLimit: '18446744073709551615' };
  const lifetime = (addTime: string) => ({ config: { ...limits }, current: { bytes: '0', addTime } });
  for (let i = 0; i < 3; i++) m.upsert('policy', `p${i}`, { index: i, lifetime: lifetime('1795443032'), differences: [{ field: 'mode', xfrm: 'transport', pfkey: 'tunnel' }] });
  const rows = [0, 1, 2].map((i) => m.get('policy', `p${i}`) as { lifetime: { config: object }; differences: object[] });
  assert.equal(rows[0]!.lifetime, rows[2]!.lifetime);
  assert.equal(rows[0]!.differences, rows[1]!.differences);
  assert.ok(Object.isFrozen(rows[0]!.lifetime) && Object.isFrozen(rows[0]!.differences));
  m.upsert('policy', 'p3', { index: 3, lifetime: lifetime('1795443033'), differences: [] });
  const p3 = m.get('policy', 'p3') as { lifetime: { current: { addTime: string }; config: object } };
  assert.deepEqual([p3.lifetime.current.addTime, p3.lifetime.config], ['1795443033', rows[0]!.lifetime.config]);
  const o = m.get('policy', 'p0') as { lifetime: { current: { addTime: string } } };
  assert.equal(o.lifetime.current.addTime, '1795443032', 'the others keep their own value');
});

test('each kind has pools of its own: SAs whose lifetimes never repeat, dumped first, leave policies\' lifetimes shared', () => {
  const m = new Model();
  const lifetime = (addTime: string) => ({ config: { softByteLimit: '0', hardByteLimit: '0' }, current: { bytes: '0', addTime } });
  for (let i = 0; i < 1100; i++) m.upsert('sa', `s${i}`, { spi: i, lifetime: lifetime(String(1_795_440_000 + i)) });
  for (let i = 0; i < 3; i++) m.upsert('policy', `p${i}`, { index: i, lifetime: lifetime('1795443032') });
  assert.equal((m.get('policy', 'p0') as { lifetime: object }).lifetime, (m.get('policy', 'p2') as { lifetime: object }).lifetime);
});

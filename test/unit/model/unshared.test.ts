// Model({ share: false }), the one-shot's model: the same rows as a sharing model, made without the lookups
// that share strings and parts (a long-lived model's memory; `sascope snapshot` keeps nothing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../../server/model/model.ts';

test('a model that does not share makes the same rows, none of their parts shared; a sharing model beside it still shares', () => {
  const shared = new Model();
  const own = new Model({ share: false });
  const row = (i: number) => ({ name: `t${i}`, selector: { src: '0.0.0.0/0', dst: '0.0.0.0/0', proto: 'any', sport: 0, dport: 0 }, flags: ['esn'], bytes: 1024n, lifetime: { config: { softByteLimit: 2n ** 64n - 1n }, current: { bytes: BigInt(i) } } });
  for (let i = 0; i < 3; i++) for (const m of [own, shared]) m.upsert('tunnel', `t${i}`, row(i)); // interleaved: the switch is per model
  assert.deepEqual(own.list('tunnel'), shared.list('tunnel'));
  assert.deepEqual(own.get('tunnel', 't1'), { name: 't1', selector: { src: '0.0.0.0/0', dst: '0.0.0.0/0', proto: 'any', sport: 0, dport: 0 }, flags: ['esn'], bytes: '1024', lifetime: { config: { softByteLimit: '18446744073709551615' }, current: { bytes: '1' } }, key: 't1' });
  const parts = (m: Model, i: number) => m.get('tunnel', `t${i}`) as { selector: object; flags: string[] };
  assert.notEqual(parts(own, 0).selector, parts(own, 1).selector);
  assert.notEqual(parts(own, 0).flags, parts(own, 2).flags);
  assert.equal(parts(shared, 0).selector, parts(shared, 1).selector);
  assert.equal(parts(shared, 0).flags, parts(shared, 2).flags);
  own.patch('tunnel', 't1', { selector: { proto: 6 } });
  assert.equal((own.get('tunnel', 't1') as { selector: { proto: unknown } }).selector.proto, 6);
  assert.equal((own.get('tunnel', 't0') as { selector: { proto: unknown } }).selector.proto, 'any');
});

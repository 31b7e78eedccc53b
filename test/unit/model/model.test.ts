// The one model: only real changes emit, replaceAll removes what is gone, events bounded, wire form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model, toWire, type ModelChange } from '../../../server/model/model.ts';

function watched(opts = {}) {
  const m = new Model(opts);
  const changes: ModelChange[] = [];
  m.onChange((c) => changes.push(c));
  return { m, changes };
}

test('a no-op upsert emits nothing; a real change emits one delta', () => {
  const { m, changes } = watched();
  m.upsert('link', '1', { index: 1, name: 'lo', bytes: 5n });
  m.upsert('link', '1', { index: 1, name: 'lo', bytes: 5n });
  m.upsert('link', '1', { index: 1, name: 'lo', bytes: 5n, gone: undefined });
  assert.equal(changes.length, 1);
  m.upsert('link', '1', { index: 1, name: 'lo', bytes: 6n });
  assert.equal(changes.length, 2);
  m.remove('link', '1');
  m.remove('link', '1');
  assert.deepEqual(changes.map((c) => c.op), ['upsert', 'upsert', 'remove']);
});

test('a change is found before any copy is made, at any depth and for every wire conversion', () => {
  const { m, changes } = watched();
  const base = () => ({ key: 'own key is replaced', n: 1, big: 2n ** 64n - 1n, buf: Buffer.from([1, 2]), nested: { list: [1n, { s: 'x' }], none: null }, empty: [] as unknown[] });
  m.upsert('sa', 'k', base());
  const same: Array<Record<string, unknown>> = [
    base(),
    { ...base(), extra: undefined },
    { ...base(), key: 'another own key' },
  ];
  for (const v of same) m.upsert('sa', 'k', v);
  assert.equal(changes.length, 1, 'the same values, an undefined field, another own key field: no change');
  const changed: Array<[string, Record<string, unknown>]> = [
    ['a bigint', { ...base(), big: 1n }],
    ['a Buffer', { ...base(), buf: Buffer.from([1, 3]) }],
    ['a nested array element', { ...base(), nested: { list: [2n, { s: 'x' }], none: null } }],
    ['a nested string', { ...base(), nested: { list: [1n, { s: 'y' }], none: null } }],
    ['an array length', { ...base(), empty: [1] }],
    ['an object for an array', { ...base(), empty: {} }],
    ['a field gone', { n: 1 }],
    ['a field added', { ...base(), more: 0 }],
    ['null for an object', { ...base(), nested: null }],
  ];
  for (const [what, v] of changed) {
    const before: number = changes.length;
    m.upsert('sa', 'k', v);
    assert.equal(changes.length, before + 1, what);
    m.upsert('sa', 'k', base());
  }
  assert.deepEqual(m.get('sa', 'k'), { key: 'k', n: 1, big: '18446744073709551615', buf: '0102', nested: { list: ['1', { s: 'x' }], none: null }, empty: [] });
});

test('replaceAll removes what is gone, upserts what changed, stays silent on the rest', () => {
  const { m, changes } = watched();
  m.replaceAll('policy', [{ key: 'a', value: { v: 1 } }, { key: 'b', value: { v: 1 } }, { key: 'c', value: { v: 1 } }]);
  changes.length = 0;
  m.replaceAll('policy', [{ key: 'b', value: { v: 1 } }, { key: 'c', value: { v: 2 } }, { key: 'd', value: { v: 1 } }]);
  assert.deepEqual(changes.map((c) => `${c.op}:${c.key}`).sort(), ['remove:a', 'upsert:c', 'upsert:d']);
  assert.deepEqual(m.list('policy'), [{ v: 1, key: 'b' }, { v: 2, key: 'c' }, { v: 1, key: 'd' }], 'every wire entity carries its key');
  changes.length = 0;
  m.replaceAll('policy', []);
  assert.equal(m.count('policy'), 0);
  assert.equal(changes.length, 3);
});

test('events are bounded at maxEvents, oldest out', () => {
  const { m } = watched({ maxEvents: 5 });
  for (let i = 0; i < 12; i++) m.event({ source: 's', type: 't', summary: `e${i}` });
  assert.equal(m.count('event'), 5);
  assert.deepEqual((m.list('event') as Array<{ summary: string; id: number }>).map((e) => e.summary), ['e7', 'e8', 'e9', 'e10', 'e11']);
});

test('toWire: bigint → decimal string, Buffer → hex, undefined dropped, nested and arrays', () => {
  assert.deepEqual(toWire({ a: 2n ** 64n - 1n, b: [1n, { c: Buffer.from([0xab]) }], d: undefined, e: null, f: 'x' }), {
    a: '18446744073709551615', b: ['1', { c: 'ab' }], e: null, f: 'x',
  });
  const { m } = watched();
  m.upsert('sa', 'k', { bytes: 10n });
  assert.deepEqual(m.get('sa', 'k'), { bytes: '10', key: 'k' });
  assert.doesNotThrow(() => JSON.stringify(m.entities()));
});

test('wire rows: the same shape with other values, a key field given or not, field names that are not identifiers, and shapes past the bound', () => {
  const { m } = watched();
  m.upsert('sa', 'a', { key: 'ignored', x: 1n, y: undefined, 'odd "name"\n': 'v' });
  m.upsert('sa', 'b', { x: 2n, 'odd "name"\n': 'w' });
  assert.deepEqual(m.get('sa', 'a'), { key: 'a', x: '1', 'odd "name"\n': 'v' });
  assert.deepEqual(m.get('sa', 'b'), { key: 'b', x: '2', 'odd "name"\n': 'w' });
  // Fields named by the kernel's text can make any number of shapes: past the bound they are still copied right.
  for (let i = 0; i < 5000; i++) {
    const v: Record<string, unknown> = { [`f${i}`]: BigInt(i), [`g${i}`]: undefined, h: [i] };
    assert.deepEqual(toWire(v), { [`f${i}`]: String(i), h: [i] });
  }
  m.upsert('sa', 'c', { z9999: 3n });
  assert.deepEqual(m.get('sa', 'c'), { key: 'c', z9999: '3' });
});

test('status() keys sources by id', () => {
  const { m } = watched();
  m.status({ id: 'xfrm-policy', label: 'x', state: 'ok', since: 1, resyncs: 0, decodeErrors: 0 });
  assert.equal((m.get('source', 'xfrm-policy') as { state: string }).state, 'ok');
});

test('patch: fields replace the held ones, a plain object one level deep; nothing held: orElse or nothing', () => {
  const { m, changes } = watched();
  m.upsert('sa', 'a', { spi: 1, lifetime: { config: { hard: 9n }, current: { bytes: 1n } }, enc: { name: 'cbc(aes)' } });
  m.patch('sa', 'a', { lifetime: { current: { bytes: 5n } }, replayThresh: 3 });
  assert.deepEqual(m.get('sa', 'a'), { spi: 1, lifetime: { config: { hard: '9' }, current: { bytes: '5' } }, enc: { name: 'cbc(aes)' }, replayThresh: 3, key: 'a' });
  const n = changes.length;
  m.patch('sa', 'a', { replayThresh: 3 });
  assert.equal(changes.length, n, 'a patch that changes nothing emits nothing');
  m.patch('sa', 'b', { replayThresh: 1 });
  assert.equal(m.get('sa', 'b'), undefined);
  m.patch('sa', 'b', { replayThresh: 1 }, { spi: 2 });
  assert.deepEqual(m.get('sa', 'b'), { spi: 2, key: 'b' });
});

// The host filter every page obeys (?host=): one host's rows and the console's own, looked up by the
// console's key or the agent's own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostRows, hostOf, onHost } from '../../../components/live/host-filter.ts';

const table = (rows: Array<{ key: string; host?: string }>) => ({ rows: new Map(rows.map((r) => [r.key, r])), version: 7 });

test('only the chosen host’s rows, and the rows that carry no host (the console’s own)', () => {
  const t = table([{ key: 'gw-a/xfrm-sa', host: 'gw-a' }, { key: 'gw-b/xfrm-sa', host: 'gw-b' }, { key: 'nats' }]);
  const v = onHost(t, 'gw-a');
  assert.deepEqual([...v.rows.keys()], ['gw-a/xfrm-sa', 'nats']);
  assert.equal(v.version, 7);
  assert.equal(onHost(t, 'gw-c').rows.size, 1);
});

test('a row is found by its console key or by the key it has on its agent', () => {
  const v = onHost(table([{ key: 'gw-a/3', host: 'gw-a' }, { key: 'gw-b/3', host: 'gw-b' }]), 'gw-b');
  assert.ok(v.rows instanceof HostRows);
  assert.equal(v.rows.get('3')?.host, 'gw-b');
  assert.equal(v.rows.get('gw-b/3')?.host, 'gw-b');
  assert.equal(v.rows.get('gw-a/3'), undefined);
  assert.equal(v.rows.has('3'), true);
  assert.equal(v.rows.has('4'), false);
});

test('hostOf reads only a string host', () => {
  assert.equal(hostOf({ host: 'gw-a' }), 'gw-a');
  assert.equal(hostOf({ host: 3 }), undefined);
  assert.equal(hostOf({}), undefined);
});

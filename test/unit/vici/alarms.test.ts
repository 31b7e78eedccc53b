// strongSwan alarms: a connection to a named peer that was up and lost its IKE SA is ike-down (critical) and
// clears when it is up again; a failed authentication raises ike-auth-failed and ike-down with the reason; a
// road-warrior template (remote %any) or one never up without a failure raises nothing; nothing while the
// vici source is not ok; a connection gone takes its alarms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../../server/model/model.ts';
import { AlarmBook } from '../../../server/model/alarms.ts';
import { ViciAlarms } from '../../../server/model/vici-alarms.ts';
import type { ViciConnection } from '../../../server/wire/vici.ts';

const conn = (name: string, remote: string[], over: Partial<ViciConnection> = {}): ViciConnection => ({ name, localAddrs: ['10.0.0.1'], remoteAddrs: remote, local: [], remote: [], children: [], ...over });
const ike = (name: string, id: number, state = 'ESTABLISHED') => ({ name, uniqueId: id, state });
const tick = () => new Promise((r) => setTimeout(r, 0));

test('vici alarms: down after up, auth failure, templates quiet, source not ok quiet, gone clears', async () => {
  const model = new Model();
  const book = new AlarmBook(model, () => 1000);
  const alarms = new ViciAlarms(model, book);
  const types = () => book.all().map((a) => `${a.ref} ${a.type}`).sort();
  model.status({ id: 'vici', label: 'strongSwan (VICI)', state: 'ok', since: 0, resyncs: 0, decodeErrors: 0 });
  model.upsert('vici-conn', 'site', conn('site', ['10.0.0.2']));
  model.upsert('vici-conn', 'rw', conn('rw', ['%any']));
  model.upsert('vici-conn', 'idle', conn('idle', ['10.0.0.3']));
  model.upsert('vici-ike', '1', ike('site', 1));
  await tick();
  assert.deepEqual(types(), []);
  model.remove('vici-ike', '1');
  await tick();
  assert.deepEqual(types(), ['vici-conn:site ike-down']);
  model.upsert('vici-conn', 'idle', conn('idle', ['10.0.0.3'], { lastReason: { code: 'auth-failed', time: 5 } }));
  await tick();
  assert.deepEqual(types(), ['vici-conn:idle ike-auth-failed', 'vici-conn:idle ike-down', 'vici-conn:site ike-down']);
  assert.match(book.all().find((a) => a.key === 'ike-down:vici-conn:idle')!.summary, /idle: no IKE SA with 10.0.0.3: peer authentication failed/);
  model.upsert('vici-ike', '2', ike('site', 2));
  await tick();
  assert.deepEqual(types(), ['vici-conn:idle ike-auth-failed', 'vici-conn:idle ike-down'], 'up again clears');
  model.remove('vici-conn', 'idle');
  await tick();
  assert.deepEqual(types(), [], 'a connection gone takes its alarms');
  model.remove('vici-ike', '2');
  model.status({ id: 'vici', label: 'strongSwan (VICI)', state: 'stale', since: 0, resyncs: 0, decodeErrors: 0 });
  await tick();
  assert.deepEqual(types(), [], 'nothing while the source is stale (source-stale says it)');
  alarms.close();
});

// Operator actions over VICI against a fake charon: initiate/terminate stream control-log lines into the
// action's row, rekey gathers the log stream's lines of its IKE SA only, a second action on the same SA
// (or on a CHILD SA of an IKE SA being acted on) is refused in words, charon's errmsg is the failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../../server/model/model.ts';
import { ViciActions } from '../../../server/families/vici/actions.ts';
import type { ViciAction } from '../../../server/wire/vici.ts';
import { confirm, event, FakeCharon, response, type Handler } from './fake-charon.ts';

const log = (name: string, msg: string, ike = '3') => event(name, { group: 'IKE', level: '1', 'ikesa-name': 'site', 'ikesa-uniqueid': ike, msg });

async function withCharon(handler: Handler, fn: (c: FakeCharon, model: Model, a: ViciActions) => Promise<void>): Promise<void> {
  const charon = await new FakeCharon(handler).listen();
  const model = new Model();
  try {
    await fn(charon, model, new ViciActions(model, { socketPath: charon.path, timeoutMs: 2000, rekeyLogMs: 50, ikeOfChild: (id) => (id === 7 ? 3 : undefined) }));
  } finally {
    await charon.close();
  }
}

test('initiate: control-log lines in the row, ok; a second initiate of the same connection while it runs is refused in words', async () => {
  await withCharon(
    (p) => {
      if (p.type === 'EVENT_REGISTER') return [confirm()];
      if (p.name === 'initiate') return [log('control-log', 'initiating IKE_SA site[3] to 192.0.2.2'), 60, log('control-log', 'IKE_SA site[3] established'), response({ success: 'yes' })];
      return [response({ success: 'no', errmsg: 'unexpected' })];
    },
    async (charon, model, actions) => {
      const a = actions.start('initiate', { conn: 'site', child: 'net' }, 'alice');
      assert.ok(a.started);
      assert.equal((model.get('vici-action', a.row.key) as ViciAction).result, 'running');
      const b = actions.start('initiate', { conn: 'site', child: 'net' }, 'bob');
      assert.equal(b.started, false);
      assert.match(!b.started ? b.message : '', /^initiate of connection site\/net \(by alice, started .*\) is still running; initiate of connection site\/net refused$/);
      const done = await a.done;
      assert.equal(done.result, 'ok');
      assert.deepEqual(done.log, ['[IKE] initiating IKE_SA site[3] to 192.0.2.2', '[IKE] IKE_SA site[3] established']);
      assert.deepEqual((model.get('vici-action', a.row.key) as ViciAction).log, done.log);
      const cmd = charon.requests.find((r) => r.packet.name === 'initiate')!.packet.message!;
      assert.deepEqual({ ike: cmd['ike'], child: cmd['child'], loglevel: cmd['loglevel'] }, { ike: 'site', child: 'net', loglevel: '1' });
      assert.ok(actions.start('initiate', { conn: 'site', child: 'net' }, 'bob').started, 'free again once done');
    },
  );
});

test("terminate: charon's errmsg is the failure; a CHILD SA of an IKE SA being terminated is refused", async () => {
  await withCharon(
    (p) => {
      if (p.type === 'EVENT_REGISTER') return [confirm()];
      if (p.name === 'terminate') return [60, response({ success: 'no', errmsg: 'no matching SAs to terminate found' })];
      return [response({ success: 'yes' })];
    },
    async (_c, _m, actions) => {
      const a = actions.start('terminate', { ikeId: 3 }, 'alice');
      assert.ok(a.started);
      const c = actions.start('rekey', { childId: 7 }, 'bob');
      assert.match(!c.started ? c.message : '', /terminate of IKE SA #3 .* still running; rekey of CHILD SA #7 refused/);
      const done = await a.done;
      assert.equal(done.result, 'failed');
      assert.equal(done.error, 'no matching SAs to terminate found');
    },
  );
});

test('rekey: the log stream of its IKE SA only, after charon took it', async () => {
  await withCharon(
    (p) => {
      if (p.type === 'EVENT_REGISTER') return [confirm()];
      if (p.name === 'rekey') return [response({ success: 'yes', matches: '1' }), 10, log('log', 'rekeying CHILD_SA net{7}'), log('log', 'other SA', '9')];
      return [response({ success: 'no' })];
    },
    async (charon, _m, actions) => {
      const a = actions.start('rekey', { childId: 7 }, 'alice');
      assert.ok(a.started);
      const done = await a.done;
      assert.equal(done.result, 'ok');
      assert.deepEqual(done.log, ['[IKE] rekeying CHILD_SA net{7}']);
      assert.equal(charon.requests.find((r) => r.packet.name === 'rekey')!.packet.message!['child-id'], '7');
      assert.ok(charon.requests.every((r) => r.packet.type !== 'CMD_REQUEST' || ['rekey'].includes(r.packet.name!)), 'no other command is sent');
    },
  );
});

test('charon not there: the action fails with the reason in words', async () => {
  const model = new Model();
  const a = new ViciActions(model, { socketPath: '/nonexistent/charon.vici', timeoutMs: 500 }).start('terminate', { childId: 1 }, 'alice');
  assert.ok(a.started);
  const done = await a.done;
  assert.equal(done.result, 'failed');
  assert.match(done.error!, /ENOENT \(no socket at \/nonexistent\/charon.vici/);
});

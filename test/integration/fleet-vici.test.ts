// VICI actions through the fleet (issue 21 item 6): a console asks an agent over NATS request/reply
// (sascope.v1.cmd.<host>.vici-<action>, the target in the request), the agent runs it through its own vici
// actions against its charon (a fake one on a unix socket), and the answer is the agent's row under the
// console's key. A request without its target is refused by the agent in words. A nats-server of the test's
// own on 127.0.0.1; console and agent in this process.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, until, type TestNatsServer } from '../fleet-helpers.ts';
import { FakeCharon, response, confirm } from '../unit/vici/fake-charon.ts';
import { Model } from '../../server/model/model.ts';
import { createLogger } from '../../server/log.ts';
import { FleetConsole } from '../../server/fleet/console.ts';
import { FleetAgent } from '../../server/fleet/agent.ts';
import { CommandReply, FLEET_PROTO, commandSubject } from '../../server/fleet/protocol.ts';
import { ViciActions } from '../../server/families/vici/actions.ts';
import { agentCommands } from '../../server/agent.ts';
import { kernelActions } from '../../server/kernel.ts';
import { ConfigSchema } from '../../server/config.ts';
import type { ViciAction } from '../../server/wire/vici.ts';

const log = createLogger('silent');
let nats: TestNatsServer;
let charon: FakeCharon;
let nc: NatsConnection;
let fleet: FleetConsole;
let agent: FleetAgent;
const agentModel = new Model();

before(async () => {
  nats = await startNatsServer();
  charon = await new FakeCharon((p) => (p.type === 'EVENT_REGISTER' ? [confirm()] : p.name === 'rekey' ? [response({ success: 'yes' })] : [response({ success: 'no', errmsg: 'no' })])).listen();
  fleet = new FleetConsole(new Model(), log, { settings: ConfigSchema.parse({}).fleet });
  nc = await connect({ servers: nats.url, inboxPrefix: '_INBOX_console' });
  await fleet.attach(nc);
  const vici = new ViciActions(agentModel, { socketPath: charon.path, timeoutMs: 2000, rekeyLogMs: 10 });
  const actions = kernelActions({ model: agentModel, vici } as unknown as Parameters<typeof kernelActions>[0], log);
  agent = new FleetAgent(agentModel, { url: nats.url, identity: 'gw1' }, log, {
    host: 'gw1', agentVersion: 'test', server: { version: 'test', hostname: 'gw1', netns: 'self' }, heartbeatSeconds: 0.5, snapshotSeconds: 60,
    ready: Promise.resolve(), commands: agentCommands(() => actions),
  });
  agent.start();
});

after(async () => {
  await agent?.stop();
  fleet?.stop();
  await nc?.close();
  await charon?.close();
  await nats?.stop();
});

test('a rekey on gw1 through the console: the agent runs it on its charon, the row is the agent\'s under the console key', async () => {
  const r = await until('gw1 known to the console', async () => {
    const x = await fleet.command('gw1', { vici: 'rekey', target: { childId: 7 } }, 'alice');
    return x.started || !/no host gw1/.test(x.message) ? x : undefined;
  }, 15_000);
  assert.ok(r.started, !r.started ? r.message : '');
  const row = r.row as ViciAction & { host: string };
  assert.equal(row.host, 'gw1');
  assert.match(row.key, /^gw1\//);
  assert.deepEqual([row.action, row.target, row.by], ['rekey', { childId: 7 }, 'alice']);
  const sent = await until('the rekey at charon', () => charon.requests.find((q) => q.packet.name === 'rekey'));
  assert.deepEqual(sent.packet.message, { 'child-id': '7' });
  await until('the agent\'s row done', () => ((agentModel.list('vici-action') as ViciAction[]).find((a) => a.result === 'ok') ? true : undefined));
});

test('the agent refuses a vici command without its target, and a target on one that takes none, in words', async () => {
  const ask = async (action: string, body: object) => CommandReply.parse((await nc.request(commandSubject('gw1', action), JSON.stringify({ proto: FLEET_PROTO, by: 'alice', ...body }), { timeout: 5000 })).json());
  const none = await ask('vici-terminate', {});
  assert.ok(!none.started && none.refusal === 'bad-request');
  assert.match(!none.started ? none.message : '', /vici-terminate needs its target/);
  const extra = await ask('crypto-probe', { target: { ikeId: 1 } });
  assert.match(!extra.started ? extra.message : '', /crypto-probe takes no target/);
  const bad = await ask('vici-rekey', { target: { ikeId: 'x' } });
  assert.match(!bad.started ? bad.message : '', /a command request is JSON/);
  assert.equal(charon.requests.filter((q) => q.packet.name === 'terminate').length, 0);
});

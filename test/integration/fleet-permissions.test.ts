// NATS permissions for the fleet (docs/fleet.md "Permissions"): a nats-server of the test's own with one
// identity per agent (user/password, or an nkey seed file) allowed to publish only its own host's
// subjects, and the console's identity. An agent with its own identity publishes; an agent that names
// another host with its credentials is refused by NATS — nothing of it reaches the stream or KV, and it
// says why; wrong credentials are refused at connect and the agent keeps trying.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { nkeys, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { requireTestNetns } from '../helpers.ts';
import { plainClient, startAgent, startNatsServer, streamMessages, until, type RunningAgent, type TestNatsServer } from '../fleet-helpers.ts';
import { ALIVE_BUCKET, BUCKET_OPTIONS, CommandReply, HOSTS_BUCKET, HostRecord, STREAM, commandSubject, hostSubject, streamConfig } from '../../server/fleet/protocol.ts';

requireTestNetns();

/** An agent identity's permissions, as docs/fleet.md gives them. */
function agentPermissions(h: string): string {
  return `{
    publish: { allow: ["sascope.v1.host.${h}.>", "$KV.sascope-hosts.${h}", "$KV.sascope-alive.${h}",
                       "$JS.API.INFO", "$JS.API.STREAM.INFO.SASCOPE", "$JS.API.STREAM.INFO.KV_sascope-hosts", "$JS.API.STREAM.INFO.KV_sascope-alive"] }
    subscribe: { allow: ["_INBOX_${h}.>", "sascope.v1.cmd.${h}.>"] }
    allow_responses: true
  }`;
}

const dir = mkdtempSync(path.join(tmpdir(), 'sascope-nkey-'));
const gw3 = nkeys.createUser();
const seedFile = path.join(dir, 'gw3.nk');
writeFileSync(seedFile, `${new TextDecoder().decode(gw3.getSeed())}\n`, { mode: 0o600 });
const CONFIG = `authorization {
  users = [
    { user: console, password: console-secret-pw, permissions: { publish: ">", subscribe: ">" } }
    { user: gw1, password: gw1-secret-pw, permissions: ${agentPermissions('gw1')} }
    { user: gw2, password: gw2-secret-pw, permissions: ${agentPermissions('gw2')} }
    { nkey: ${gw3.getPublicKey()}, permissions: ${agentPermissions('gw3')} }
  ]
}
`;
const fleet = { fleet: { heartbeatSeconds: 0.5 } };
let nats: TestNatsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
const agents: RunningAgent[] = [];

before(async () => {
  nats = await startNatsServer({ config: CONFIG });
  // The console's identity makes the stream and the buckets (agents may not).
  ({ nc, jsm } = await plainClient(nats.url, { user: 'console', pass: 'console-secret-pw' }));
  await jsm.streams.add(streamConfig());
  const kvm = new Kvm(nc);
  await kvm.create(HOSTS_BUCKET, BUCKET_OPTIONS);
  await kvm.create(ALIVE_BUCKET, BUCKET_OPTIONS);
});

after(async () => {
  for (const a of agents) await a.stop();
  await nc?.close();
  await nats?.stop();
});

async function record(host: string): Promise<HostRecord | undefined> {
  const e = await (await new Kvm(nc).open(HOSTS_BUCKET)).get(host);
  return e ? HostRecord.parse(e.json()) : undefined;
}

test('an agent with its own identity (user/password, or an nkey seed file) publishes its host', async () => {
  agents.push(startAgent({ nats: nats.url, host: 'gw1', config: fleet, args: ['--nats-user', 'gw1', '--nats-password', 'gw1-secret-pw'] }));
  agents.push(startAgent({ nats: nats.url, host: 'gw3', config: fleet, args: ['--nats-nkey', seedFile] }));
  for (const h of ['gw1', 'gw3']) {
    const r = await until(`${h}'s host record`, () => record(h));
    assert.equal(r.host, h);
    assert.ok((await streamMessages(jsm, hostSubject(h, 'snap'), r.snap.firstStreamSeq)).length >= r.snap.chunks);
  }
});

test('operator actions: the console\'s identity asks an agent and gets its answer; a malformed or unknown request is answered, not run', async () => {
  const ask = async (host: string, action: string, body: unknown) => CommandReply.parse((await nc.request(commandSubject(host, action), JSON.stringify(body), { timeout: 10_000 })).json());
  for (const action of ['crypto-probe', 'pfkey-register']) {
    const r = await ask('gw1', action, { proto: 1, by: 'alice' });
    assert.equal(r.host, 'gw1');
    assert.equal(r.action, action);
    if (!r.started) assert.ok(r.refusal === 'busy' || r.refusal === 'failed', JSON.stringify(r));
  }
  await until('the agent\'s log line', () => (/crypto-probe asked by alice/.test(agents[0]!.output()) ? true : undefined), 5000);
  const unknown = await ask('gw3', 'reboot', { proto: 1, by: 'alice' });
  assert.ok(!unknown.started && unknown.refusal === 'unknown-action', JSON.stringify(unknown));
  const bad = await ask('gw3', 'crypto-probe', { nonsense: true });
  assert.ok(!bad.started && bad.refusal === 'bad-request', JSON.stringify(bad));
  const other = await ask('gw3', 'crypto-probe', { proto: 99, by: 'alice' });
  assert.ok(!other.started && /protocol version 99/.test(other.message), JSON.stringify(other));
});

test('an agent\'s identity cannot send commands: only the console\'s may publish on sascope.v1.cmd.>', async () => {
  const { nc: asGw1 } = await plainClient(nats.url, { user: 'gw1', pass: 'gw1-secret-pw', inboxPrefix: '_INBOX_gw1' });
  try {
    await assert.rejects(asGw1.request(commandSubject('gw3', 'crypto-probe'), JSON.stringify({ proto: 1, by: 'mallory' }), { timeout: 2000 }));
    assert.ok(!/asked by mallory/.test(agents[1]!.output()), 'gw3 never saw it');
  } finally {
    await asGw1.close();
  }
});

test('an agent that names another host with its credentials is refused by NATS: nothing of it is stored, and it says why', async () => {
  const impostor = startAgent({ nats: nats.url, host: 'gw2', config: fleet, args: ['--nats-user', 'gw1', '--nats-password', 'gw1-secret-pw'] });
  agents.push(impostor);
  await until('the refusal in the agent\'s log', () => (/refused by the NATS permissions of this identity \(Permissions Violation/.test(impostor.output()) ? true : undefined), 30_000).catch((err: Error) => {
    throw new Error(`${err.message}; its output:\n${impostor.output().slice(-4000)}`);
  });
  // Its inbox (_INBOX_gw2) is not gw1's to read, and gw2's subjects are not gw1's to publish: whichever comes first.
  assert.match(impostor.output(), /Permissions Violation for (Subscription to \\?"_INBOX_gw2|Publish to \\?"sascope\.v1\.host\.gw2)/);
  // gw1's heartbeats go on meanwhile: the server is answering, and still nothing of gw2.
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(await record('gw2'), undefined);
  const alive = await (await new Kvm(nc).open(ALIVE_BUCKET)).get('gw2');
  assert.equal(alive, null);
  for (const what of ['snap', 'delta'] as const) assert.equal((await streamMessages(jsm, hostSubject('gw2', what))).length, 0);
  assert.equal(impostor.proc.exitCode, null, 'it keeps running (and trying)');
});

test('with a plain client, gw1\'s identity cannot publish gw2\'s delta or KV keys; its own it can', async () => {
  const { nc: asGw1 } = await plainClient(nats.url, { user: 'gw1', pass: 'gw1-secret-pw', inboxPrefix: '_INBOX_gw1' });
  try {
    const js = jetstream(asGw1, { timeout: 2000 });
    await assert.rejects(js.publish(hostSubject('gw2', 'delta'), '{}', { msgID: 'x' }));
    const kv = await new Kvm(asGw1).open(HOSTS_BUCKET);
    await assert.rejects(kv.put('gw2', '{}', { timeout: 2000 }));
    const ack = await js.publish(hostSubject('gw1', 'delta'), '{}', { msgID: 'plain-gw1' });
    assert.equal(ack.stream, STREAM);
    assert.equal(await record('gw2'), undefined);
  } finally {
    await asGw1.close();
  }
});

test('wrong credentials are refused at connect: the agent says so and keeps trying', async () => {
  const wrong = startAgent({ nats: nats.url, host: 'gw2', config: fleet, args: ['--nats-user', 'gw2', '--nats-password', 'not-the-password'] });
  agents.push(wrong);
  await until('the refusal in the agent\'s log', () => (/refused our credentials \(.*Authorization Violation/i.test(wrong.output()) ? true : undefined), 30_000);
  assert.ok(!wrong.output().includes('not-the-password'), 'the password is never logged');
  assert.equal(wrong.proc.exitCode, null);
});

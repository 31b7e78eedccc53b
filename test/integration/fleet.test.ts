// The fleet end to end on this machine (issue 20, docs/fleet.md): a nats-server with JetStream on loopback
// (started here, file store in a temporary directory), one console (`sascope serve --fleet`) and its
// WebSocket. First a fake agent that follows the protocol and breaks it on purpose (junk, a hole, another
// protocol version); then three real agents (`sascope agent`) in this namespace, each watching a throw-away
// namespace of its own with --netns (XFRM policies there), and the faults: nats-server killed mid-stream,
// an agent killed and started again, the console restarted. Only loopback and namespaces made here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LiveClient, freePort, getJson, projectRoot, requireTestNetns, sh, startServer, type RunningServer } from '../helpers.ts';
import { makeNetns, startAgent as spawnAgent, startNatsServer, type RunningAgent, type TestNatsServer } from '../fleet-helpers.ts';
import { FakeAgent } from '../fleet-fake-agent.ts';
import { hostSubject } from '../../server/fleet/protocol.ts';
import type { Delta, EntityKind, ServerMessage } from '../../server/wire/protocol.ts';
import type { FleetHost } from '../../server/wire/fleet.ts';

requireTestNetns();

/** Heartbeats every 0.5 s; stale after 2 s of silence, unreachable after 4 s. */
const FLEET = { heartbeatSeconds: 0.5, snapshotSeconds: 5, staleSeconds: 2, unreachableSeconds: 4 };
/** The bound the other live tests use for a kernel change to reach a WebSocket client (policy-live.test.ts). */
const LIVE_MS = 1000;

const tmp = mkdtempSync(path.join(tmpdir(), 'sascope-fleet-'));
const configFile = path.join(tmp, 'config.json');
writeFileSync(configFile, JSON.stringify({ fleet: FLEET }));
const NETNS = [1, 2, 3].map((i) => `sascope-fleet-${process.pid}-${i}`);

let nats: TestNatsServer;
let console_: RunningServer;
let namespaces: Array<ReturnType<typeof makeNetns>> = [];
const fakes: FakeAgent[] = [];
const agents = new Map<string, RunningAgent>();

function startConsole(): Promise<RunningServer> {
  return startServer({ ui: false, args: ['--fleet', nats.url, '--config', configFile] });
}

/** A row as the test reads it. */
type Row = Record<string, unknown>;

/** A WebSocket client of the console that keeps the model it was sent: the snapshot, then every delta applied. */
class Mirror extends LiveClient {
  readonly rows = new Map<EntityKind, Map<string, Row>>();
  private applied = 0;
  table(kind: EntityKind): Map<string, Row> {
    this.sync();
    let t = this.rows.get(kind);
    if (!t) this.rows.set(kind, (t = new Map()));
    return t;
  }
  private sync(): void {
    for (; this.applied < this.messages.length; this.applied++) {
      const m: ServerMessage = this.messages[this.applied]!.msg;
      if (m.type === 'snapshot') {
        this.rows.clear();
        for (const [k, list] of Object.entries(m.entities)) this.rows.set(k as EntityKind, new Map((list as unknown[]).map((r) => [String((r as Row)['key']), r as Row])));
      } else if (m.type === 'deltas') for (const d of m.deltas) this.applyDelta(d);
    }
  }
  private applyDelta(d: Delta): void {
    let t = this.rows.get(d.kind);
    if (!t) this.rows.set(d.kind, (t = new Map()));
    if (d.op === 'upsert') t.set(d.key, d.value as unknown as Row);
    else if (d.op === 'remove') t.delete(d.key);
    else t.clear();
  }
  host(name: string): FleetHost | undefined {
    return this.table('host').get(name) as FleetHost | undefined;
  }
  /** Wait until what the client holds passes `pred`; the last thing it saw when not. */
  async until(what: string, pred: () => boolean, timeoutMs = 15_000): Promise<number> {
    const t0 = Date.now();
    while (!pred()) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms; hosts: ${JSON.stringify([...this.table('host').values()])}`);
      await this.waitForDelta(() => false, 100).catch(() => undefined);
    }
    return Date.now() - t0;
  }
}

async function mirror(server: RunningServer): Promise<Mirror> {
  const c = new Mirror(server.url);
  await c.opened();
  await c.until('the first snapshot', () => c.messages.some((m) => m.msg.type === 'snapshot'), 5000);
  return c;
}

function startAgent(host: string, netns: string): void {
  agents.set(host, spawnAgent({ nats: nats.url, host, netns, config: { fleet: FLEET }, env: { SASCOPE_LOG_LEVEL: 'warn' } }));
}

const policyKeys = (c: Mirror, host: string) => [...c.table('policy').values()].filter((p) => p['host'] === host);
const hasPolicy = (c: Mirror, host: string, src: string) => policyKeys(c, host).some((p) => (p['selector'] as { src: string }).src === src);

before(async () => {
  nats = await startNatsServer();
  console_ = await startConsole();
  namespaces = NETNS.map(makeNetns);
});

after(async () => {
  for (const a of agents.values()) await a.stop();
  for (const f of fakes) await f.close().catch(() => undefined);
  await console_?.stop();
  await nats?.stop();
  for (const ns of namespaces) ns.del();
});

test('a fake agent: its host row and its rows appear with host keys; junk on its subject is dropped and counted, the next batch still applies', async () => {
  const a = await FakeAgent.start(nats.url, 'fake1');
  const b = await FakeAgent.start(nats.url, 'fake2');
  fakes.push(a, b);
  for (const f of [a, b]) {
    await f.change([{ kind: 'policy', key: 'p1', value: { selector: { src: '10.0.0.0/8' } } }, { kind: 'sa', key: 's1', value: { spi: 1 } }]);
    await f.snapshot();
    await f.heartbeat();
  }
  const c = await mirror(console_);
  await c.until('both fake hosts up with their rows', () => c.host('fake1')?.counts.policy === 1 && c.host('fake2')?.counts.sa === 1 && c.table('policy').has('fake1/p1'));
  const row = c.table('policy').get('fake1/p1')!;
  assert.equal(row['host'], 'fake1');
  assert.equal(c.host('fake1')!.state, 'up');
  const snap = c.snapshot()!;
  assert.ok(snap.server.fleet, 'the snapshot says it is a fleet console');

  await a.publishRaw(hostSubject('fake1', 'delta'), Buffer.from('{"not":"a batch"'));
  await a.publishRaw(hostSubject('fake1', 'delta'), Buffer.from(JSON.stringify({ proto: 1, host: 'fake2', boot: b.boot, from: 99, through: 99, time: 0, deltas: [{ seq: 99, kind: 'policy', op: 'remove', key: 'p1' }] })));
  await a.change([{ kind: 'policy', key: 'p2', value: { selector: { src: '10.2.0.0/16' } } }]);
  await b.change([{ kind: 'policy', key: 'p2', value: { selector: { src: '10.3.0.0/16' } } }]);
  await c.until('the batch after the junk applied on both hosts', () => c.table('policy').has('fake1/p2') && c.table('policy').has('fake2/p2'));
  await c.until('the junk counted on fake1', () => c.host('fake1')?.dropped === 2);
  assert.equal(c.host('fake2')!.dropped, 0, 'the other host is untouched');
  assert.ok(c.table('policy').has('fake2/p1'), "a message naming another host on fake1's subject changed nothing there");
  const metrics = await (await fetch(`${console_.url}/metrics`)).text();
  assert.match(metrics, /sascope_fleet_dropped_messages_total\{host="fake1"\} 2/);
  const api = await getJson<{ policies: Array<{ key: string }> }>(`${console_.url}/api/v1/policies?host=fake2`);
  assert.deepEqual(api.policies.map((p) => p.key).sort(), ['fake2/p1', 'fake2/p2']);
  c.close();
});

test('a hole in a host\'s deltas: its rows wait for a fresh snapshot (read in many chunks) and are then exactly the agent\'s', async () => {
  const [a] = fakes;
  const c = await mirror(console_);
  await a!.change([{ kind: 'policy', key: 'p3', value: { selector: { src: '10.4.0.0/16' } } }], { publish: false }); // lost
  await a!.change([{ kind: 'policy', key: 'p4', value: { selector: { src: '10.5.0.0/16' } } }]);
  await c.until('the hole is seen', () => /jump/.test(c.host('fake1')?.reason ?? ''));
  assert.ok(!c.table('policy').has('fake1/p4'), 'nothing after a hole is applied');
  const rec = await a!.snapshot(64); // in many chunks, some ending inside a row
  assert.ok(rec.snap.chunks > 3, `${rec.snap.chunks} chunks`);
  await c.until('the fresh snapshot fills the hole', () => c.table('policy').has('fake1/p3') && c.table('policy').has('fake1/p4') && c.host('fake1')?.reason === undefined);
  c.close();
});

test('a snapshot that cannot be read is read again (backoff), not only when the agent writes its next one minutes later', async () => {
  const f = await FakeAgent.start(nats.url, 'flaky');
  fakes.push(f);
  await f.change([{ kind: 'policy', key: 'p1', value: { selector: { src: '10.8.0.0/16' } } }]);
  await f.snapshot(undefined, { damaged: true });
  await f.heartbeat();
  const c = await mirror(console_);
  await c.until('the read failed and will be tried again', () => /could not be read.*trying again/.test(c.host('flaky')?.reason ?? ''));
  assert.ok(!c.table('policy').has('flaky/p1'));
  await f.repairSnapshot();
  await c.until('a later read took the repaired snapshot', () => c.table('policy').has('flaky/p1') && c.host('flaky')?.reason === undefined);
  c.close();
});

test('an agent of another protocol version: its host row says mismatch, its rows are not applied; a new boot that speaks ours takes over', async () => {
  const f = await FakeAgent.start(nats.url, 'future');
  fakes.push(f);
  f.proto = 99;
  await f.change([{ kind: 'policy', key: 'p1', value: { selector: { src: '10.9.0.0/16' } } }]);
  await f.snapshot();
  await f.heartbeat();
  const c = await mirror(console_);
  await c.until('mismatch', () => c.host('future')?.state === 'mismatch');
  assert.match(c.host('future')!.reason ?? '', /protocol 99/);
  assert.ok(!c.table('policy').has('future/p1'));
  f.proto = 1;
  f.restart();
  await f.change([{ kind: 'policy', key: 'p1', value: { selector: { src: '10.9.0.0/16' } } }]);
  await f.snapshot();
  await f.heartbeat();
  await c.until('the upgraded agent is read', () => c.host('future')?.state === 'up' && c.table('policy').has('future/p1'));
  c.close();
});

test('three agents, each watching its own namespace: all three hosts appear, and a policy added in the second reaches a console WebSocket client', async () => {
  NETNS.forEach((ns, i) => startAgent(`gw${i + 1}`, ns));
  const c = await mirror(console_);
  await c.until('three agents up', () => ['gw1', 'gw2', 'gw3'].every((h) => c.host(h)?.state === 'up' && c.host(h)?.boot !== '' && c.host(h)?.reason === undefined), 60_000);
  for (const h of ['gw1', 'gw2', 'gw3']) assert.ok([...c.table('source').values()].some((s) => s['host'] === h && s['id'] === 'xfrm-policy'), `${h}'s sources are there`);
  const t0 = performance.timeOrigin + performance.now();
  sh(`ip -n ${NETNS[1]} xfrm policy add src 10.11.0.0/16 dst 10.12.0.0/16 dir out priority 77`);
  const hit = await c.waitForDelta((d) => d.kind === 'policy' && d.op === 'upsert' && d.value.host === 'gw2' && d.value.selector.src === '10.11.0.0/16', 10_000);
  const ms = Math.round(hit.at - t0);
  console.log(`policy added in ${NETNS[1]} → agent gw2 → NATS → console → WebSocket client: ${ms} ms`);
  assert.ok(ms < LIVE_MS, `arrived after ${ms} ms`);
  assert.ok(hit.delta.op === 'upsert' && hit.delta.key.startsWith('gw2/'), 'host-prefixed key');
  assert.ok(!hasPolicy(c, 'gw1', '10.11.0.0/16') && !hasPolicy(c, 'gw3', '10.11.0.0/16'), 'only on gw2');
  c.close();
});

test('an operator action on a host goes to its agent over NATS (request/reply) and the answer is the agent\'s', async () => {
  const post = async (q: string) => {
    const r = await fetch(`${console_.url}/api/v1/pfkey/register${q}`, { method: 'POST' });
    return { status: r.status, body: (await r.json()) as { register?: { key: string; host?: string }; error?: { message: string } } };
  };
  const on = await post('?host=gw1');
  // PF_KEY may be open in gw1's namespace (202, its register row as the console names it) or not (409, gw1's refusal).
  if (on.status === 202) assert.deepEqual([on.body.register?.key, on.body.register?.host], ['gw1/register', 'gw1']);
  else assert.match(`${on.status} ${on.body.error?.message}`, /^409 gw1: /);
  const nobody = await post('?host=nosuch');
  assert.equal(nobody.status, 409);
  assert.match(nobody.body.error!.message, /no host nosuch/);
  const unnamed = await post('');
  assert.equal(unnamed.status, 409);
  assert.match(unnamed.body.error!.message, /name the host/);
});

test('nats-server killed mid-stream and started again: nothing is lost', async () => {
  const c = await mirror(console_);
  sh(`ip -n ${NETNS[0]} xfrm policy add src 10.21.0.0/16 dst 10.22.0.0/16 dir out priority 1`);
  await nats.stop('SIGKILL');
  for (let i = 0; i < 5; i++) sh(`ip -n ${NETNS[0]} xfrm policy add src 10.3${i}.0.0/16 dst 10.40.0.0/16 dir in priority ${i + 2}`);
  await new Promise((r) => setTimeout(r, 1000));
  await nats.start();
  const want = ['10.21.0.0/16', ...[0, 1, 2, 3, 4].map((i) => `10.3${i}.0.0/16`)];
  const ms = await c.until('every policy made while NATS was down', () => want.every((src) => hasPolicy(c, 'gw1', src)), 60_000);
  console.log(`after the restart of nats-server, gw1's policies were all there after ${ms} ms`);
  // Seconds, not tens: the client's redial waited 30 s after its first failed dial (its wait was a count of
  // calls), and a publish in flight at the kill then waited its 10 s ack timeout (now ~0.3 s; bound loose for CI load).
  assert.ok(ms < 15_000, `the fleet took ${ms} ms to catch up after nats-server was back`);
  // Taken up again after the restart from the last message read: not from the stream's start, where the
  // upgraded host's old boot spoke protocol 99.
  assert.notEqual(c.host('future')?.state, 'mismatch');
  assert.ok(c.table('policy').has('future/p1'));
  c.close();
});

test('an agent killed: its host goes stale within the bound, then unreachable (each an alarm), and comes back up with a new boot when started again', async () => {
  const c = await mirror(console_);
  await c.until('gw3 up', () => c.host('gw3')?.state === 'up', 30_000);
  const boot = c.host('gw3')!.boot;
  const killed = Date.now();
  await agents.get('gw3')!.stop('SIGKILL');
  const staleMs = await c.until('gw3 stale', () => c.host('gw3')?.state === 'stale', 10_000);
  // Stale after staleSeconds of silence since the last heartbeat (≤ heartbeatSeconds before the kill), checked
  // every second; 1.5 s more for a loaded machine.
  const bound = (FLEET.staleSeconds + FLEET.heartbeatSeconds + 1 + 1.5) * 1000;
  assert.ok(Date.now() - killed <= bound, `stale after ${Date.now() - killed} ms, bound ${bound} ms`);
  assert.equal(c.table('alarm').get('gw3/host')?.['type'], 'host-stale');
  await c.until('gw3 unreachable', () => c.host('gw3')?.state === 'unreachable', 10_000);
  assert.equal(c.table('alarm').get('gw3/host')?.['type'], 'host-unreachable');
  console.log(`gw3 killed: stale after ${staleMs} ms, unreachable after ${Date.now() - killed} ms`);
  startAgent('gw3', NETNS[2]!);
  await c.until('gw3 back up with a new boot', () => c.host('gw3')?.state === 'up' && c.host('gw3')!.boot !== boot && c.host('gw3')?.reason === undefined, 60_000);
  assert.ok(!c.table('alarm').has('gw3/host'), 'its alarm cleared');
  c.close();
});

test('the console restarted: it rebuilds the whole fleet from NATS alone', async () => {
  const before = await mirror(console_);
  await before.until('settled', () => ['gw1', 'gw2', 'gw3'].every((h) => c0(before, h)), 30_000);
  const policies = (m: Mirror) => [...m.table('policy').keys()].filter((k) => /^gw\d\//.test(k)).sort();
  const held = policies(before);
  before.close();
  await console_.stop();
  console_ = await startConsole();
  const after = await mirror(console_);
  await after.until('the same policies of the same hosts', () => JSON.stringify(policies(after)) === JSON.stringify(held) && ['gw1', 'gw2', 'gw3', 'fake1', 'fake2', 'future'].every((h) => after.host(h)), 30_000);
  after.close();
});

test('serve --fleet: a URL that is not NATS or an unreadable credentials file stops it at once (exit 2, saying why); no NATS server there is a state, not a crash', async () => {
  const serve = (...args: string[]) => spawnSync(process.execPath, [path.join(projectRoot, 'server/bin.mjs'), 'serve', '--no-ui', '--open-loopback', '--data-dir', tmp, '--listen', '127.0.0.1:1', ...args], { encoding: 'utf8', timeout: 60_000 });
  const bad = serve('--fleet', 'http://127.0.0.1:4222');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /bad NATS URL 'http:\/\/127\.0\.0\.1:4222': the scheme must be nats:\/\/ or tls:\/\//);
  const creds = serve('--fleet', nats.url, '--nats-creds', path.join(tmp, 'none.creds'));
  assert.equal(creds.status, 2);
  assert.match(creds.stderr, /--nats-creds .*none\.creds: cannot read it: ENOENT/);
  const lonely = await startServer({ ui: false, args: ['--fleet', `nats://127.0.0.1:${await freePort()}`] });
  try {
    const sources = await getJson<{ sources: Array<{ id: string; state: string; reason?: string }> }>(`${lonely.url}/api/v1/sources`);
    const row = sources.sources.find((x) => x.id === 'nats');
    assert.ok(row && row.state !== 'ok', JSON.stringify(row));
    assert.deepEqual((await getJson<{ hosts: unknown[] }>(`${lonely.url}/api/v1/hosts`)).hosts, []);
  } finally {
    await lonely.stop();
  }
});

function c0(m: Mirror, h: string): boolean {
  return m.host(h)?.state === 'up' && m.host(h)?.reason === undefined;
}

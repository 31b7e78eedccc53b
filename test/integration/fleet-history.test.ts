// Where a remote host's history comes from (issue 23, docs/fleet.md): the fleet console records what it
// receives into its own history database — a host's tunnel samples, rotations and alarms under the console's
// keys ("<host>/<key>") — and its blind spans per host (no heartbeat: stale, unreachable) as gaps. A
// nats-server of the test's own on loopback, a console (`sascope serve --fleet`, samples every second) and
// a fake agent (test/fleet-fake-agent.ts) that sends one tunnel, its rekey and an alarm, then goes silent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getJson, startServer, type RunningServer } from '../helpers.ts';
import { startNatsServer, until, type TestNatsServer } from '../fleet-helpers.ts';
import { FakeAgent } from '../fleet-fake-agent.ts';
import type { HistoryAlarm, HistoryGap, Rotation, TunnelSample } from '../../server/wire/tunnels.ts';

/** Heartbeats every 0.5 s; stale after 2 s of silence, unreachable after 4 s. */
const FLEET = { heartbeatSeconds: 0.5, snapshotSeconds: 5, staleSeconds: 2, unreachableSeconds: 4 };
const HOST = 'hist1';
const T = 'xfrm:esp:192.0.2.1>192.0.2.2:reqid=1';
const FLEET_KEY = `${HOST}/${T}`;

const tmp = mkdtempSync(path.join(tmpdir(), 'sascope-fleet-history-'));
const configFile = path.join(tmp, 'config.json');
writeFileSync(configFile, JSON.stringify({ fleet: FLEET, history: { sampleSeconds: 1, flushMs: 100 } }));

let nats: TestNatsServer;
let console_: RunningServer;
let agent: FakeAgent;
let beating: NodeJS.Timeout | undefined;

/** The tunnel as the agent's tracker would send it: `bytes` through it so far, `rotations` rekeys. */
function tunnel(bytes: number, rotations: number, alarms: string[] = []): Record<string, unknown> {
  return {
    family: 'xfrm', name: '192.0.2.1 → 192.0.2.2 esp reqid 1', src: '192.0.2.1', dst: '192.0.2.2', reqid: 1, direction: 'out', policies: [], state: 'up', sas: [], firstSeen: Date.now(),
    bytes: String(bytes), packets: String(bytes / 100), integrityFailed: 0, replayFailed: 0, replayWindowFailed: 0, rotations, alarms,
  };
}

const heartbeats = (on: boolean) => {
  clearInterval(beating);
  beating = on ? setInterval(() => void agent.heartbeat().catch(() => undefined), 500) : undefined;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const api = <J>(p: string) => getJson<J>(`${console_.url}${p}`);
type Samples = { samples: TunnelSample[]; gaps: HistoryGap[]; note?: string };

before(async () => {
  nats = await startNatsServer();
  console_ = await startServer({ ui: false, args: ['--fleet', nats.url, '--config', configFile] });
  agent = await FakeAgent.start(nats.url, HOST);
});

after(async () => {
  heartbeats(false);
  await agent?.close().catch(() => undefined);
  await console_?.stop();
  await nats?.stop();
});

test("the console's history holds a remote tunnel's samples, its rotation and alarm under '<host>/<key>', and a gap where the host was stale", async () => {
  await agent.change([{ kind: 'tunnel', key: T, value: tunnel(1000, 0) }]);
  await agent.snapshot();
  await agent.heartbeat();
  heartbeats(true);
  await until('the host up with its tunnel', async () => ((await api<{ hosts: Array<{ host: string; state: string; counts: { tunnel: number } }> }>('/api/v1/hosts')).hosts.find((h) => h.host === HOST && h.state === 'up' && h.counts.tunnel === 1) ? true : undefined), 20_000);

  // Traffic, a rekey and an alarm, a second or more apart (one sample a second at most).
  const rekeyAt = Date.now();
  const rotation = { family: 'xfrm', tunnel: T, tunnelName: '192.0.2.1 → 192.0.2.2 esp reqid 1', time: rekeyAt, cause: 'soft-expire', oldSpi: 0x1001, newSpi: 0x1002, state: 'done', overlapMs: 40 };
  const rotKey = `${T}#${0x1002}@${rekeyAt}`;
  const alarm = { type: 'replay-failures', severity: 'warning', ref: `tunnel:${T}`, summary: 'replay failures', since: rekeyAt };
  await sleep(1200);
  await agent.change([{ kind: 'tunnel', key: T, value: tunnel(50_000, 0) }]);
  await sleep(1200);
  await agent.change([{ kind: 'rotation', key: rotKey, value: rotation }, { kind: 'tunnel', key: T, value: tunnel(120_000, 1, ['replay-failures']) }, { kind: 'alarm', key: `replay-failures:tunnel:${T}`, value: alarm }]);
  await sleep(1200);
  await agent.change([{ kind: 'tunnel', key: T, value: tunnel(200_000, 1) }, { kind: 'alarm', key: `replay-failures:tunnel:${T}` }]);
  await sleep(1200);

  // Silent past staleSeconds: the console is blind to the host, then hears it again.
  heartbeats(false);
  const silentFrom = Date.now();
  await until('the host stale', async () => ((await api<{ hosts: Array<{ host: string; state: string }> }>('/api/v1/hosts')).hosts.find((h) => h.host === HOST && h.state !== 'up') ? true : undefined), 15_000);
  await sleep(1500);
  heartbeats(true);
  await agent.change([{ kind: 'tunnel', key: T, value: tunnel(260_000, 1) }]);
  await until('the host up again', async () => ((await api<{ hosts: Array<{ host: string; state: string }> }>('/api/v1/hosts')).hosts.find((h) => h.host === HOST && h.state === 'up') ? true : undefined), 15_000);
  const heardAgain = Date.now();
  await sleep(1500);

  const r = await api<Samples>(`/api/v1/history/samples?tunnel=${encodeURIComponent(FLEET_KEY)}`);
  assert.equal(r.note, undefined, 'answered from the history database');
  const bytes = r.samples.map((s) => Number(s.bytes));
  for (const b of [1000, 50_000, 120_000, 200_000, 260_000]) assert.ok(bytes.includes(b), `a sample of ${b} bytes among ${bytes.join(', ')}`);
  assert.deepEqual(bytes, [...bytes].sort((a, b) => a - b), 'oldest first, as received');
  assert.deepEqual(r.samples.find((s) => Number(s.bytes) === 120_000)?.rotations, 1);
  // The blind span: from the last heartbeat before the silence to the host heard again; nothing recorded inside.
  const blind = r.gaps.filter((g) => g.how === 'stale' && g.source === `host:${HOST}`);
  assert.equal(blind.length, 1, JSON.stringify(r.gaps));
  assert.ok(blind[0]!.from <= silentFrom && blind[0]!.from >= silentFrom - 1500, `the gap starts at the last heartbeat (${blind[0]!.from - silentFrom} ms from the silence)`);
  assert.ok(blind[0]!.to >= silentFrom + 2000 && blind[0]!.to <= heardAgain, `the gap ends when the host is heard again (${blind[0]!.to - silentFrom} ms)`);
  assert.deepEqual(r.samples.filter((s) => s.time > blind[0]!.from && s.time < blind[0]!.to), [], 'no sample inside the blind span');

  // The same tunnel named with ?host= and the host's own key.
  const byHost = await api<Samples>(`/api/v1/history/samples?host=${HOST}&tunnel=${encodeURIComponent(T)}`);
  assert.deepEqual(byHost.samples, r.samples);

  // The rotation and the alarm (raised, then cleared), asked with the console's tunnel key as the tunnel page asks.
  const rot = await api<{ rotations: Array<Rotation & { host?: string }>; note?: string }>(`/api/v1/rotations?tunnel=${encodeURIComponent(FLEET_KEY)}`);
  assert.equal(rot.note, undefined, 'rotations from the history database');
  assert.deepEqual(rot.rotations.map((x) => [x.key, x.host, x.oldSpi, x.newSpi, x.cause]), [[`${HOST}/${rotKey}`, HOST, 0x1001, 0x1002, 'soft-expire']]);
  const al = await api<{ history: HistoryAlarm[] }>(`/api/v1/alarms?ref=${encodeURIComponent(`tunnel:${FLEET_KEY}`)}`);
  assert.equal(al.history.length, 1, JSON.stringify(al));
  assert.equal(al.history[0]!.type, 'replay-failures');
  assert.ok(al.history[0]!.clearedAt !== undefined && al.history[0]!.clearedAt >= rekeyAt, 'cleared when the host removed it');
});

test("the console's record outlives the console: restarted, it still answers the range, with its own downtime as a gap", async () => {
  const before = (await api<Samples>(`/api/v1/history/samples?tunnel=${encodeURIComponent(FLEET_KEY)}`)).samples;
  const dataDir = console_.dataDir;
  await console_.stop();
  const down = Date.now();
  await sleep(1000);
  console_ = await startServer({ ui: false, dataDir, args: ['--fleet', nats.url, '--config', configFile] });
  const r = await api<Samples>(`/api/v1/history/samples?tunnel=${encodeURIComponent(FLEET_KEY)}`);
  assert.deepEqual(r.samples.slice(0, before.length), before);
  assert.ok(r.gaps.some((g) => g.how === 'clean' && g.from <= down && g.to > down), JSON.stringify(r.gaps));
});

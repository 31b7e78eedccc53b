// The fleet at size (issue 20; prints figures, asserts nothing):
//   flock /tmp/sascope-bench.lock node --import tsx test/bench/fleet.ts   (BENCH_BUILD_ROOT=<a built copy> for the paint)
// A nats-server with JetStream on 127.0.0.1 (its own store), one console (`sascope serve --fleet`, a child
// process) and BENCH_AGENTS (200) simulated agents × BENCH_SAS (500) SAs in this process: each a FleetAgent
// (server/fleet/agent.ts, the real publisher) on its own Model of XFRM SAs decoded from the lab zoo's first
// SA (as backend-heap.ts), with its own NATS connection. Then BENCH_RATE (1,000) changes/s across the fleet
// for BENCH_SECONDS (30): one SA's byte counter at a time, on a random agent; the counter carries the
// change's number, so a WebSocket client of the console (in this process: same clock) knows when each
// change was made. Prints:
// - agent → console WebSocket client latency p50/p99/max (target p99 ≤ 100 ms), and changes not seen;
// - the console's heap after gc (through its inspector) and RSS, per SA, beside single-host serve's model
//   figure (backend-heap.ts, printed there; BENCH_SINGLE_HOST_BYTES to print it here);
// - an idle `sascope agent` process's CPU (its own throw-away netns, nothing changing) over 20 s;
// - first paint of the fleet overview (/fleet) in Chromium when BENCH_BUILD_ROOT names a copy of the
//   project with a production build (npm run build): the console is then started from there with its UI.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { parseMessages } from '../../server/netlink/message.ts';
import { decodeSaMessage } from '../../server/families/xfrm/sa.ts';
import { Model } from '../../server/model/model.ts';
import { FleetAgent } from '../../server/fleet/agent.ts';
import { createLogger } from '../../server/log.ts';
import { LiveClient, freePort, startServer } from '../helpers.ts';
import { makeNetns, startAgent, startNatsServer } from '../fleet-helpers.ts';
import type { Delta } from '../../server/wire/protocol.ts';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 200);
const SAS = Number(process.env.BENCH_SAS ?? 500);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const BUILD_ROOT = process.env.BENCH_BUILD_ROOT;
const log = createLogger('warn');
const mb = (n: number) => `${(n / 1048576).toFixed(0)} MB`;
const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const zoo = (JSON.parse(readFileSync(path.join(fixtures, 'xfrm/sa-dump-zoo.fixture.json'), 'utf8')) as { messages: Array<{ hex: string }> }).messages;
const template = parseMessages(Buffer.from(zoo[0]!.hex, 'hex'))[0]!;

/** SA i of agent a: the zoo SA with destination and SPI changed (struct xfrm_usersa_info: id.daddr at 56, id.spi at 72). */
function sa(a: number, i: number) {
  const payload = Buffer.from(template.payload);
  payload.writeUInt32BE((0x0a000000 + a * 1024 + i) >>> 0, 56);
  payload.writeUInt32BE(0x10000 + i, 72);
  const d = decodeSaMessage({ ...template, payload });
  if (d?.kind !== 'upsert') throw new Error('the zoo SA did not decode');
  return d.sa;
}
type Sa = ReturnType<typeof sa>;

const nats = await startNatsServer();
const inspect = await freePort();
const console_ = await startServer({
  ui: Boolean(BUILD_ROOT),
  root: BUILD_ROOT,
  args: ['--fleet', nats.url],
  env: { NODE_OPTIONS: `--inspect=127.0.0.1:${inspect}` },
  timeoutMs: 180_000,
});

/** The console's process.memoryUsage() after two full gcs (Chrome DevTools Protocol through its inspector). */
async function consoleMemory(): Promise<{ heapUsed: number; rss: number }> {
  const list = (await (await fetch(`http://127.0.0.1:${inspect}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
  const ws = new WebSocket(list[0]!.webSocketDebuggerUrl);
  await new Promise((r) => ws.once('open', r));
  let id = 0;
  const call = (method: string, params: object = {}) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const my = ++id;
      const on = (d: WebSocket.RawData) => {
        const m = JSON.parse(String(d)) as { id?: number; result: Record<string, unknown> };
        if (m.id === my) {
          ws.off('message', on);
          resolve(m.result);
        }
      };
      ws.on('message', on);
      ws.send(JSON.stringify({ id: my, method, params }));
    });
  await call('HeapProfiler.collectGarbage');
  await call('HeapProfiler.collectGarbage');
  const r = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
  ws.close();
  return JSON.parse((r['result'] as { value: string }).value) as { heapUsed: number; rss: number };
}

const empty = await consoleMemory();
console.log(`console: up on ${console_.url}; empty: heap ${mb(empty.heapUsed)}, RSS ${mb(empty.rss)}`);

// The agents: each its model of SAS SAs, then its FleetAgent (first snapshot once "ready").
const t0 = Date.now();
const fleet: Array<{ model: Model; agent: FleetAgent; sas: Sa[] }> = [];
for (let a = 0; a < AGENTS; a++) {
  const model = new Model();
  const sas: Sa[] = [];
  for (let i = 0; i < SAS; i++) {
    const s = sa(a, i);
    sas.push(s);
    model.upsert('sa', s.key, s);
  }
  const agent = new FleetAgent(model, { url: nats.url, identity: `gw${a}` }, log, {
    host: `gw${a}`, agentVersion: 'bench', server: { version: 'bench', hostname: `gw${a}`, netns: 'self' },
    heartbeatSeconds: 5, snapshotSeconds: 300, ready: Promise.resolve(),
  });
  agent.start();
  fleet.push({ model, agent, sas });
}
console.log(`agents: ${AGENTS} × ${SAS} SAs started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

// The console takes every host (bounded: a host whose snapshot it could not read waits for its next one,
// fleet.snapshotSeconds); then a WebSocket client connects and gets them in its snapshot. (Connected before,
// it was sent 100k SAs as deltas while this process was busy with 200 agents, fell behind the hub's ring and
// was resent whole snapshots over and over.)
type Hosts = { hosts: Array<{ host: string; counts: { sa: number }; reason?: string }> };
const hosts = async () => ((await (await fetch(`${console_.url}/api/v1/hosts`)).json()) as Hosts).hosts;
const total = AGENTS * SAS;
let held = 0;
while (Date.now() - t0 < 120_000 && (held = (await hosts()).reduce((n, h) => n + h.counts.sa, 0)) < total) await new Promise((r) => setTimeout(r, 1000));
console.log(`console: ${held} of ${total} SAs of ${AGENTS} hosts ${((Date.now() - t0) / 1000).toFixed(1)} s after the first agent's start`);
if (held < total) {
  const short = (await hosts()).filter((h) => h.counts.sa < SAS);
  console.log(`  hosts short of their SAs: ${short.length}, e.g. ${short[0]?.host}: ${short[0]?.reason ?? 'no reason given'}`);
}
const client = new LiveClient(console_.url);
await client.opened();
let snapshots = 0;
const seen = new Map<string, unknown>();
let applied = 0;
const made = new Map<number, number>(); // change number → when made (ms)
const latencies: number[] = [];
const apply = () => {
  for (; applied < client.messages.length; applied++) {
    const { at, msg } = client.messages[applied]!;
    if (msg.type === 'snapshot' && ++snapshots) for (const r of (msg.entities.sa ?? []) as Array<{ key: string }>) seen.set(r.key, r);
    else if (msg.type === 'deltas')
      for (const d of msg.deltas as Delta[]) {
        if (d.kind !== 'sa' || d.op !== 'upsert') continue;
        seen.set(d.key, d.value);
        const n = Number((d.value as unknown as Sa & { lifetime: { current: { bytes: string } } }).lifetime.current.bytes);
        const t = made.get(n);
        if (t !== undefined) {
          latencies.push(at - t);
          made.delete(n);
        }
      }
  }
  client.messages.length = 0; // read: the bench keeps no backlog
  applied = 0;
};
while (seen.size < held && Date.now() - t0 < 180_000) {
  await new Promise((r) => setTimeout(r, 200));
  apply();
}
console.log(`console client: ${seen.size} SAs in its snapshot`);

// BENCH_RATE changes/s: one SA's byte counter, the change's number in it.
let n = 1_000_000;
const tick = 10;
const perTick = Math.max(1, Math.round((RATE * tick) / 1000));
const tRun = Date.now();
let sent = 0;
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    for (let k = 0; k < perTick; k++) {
      const a = fleet[Math.floor(Math.random() * fleet.length)]!;
      const i = Math.floor(Math.random() * SAS);
      const s = a.sas[i]!;
      const now = ++n;
      const next = { ...s, lifetime: { ...s.lifetime, current: { ...s.lifetime.current, bytes: BigInt(now) } } };
      a.sas[i] = next;
      made.set(now, performance.timeOrigin + performance.now());
      a.model.upsert('sa', next.key, next);
      sent++;
    }
    apply();
    if (Date.now() - tRun >= SECONDS * 1000) {
      clearInterval(timer);
      resolve();
    }
  }, tick);
});
await new Promise((r) => setTimeout(r, 3000));
apply();
const pct = (p: number) => {
  const s = [...latencies].sort((x, y) => x - y);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!.toFixed(1) : 'n/a';
};
const rate = sent / ((Date.now() - tRun - 3000) / 1000);
console.log(`changes: ${sent} in ${SECONDS} s (${rate.toFixed(0)}/s asked ${RATE}/s); seen by the client ${latencies.length}, superseded or lost ${made.size}; snapshots the client was sent: ${snapshots}`);
console.log(`agent → console WebSocket client latency: p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${pct(100)} ms (target p99 ≤ 100 ms)`);

const full = await consoleMemory();
console.log(`console memory at ${total} SAs (heap after gc): ${mb(full.heapUsed)} (${((full.heapUsed - empty.heapUsed) / total).toFixed(0)} B/SA over empty), RSS ${mb(full.rss)} (${((full.rss - empty.rss) / total).toFixed(0)} B/SA over empty)`);
if (process.env.BENCH_SINGLE_HOST_BYTES) console.log(`single-host serve, model per SA (backend-heap.ts): ${process.env.BENCH_SINGLE_HOST_BYTES} B/SA`);

// First paint of the fleet overview in Chromium (the console started from a production build).
if (BUILD_ROOT) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  const t = Date.now();
  await page.goto(`${console_.url}/fleet`);
  await page.getByText(`gw${AGENTS - 1}`, { exact: true }).filter({ visible: true }).first().waitFor({ timeout: 60_000 });
  const rows = Date.now() - t;
  const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1);
  console.log(`fleet overview in Chromium: first contentful paint ${fcp.toFixed(0)} ms, host gw${AGENTS - 1} visible ${rows} ms after navigation (target ≤ 2 s)`);
  await browser.close();
} else console.log('fleet overview first paint: skipped (BENCH_BUILD_ROOT names no production build)');

for (const a of fleet) await a.agent.stop();
await console_.stop();

// An idle agent: a real `sascope agent` watching its own empty netns; CPU over 20 s once settled.
const ns = makeNetns(`sascope-bench-${process.pid}`);
const idle = startAgent({ nats: nats.url, host: 'idle', netns: ns.name });
try {
  await new Promise((r) => setTimeout(r, 15_000));
  const cpu = () => readFileSync(`/proc/${idle.proc.pid}/stat`, 'utf8').split(') ')[1]!.split(' ').slice(11, 13).reduce((s, x) => s + Number(x), 0);
  const c0 = cpu();
  await new Promise((r) => setTimeout(r, 20_000));
  const ticks = cpu() - c0;
  console.log(`idle agent CPU: ${((ticks / 100 / 20) * 100).toFixed(2)} % of one core over 20 s (${ticks} ticks; heartbeats every 5 s)`);
} finally {
  await idle.stop();
  ns.del();
  await nats.stop();
}
process.exit(0);

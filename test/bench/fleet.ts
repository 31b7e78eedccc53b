// The fleet at size (issue 20; prints figures, asserts nothing):
//   flock /tmp/sascope-bench.lock node --import tsx test/bench/fleet.ts   (BENCH_BUILD_ROOT=<a built copy> for the paint)
// A nats-server with JetStream on 127.0.0.1 (its own store), one console (`sascope serve --fleet`, a child
// process) and BENCH_AGENTS (200) simulated agents × BENCH_SAS (500) SAs in BENCH_THREADS (4) worker threads
// (fleet-worker.ts: each agent a real FleetAgent on its own Model, with its own NATS connection). Then
// BENCH_RATE (1,000) changes/s across the fleet for BENCH_SECONDS (30), each thread its share: one SA's byte
// counter at a time, on a random agent, the counter carrying the change's number. A WebSocket client of the
// console in a thread of its own (opened as the UI opens it, once the console holds every host) keeps when
// each change arrived: same machine clock as the agents' threads. (With agents and client in one event loop,
// 87 of 1,000 changes/s went out and the client, not read in time, was resent 17 whole snapshots.) Prints:
// - achieved changes/s, agent → console WebSocket client latency p50/p99/max (target p99 ≤ 100 ms), changes
//   not seen (superseded: a later change of the same SA was seen; lost: none was), snapshots the client got,
//   CPU of the console, nats-server and the bench's threads over the run and the threads' event-loop delay;
// - the console's heap after gc (through its inspector) and RSS, per SA, beside single-host serve's model
//   figure (backend-heap.ts, printed there; BENCH_SINGLE_HOST_BYTES to print it here);
// - an idle `sascope agent` process's CPU (its own throw-away netns, nothing changing) over 20 s;
// - first paint of the fleet overview (/fleet) in Chromium when BENCH_BUILD_ROOT names a copy of the
//   project with a production build (npm run build): the console is then started from there with its UI.
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import WebSocket from 'ws';
import { freePort, startServer } from '../helpers.ts';
import { makeNetns, startAgent, startNatsServer } from '../fleet-helpers.ts';
import type { FromWorker, LoopDelay, ToWorker, WorkerData } from './fleet-worker.ts';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 200);
const SAS = Number(process.env.BENCH_SAS ?? 500);
const THREADS = Math.min(AGENTS, Number(process.env.BENCH_THREADS ?? 4));
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const BUILD_ROOT = process.env.BENCH_BUILD_ROOT;
const mb = (n: number) => `${(n / 1048576).toFixed(0)} MB`;
const ms = (n: number) => n.toFixed(1);

/** A bench thread and the next message of a type from it. */
class Thread {
  readonly worker: Worker;
  private readonly inbox: FromWorker[] = [];
  private waiter?: () => void;
  constructor(data: WorkerData) {
    // The thread loads TypeScript through tsx's API: node 20 does not run --import tsx in worker threads.
    const load = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => (tsx.register(), import(${JSON.stringify(new URL('./fleet-worker.ts', import.meta.url).href)})))`;
    this.worker = new Worker(load, { eval: true, workerData: data });
    this.worker.on('message', (m: FromWorker) => {
      this.inbox.push(m);
      this.waiter?.();
    });
    this.worker.on('error', (err) => {
      console.error(`bench thread ${data.role} failed: ${err.stack ?? String(err)}`);
      process.exit(1);
    });
  }
  send(m: ToWorker): void {
    this.worker.postMessage(m);
  }
  async next<T extends FromWorker['type']>(type: T, timeoutMs = 600_000): Promise<Extract<FromWorker, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.type === type);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as Extract<FromWorker, { type: T }>;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`bench thread: no '${type}' within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }
}

/** CPU ticks (user + system, 1/100 s) of a process so far. */
const cpuTicks = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ').slice(11, 13).reduce((s, x) => s + Number(x), 0);

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

// The agents, THREADS threads of them (first snapshot of each once it is connected).
const t0 = Date.now();
const counts = Array.from({ length: THREADS }, (_, t) => Math.floor(AGENTS / THREADS) + (t < AGENTS % THREADS ? 1 : 0));
const threads = counts.map((count, t) => new Thread({ role: 'agents', thread: t, nats: nats.url, first: counts.slice(0, t).reduce((a, b) => a + b, 0), count, sas: SAS }));
await Promise.all(threads.map((t) => t.next('started')));
console.log(`agents: ${AGENTS} × ${SAS} SAs in ${THREADS} threads started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

// The console takes every host (bounded: a snapshot it could not read is read again, with backoff); then
// the client connects and gets them in its snapshot. (Connected before, it was sent 100k SAs as deltas.)
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
const client = new Thread({ role: 'client', url: console_.url });
const tClient = Date.now();
console.log(`console client: ${(await client.next('snapshot', 180_000)).sas} SAs in its snapshot, whole ${((Date.now() - tClient) / 1000).toFixed(1)} s after it connected`);

// BENCH_RATE changes/s across the threads, each its agents' share; then 3 s for the last to arrive.
const cpu0 = { console: cpuTicks(console_.proc.pid!), nats: cpuTicks(nats.proc().pid!), bench: process.cpuUsage() };
for (const [t, thread] of threads.entries()) thread.send({ type: 'run', rate: (RATE * counts[t]!) / AGENTS, seconds: SECONDS });
client.send({ type: 'run', rate: 0, seconds: SECONDS });
const runs = await Promise.all(threads.map((t) => t.next('ran')));
const cpu = { console: cpuTicks(console_.proc.pid!) - cpu0.console, nats: cpuTicks(nats.proc().pid!) - cpu0.nats, bench: process.cpuUsage(cpu0.bench) };
await new Promise((r) => setTimeout(r, 3000));
client.send({ type: 'report' });
const report = await client.next('report');

const arrived = new Map<number, number>(); // change number → when the client had it
for (let k = 0; k < report.seen.length; k += 2) if (!arrived.has(report.seen[k]!)) arrived.set(report.seen[k]!, report.seen[k + 1]!);
const latencies: number[] = [];
const lastSeen = new Map<string, number>(); // agent/SA → when its latest change the client saw was made
let made = 0;
for (const r of runs)
  for (let k = 0; k < r.made.length; k += 4, made++) {
    const at = arrived.get(r.made[k]!);
    if (at === undefined) continue;
    latencies.push(at - r.made[k + 1]!);
    const id = `${r.made[k + 2]}/${r.made[k + 3]}`;
    lastSeen.set(id, Math.max(lastSeen.get(id) ?? 0, r.made[k + 1]!));
  }
let superseded = 0;
for (const r of runs)
  for (let k = 0; k < r.made.length; k += 4) if (!arrived.has(r.made[k]!) && (lastSeen.get(`${r.made[k + 2]}/${r.made[k + 3]}`) ?? 0) > r.made[k + 1]!) superseded++;
const lost = made - latencies.length - superseded;
latencies.sort((x, y) => x - y);
const pct = (p: number) => (latencies.length ? ms(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!) : 'n/a');
const span = (Math.max(...runs.map((r) => r.endedAt)) - Math.min(...runs.map((r) => r.startedAt))) / 1000;
const worst = (ls: LoopDelay[]) => `p99 ${ms(Math.max(...ls.map((l) => l.p99)))} ms, max ${ms(Math.max(...ls.map((l) => l.max)))} ms`;
console.log(`changes: ${made} in ${span.toFixed(1)} s: ${(made / span).toFixed(0)}/s (asked ${RATE}/s); seen by the client ${latencies.length}, not seen ${made - latencies.length} (superseded ${superseded}, lost ${lost}); snapshots the client was sent: ${report.snapshots} (1 is its first)`);
console.log(`agent → console WebSocket client latency: p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${pct(100)} ms (target p99 ≤ 100 ms)`);
const share = (ticks: number) => `${((ticks / 100 / span) * 100).toFixed(0)} %`;
console.log(`CPU over the run (% of one core): console ${share(cpu.console)}, nats-server ${share(cpu.nats)}, bench threads ${share((cpu.bench.user + cpu.bench.system) / 10_000)}; event-loop delay: agents' threads ${worst(runs.map((r) => r.loop))}, client's ${worst([report.loop])}`);

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

for (const t of [...threads, client]) t.send({ type: 'stop' });
await Promise.all([...threads, client].map(async (t) => (await t.next('stopped', 30_000), await t.worker.terminate())));
await console_.stop();

// An idle agent: a real `sascope agent` watching its own empty netns; CPU over 20 s once settled.
const ns = makeNetns(`sascope-bench-${process.pid}`);
const idle = startAgent({ nats: nats.url, host: 'idle', netns: ns.name });
try {
  await new Promise((r) => setTimeout(r, 15_000));
  const c0 = cpuTicks(idle.proc.pid!);
  await new Promise((r) => setTimeout(r, 20_000));
  const ticks = cpuTicks(idle.proc.pid!) - c0;
  console.log(`idle agent CPU: ${((ticks / 100 / 20) * 100).toFixed(2)} % of one core over 20 s (${ticks} ticks; heartbeats every 5 s)`);
} finally {
  await idle.stop();
  ns.del();
  await nats.stop();
}
process.exit(0);

// UI figures in Debian's Chromium (prints numbers; not a timed test): first paint of the SA table
// with 100k SAs, filter by SPI, scrolling frame times, and main-thread responsiveness while 1,000
// deltas/s arrive. The page is the real production build served by `sascope serve`, reached through
// a small proxy in this process whose /ws is a real WebSocket server sending a synthetic model of N SAs
// the way the hub does (the snapshot serialized when the client connects, in parts of SNAPSHOT_PART_ROWS
// rows as the UI asks, then delta batches; no kernel needed). Playwright's
// routeWebSocket cannot carry a 90 MB message, a real socket can.
//   npx tsx test/bench/ui-100k.ts            (BENCH_SAS=100000 by default)
import { chromium } from '@playwright/test';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { splitSnapshot, type Delta, type Snapshot } from '../../server/wire/protocol.ts';
import { saKey } from '../../server/wire/xfrm.ts';
import { SNAPSHOT_PART_ROWS } from '../../server/hub/hub.ts';
import { startServer } from '../helpers.ts';

const N = Number(process.env.BENCH_SAS ?? 100_000);
const INF = '18446744073709551615';

function sa(i: number, bytes = 0) {
  const spi = (0xc0000000 + i) >>> 0;
  const dst = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  return {
    key: saKey('inet', 'esp', dst, spi),
    src: `10.0.${(i >> 8) & 255}.${i & 255}`,
    dst,
    spi,
    proto: 'esp',
    family: 'inet',
    mode: i % 3 ? 'tunnel' : 'transport',
    reqid: i % 1000,
    seq: 0,
    replayWindow: 32,
    flags: ['af-unspec'],
    dir: i % 2 ? 'out' : 'in',
    selector: { family: 'inet', src: '0.0.0.0/0', dst: '0.0.0.0/0', sport: 0, sportMask: 0, dport: 0, dportMask: 0, proto: 'any', ifindex: 0, user: 0 },
    lifetime: {
      config: { softByteLimit: INF, hardByteLimit: INF, softPacketLimit: INF, hardPacketLimit: INF, softAddExpiresSeconds: '3000', hardAddExpiresSeconds: '3600', softUseExpiresSeconds: '0', hardUseExpiresSeconds: '0' },
      current: { bytes: String(bytes), packets: String(Math.floor(bytes / 1000)), addTime: String(Math.floor(Date.now() / 1000) - (i % 3000)), useTime: '0' },
    },
    stats: { replayWindow: 0, replay: 0, integrityFailed: 0 },
    aead: { name: 'rfc4106(gcm(aes))', keyBits: 160, icvBits: 128, fingerprint: (i * 2654435761 >>> 0).toString(16).padStart(8, '0') },
    antiReplay: { esn: false, seq: 0, oseq: i * 10, bitmap: 0 },
  };
}

const server = await startServer();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'] });
const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
const sas = Array.from({ length: N }, (_, i) => sa(i));
const snapshot: Snapshot = {
  type: 'snapshot',
  seq: 1,
  time: Date.now(),
  server: { version: 'bench', hostname: 'bench', netns: 'self' },
  entities: { source: [{ key: 'xfrm-sa', id: 'xfrm-sa', label: 'XFRM security associations', state: 'ok', since: Date.now(), resyncs: 0, decodeErrors: 0 }], link: [], policy: [], sa: sas, event: [] } as unknown as Snapshot['entities'],
};
const snapJson = JSON.stringify(snapshot);
let client: WebSocket | undefined;
const send = (s: string) => client?.send(s);
const wss = new WebSocketServer({ noServer: true });
const proxy = createServer((req, res) => {
  const up = request(`${server.url}${req.url}`, { method: req.method, headers: req.headers }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on('error', () => res.writeHead(502).end());
  req.pipe(up);
});
// As the hub does: serialized when the client connects, in parts when it asks for them (the UI does).
proxy.on('upgrade', (req, socket, head) =>
  wss.handleUpgrade(req, socket, head, (ws) => {
    client = ws;
    const parts = new URL(req.url ?? '/', 'http://x').searchParams.get('parts') === '1';
    for (const m of parts ? splitSnapshot(snapshot, SNAPSHOT_PART_ROWS) : [snapshot]) ws.send(JSON.stringify(m));
  }),
);
await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
const base = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

// BENCH_PROFILE=1: CPU profiles of the page (to first paint, and while scrolling), top functions by self time.
const cdp = process.env.BENCH_PROFILE ? await page.context().newCDPSession(page) : undefined;
async function profileStart(): Promise<void> {
  if (!cdp) return;
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
}
async function profileStop(what: string): Promise<void> {
  if (!cdp) return;
  const { profile } = await cdp.send('Profiler.stop');
  const dt = new Map<number, number>();
  profile.samples?.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas?.[i] ?? 0) / 1000));
  const self = new Map<string, number>();
  for (const n of profile.nodes) {
    const f = n.callFrame;
    const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}:${f.columnNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + (dt.get(n.id) ?? 0));
  }
  const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 25);
  console.log(`CPU profile ${what}, top self time:\n${top.map(([k, v]) => `  ${v.toFixed(0).padStart(6)} ms  ${k}`).join('\n')}`);
}
// BENCH_TRACE=1: a Chromium performance trace while scrolling: the renderer main thread's CPU time per
// frame (thread time, so a busy machine does not inflate it as it does wall time) and by task kind.
type TraceEvent = { name: string; ph: string; ts: number; dur?: number; tdur?: number; tid: number; pid: number };
async function traceStart(): Promise<void> {
  if (process.env.BENCH_TRACE) await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
}
async function traceStop(what: string): Promise<void> {
  if (!process.env.BENCH_TRACE) return;
  const events = (JSON.parse((await browser.stopTracing()).toString()) as { traceEvents: TraceEvent[] }).traceEvents;
  const thread = (e: TraceEvent) => `${e.pid}/${e.tid}`;
  const frameStarts = new Map<string, number[]>();
  for (const e of events) if (e.name === 'FireAnimationFrame') frameStarts.set(thread(e), [...(frameStarts.get(thread(e)) ?? []), e.ts]);
  const main = [...frameStarts].sort((a, b) => b[1].length - a[1].length)[0];
  if (!main) return console.log(`trace ${what}: no animation frames`);
  const starts = main[1].sort((a, b) => a - b);
  const cpu = new Array<number>(starts.length).fill(0);
  const kinds = new Map<string, number>();
  for (const e of events) {
    if (e.ph !== 'X' || thread(e) !== main[0]) continue;
    if (e.name !== 'RunTask') kinds.set(e.name, (kinds.get(e.name) ?? 0) + (e.tdur ?? 0) / 1000);
    else if (e.ts >= starts[0]!) {
      let lo = 0;
      for (let hi = starts.length - 1; lo < hi; ) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= e.ts) lo = mid;
        else hi = mid - 1;
      }
      cpu[lo]! += (e.tdur ?? 0) / 1000;
    }
  }
  const tasks = events.filter((e) => e.ph === 'X' && e.name === 'RunTask' && thread(e) === main[0]).map((e) => (e.tdur ?? 0) / 1000).sort((a, b) => b - a);
  const sorted = cpu.slice(0, -1).sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
  const top = [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 12);
  console.log(
    `  main-thread CPU per frame ${what}: p50 ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms, max ${(sorted[sorted.length - 1] ?? 0).toFixed(1)} ms over ${sorted.length} frames; longest tasks ${tasks.slice(0, 5).map((t) => t.toFixed(0)).join(', ')} ms; ${(cpu.reduce((a, b) => a + b, 0) / 1000).toFixed(2)} s in all, by kind (nested kinds overlap): ` +
      top.map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', '),
  );
}
await profileStart();
const t0 = Date.now();
await page.goto(`${base}/sas`);
// Checked on every animation frame in the page (Playwright's default polling backs off to 1 s).
const inPage = await page.waitForFunction(
  () => (document.querySelector('[role="grid"][aria-label="Security associations"] [role="row"][data-key]') ? performance.now() : 0),
  undefined,
  { polling: 'raf', timeout: 60_000 },
);
const firstPaint = Date.now() - t0;
const firstRowAt = (await inPage.jsonValue()) as number;
await profileStop('to first paint');
console.log(`SA table first paint with ${N.toLocaleString()} SAs: ${firstPaint} ms (goal ≤ 2000 ms; snapshot ${(snapJson.length / 1e6).toFixed(1)} MB)`);
console.log(`  first SA row in the DOM at ${firstRowAt.toFixed(0)} ms after navigation start (in the page)`);
const phases = await page.evaluate(() => [
  ...performance.getEntriesByType('measure').filter((m) => m.name.startsWith('sascope:')).map((m) => `${m.name.slice(8)} at ${m.startTime.toFixed(0)} ms took ${m.duration.toFixed(0)} ms`),
  ...performance.getEntriesByType('mark').filter((m) => m.name.startsWith('sascope:')).map((m) => `${m.name.slice(8)} at ${m.startTime.toFixed(0)} ms`),
  `rows seen at ${performance.now().toFixed(0)} ms`,
]);
console.log(`  in the page (ms since navigation): ${phases.join(', ')}`);

// The rest of the snapshot (parts) in the table: every row counted by the grid.
const allRows = (await (
  await page.waitForFunction((n) => ((document.querySelector('[role="grid"]')?.getAttribute('aria-rowcount') ?? '') === String(n + 1) ? performance.now() : 0), N, { polling: 'raf', timeout: 120_000 })
).jsonValue()) as number;
console.log(`  all ${N.toLocaleString()} rows in the table at ${allRows.toFixed(0)} ms after navigation start`);

// Filter by SPI.
const target = (0xc0000000 + Math.floor(N * 0.73)) >>> 0;
const t1 = Date.now();
await page.getByRole('searchbox', { name: /Search SAs/ }).fill(`0x${target.toString(16)}`);
await page.locator('[role="grid"] [role="row"][data-key]').first().filter({ hasText: `0x${target.toString(16)}` }).waitFor({ timeout: 30_000 });
await page.waitForFunction(() => document.querySelectorAll('[role="grid"] [role="row"][data-key]').length === 1, undefined, { timeout: 30_000 });
console.log(`filter by SPI to 1 row: ${Date.now() - t1} ms`);
await page.getByRole('searchbox', { name: /Search SAs/ }).fill('');
await page.waitForFunction((n) => (document.querySelector('[role="grid"]')?.getAttribute('aria-rowcount') ?? '') === String(n + 1), N, { timeout: 30_000 });

// Scroll: frame times (rAF to rAF) in the page, and the main thread's long animation frames (work that
// held a frame back, from the Long Animation Frames API), while real wheel input scrolls the grid.
// wheel: 3 rows a frame (as a mouse wheel or a touchpad); fling: 80 rows a frame (a fast touchpad fling
// brings a screenful and more each frame); jump: scrollTop moved 1/150 of the
// list per frame (a dragged scrollbar: every row new each frame).
type FrameStats = { frames: number; p50: number; p95: number; max: number; loafs: number; loafMax: number; rowsPerFrame: number };
async function framesStart(): Promise<void> {
  await page.evaluate('globalThis.__name ??= (f) => f'); // tsx names the page functions' inner arrows with a helper the page lacks
  await page.evaluate(() => {
    const w = window as unknown as { __f: { times: number[]; loafs: number[]; on: boolean; top0: number } };
    const body = document.querySelector('[data-testid="vtable-body"]') as HTMLElement;
    w.__f = { times: [], loafs: [], on: true, top0: body.scrollTop };
    new PerformanceObserver((l) => l.getEntries().forEach((e) => w.__f.on && w.__f.loafs.push(e.duration))).observe({ type: 'long-animation-frame', buffered: false });
    let last = performance.now();
    const tick = (now: number) => {
      if (!w.__f.on) return;
      w.__f.times.push(now - last);
      last = now;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame((now) => ((last = now), requestAnimationFrame(tick)));
  });
}
async function framesStop(): Promise<FrameStats> {
  return page.evaluate(async () => {
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const w = window as unknown as { __f: { times: number[]; loafs: number[]; on: boolean; top0: number } };
    w.__f.on = false;
    const body = document.querySelector('[data-testid="vtable-body"]') as HTMLElement;
    const t = w.__f.times.slice().sort((a, b) => a - b);
    const at = (q: number) => t[Math.min(t.length - 1, Math.floor(t.length * q))] ?? 0;
    return { frames: t.length, p50: at(0.5), p95: at(0.95), max: t[t.length - 1] ?? 0, loafs: w.__f.loafs.length, loafMax: Math.max(0, ...w.__f.loafs), rowsPerFrame: Math.abs(body.scrollTop - w.__f.top0) / 32 / Math.max(1, t.length) };
  });
}
const fmt = (f: FrameStats) =>
  `p50 ${f.p50.toFixed(1)} ms, p95 ${f.p95.toFixed(1)} ms, max ${f.max.toFixed(1)} ms over ${f.frames} frames (${f.rowsPerFrame.toFixed(1)} rows/frame); ${f.loafs} long animation frames, longest ${f.loafMax.toFixed(0)} ms`;
const grid = page.locator('[data-testid="vtable-body"]');
const box = (await grid.boundingBox())!;
// Chromium's own scroll gesture (the input pipeline as a wheel makes it, paced by frames): rowsPerFrame at 60 Hz.
const input = await page.context().newCDPSession(page);
async function wheelFrames(rowsPerFrame: number, frames: number): Promise<FrameStats> {
  await framesStart();
  await input.send('Input.synthesizeScrollGesture', { x: box.x + box.width / 2, y: box.y + box.height / 2, yDistance: -rowsPerFrame * 32 * frames, speed: rowsPerFrame * 32 * 60, gestureSourceType: 'mouse', preventFling: true });
  return framesStop();
}
await profileStart();
await traceStart();
const wheel = await wheelFrames(3, 300);
await traceStop('while wheel scrolling');
await profileStop('while wheel scrolling');
console.log(`wheel scrolling (3 rows a frame): ${fmt(wheel)} (goal p95 ≤ 16.7 ms)`);
await profileStart();
await traceStart();
const fling = await wheelFrames(80, 180);
await traceStop('while flinging');
await profileStop('while flinging');
console.log(`fling (80 rows a frame): ${fmt(fling)} (goal p95 ≤ 33 ms)`);
await page.evaluate(() => ((document.querySelector('[data-testid="vtable-body"]') as HTMLElement).scrollTop = 0));
await framesStart();
await page.evaluate(async () => {
  const body = document.querySelector('[data-testid="vtable-body"]') as HTMLElement;
  for (let i = 0; i < 120; i++) {
    body.scrollTop += body.scrollHeight / 150;
    await new Promise((r) => requestAnimationFrame(() => r(undefined)));
  }
});
console.log(`jump (scrollTop moved 1/150 of the list a frame): ${fmt(await framesStop())}`);

// 1,000 deltas/s for 5 s (counters moving on random SAs): longest main-thread stall.
await page.evaluate(() => {
  (window as unknown as { __stalls: number[] }).__stalls = [];
  new PerformanceObserver((l) => l.getEntries().forEach((e) => (window as unknown as { __stalls: number[] }).__stalls.push(e.duration))).observe({ type: 'longtask', buffered: false });
});
await profileStart();
await traceStart();
let seq = 1;
for (let s = 0; s < 50; s++) {
  const deltas: Delta[] = [];
  for (let k = 0; k < 100; k++) {
    const i = Math.floor(Math.random() * N);
    deltas.push({ seq: ++seq, kind: 'sa', op: 'upsert', key: sas[i]!.key, value: sa(i, s * 1000 + k) } as unknown as Delta);
  }
  send(JSON.stringify({ type: 'deltas', time: Date.now(), deltas }));
  await new Promise((r) => setTimeout(r, 100));
}
await page.waitForTimeout(1500);
await traceStop('while 1,000 deltas/s arrive');
await profileStop('while 1,000 deltas/s arrive');
const stalls = await page.evaluate(() => (window as unknown as { __stalls: number[] }).__stalls);
const stallSum = stalls.reduce((a, b) => a + b, 0);
console.log(`1,000 deltas/s for 5 s: ${stalls.length} long tasks (${stalls.map((d) => d.toFixed(0)).join(", ")} ms), longest ${Math.max(0, ...stalls).toFixed(0)} ms, ${(stallSum / 6500 * 100).toFixed(1)} % of the time blocked (goal: none over 50 ms)`);
await browser.close();
wss.close();
proxy.close();
await server.stop();

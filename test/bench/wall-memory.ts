// The NOC wall over a long run, compressed (prints figures; not a timed test): /wall in Debian's
// Chromium on the production build, fed by a fake hub with far more churn than a real gateway makes —
// tunnel counters every second for 40 tunnels, a rotation and an event every 100 ms (the server's caps
// respected: old rotations removed), and the socket cut every 2 minutes (the wall reconnects and gets a
// fresh snapshot). Every 30 s: forced GC, then the JS heap and the DOM node count. Growth that is not
// bounded shows as a rising heap across the run.
//   npx tsx test/bench/wall-memory.ts            (BENCH_MINUTES=10 by default)
import { chromium } from '@playwright/test';
import { startServer } from '../helpers.ts';
import { fakeHub, syntheticTunnel } from '../e2e/fake-hub.ts';

const MINUTES = Number(process.env.BENCH_MINUTES ?? 10);
const TUNNELS = 40;
const MAX_ROTATIONS = 500; // the server's rotation cap (server/model/tunnels/rotations.ts keeps a bounded list)

const server = await startServer();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
const tunnels = Array.from({ length: TUNNELS }, (_, i) => syntheticTunnel(`gw-a → gw-${i} esp reqid ${i}`, { key: `xfrm:esp:t${i}` }));
const rotationKeys: string[] = [];
const hub = await fakeHub(page, () => ({ tunnel: tunnels, alarm: [], rotation: [] }));
const cdp = await page.context().newCDPSession(page);
await page.goto(`${server.url}/wall`);
await page.getByTestId('wall-healthy').waitFor({ timeout: 120_000 }); // 40 healthy tunnels fold into their count

let n = 0;
let bytes = 1_000_000n;
const churn = setInterval(() => {
  n++;
  const deltas: unknown[] = [];
  if (n % 10 === 0) {
    bytes += 123_456n;
    for (const t of tunnels) deltas.push({ kind: 'tunnel', op: 'upsert', key: t.key, value: { ...t, bytes: String(bytes), lastRotation: Date.now() } });
  }
  const rk = `r${n}`;
  rotationKeys.push(rk);
  deltas.push({ kind: 'rotation', op: 'upsert', key: rk, value: { key: rk, family: 'xfrm', tunnel: tunnels[n % TUNNELS]!.key, tunnelName: tunnels[n % TUNNELS]!.name, time: Date.now(), cause: 'soft-expire', oldSpi: n, newSpi: n + 1, state: 'done' } });
  while (rotationKeys.length > MAX_ROTATIONS) deltas.push({ kind: 'rotation', op: 'remove', key: rotationKeys.shift()! });
  deltas.push({ kind: 'event', op: 'upsert', key: `e${n}`, value: { key: `e${n}`, id: n, time: Date.now(), source: 'xfrm-sa', type: 'DELSA', summary: `DELSA esp spi 0x${n.toString(16)} 10.0.0.2 → 10.0.0.1` } });
  hub.sendDeltas(deltas);
}, 100);
const cuts = setInterval(() => void hub.current()?.close({ code: 4000, reason: 'bench cut' }), 120_000);

const samples: Array<{ min: number; heapMB: number; nodes: number }> = [];
const t0 = Date.now();
for (;;) {
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  const nodes = await page.evaluate(() => document.getElementsByTagName('*').length);
  const s = { min: (Date.now() - t0) / 60_000, heapMB: usedSize / 1e6, nodes };
  samples.push(s);
  console.log(`${s.min.toFixed(1).padStart(5)} min  heap ${s.heapMB.toFixed(1)} MB  DOM ${nodes} elements  (${n} batches sent)`);
  if (Date.now() - t0 >= MINUTES * 60_000) break;
  await new Promise((r) => setTimeout(r, 30_000));
}
clearInterval(churn);
clearInterval(cuts);
// Growth: the second half of the run against the first sample after warm-up (the first minute).
const warm = samples.find((x) => x.min >= 1) ?? samples[0]!;
const last = samples[samples.length - 1]!;
const perHour = ((last.heapMB - warm.heapMB) / Math.max(1e-9, last.min - warm.min)) * 60;
console.log(`wall over ${MINUTES} min of heavy churn (${n} delta batches, ${Math.floor(MINUTES / 2)} socket cuts): heap ${warm.heapMB.toFixed(1)} → ${last.heapMB.toFixed(1)} MB after warm-up (${perHour >= 0 ? '+' : ''}${perHour.toFixed(1)} MB/h extrapolated), DOM ${warm.nodes} → ${last.nodes} elements`);
await browser.close();
await server.stop();

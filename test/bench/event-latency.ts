// Event → WebSocket client latency on real cores (prints figures; runs on any Linux host as root, no
// kernel SAs needed):  node --import tsx test/bench/event-latency.ts     (BENCH_RATE=1000,2000 BENCH_SECONDS=5)
//
// The lab measures this against the real kernel, but its emulated CPUs cannot send 1,000 SA changes a
// second, let alone handle them (test/bench/xfrm-dump.ts). Here the whole `sascope serve` runs in this
// process on the host's own kernel (--no-ui, history on, every source started; XFRM's SA table is empty,
// PF_KEY is absent on such a host) and NEWSA messages — built as the kernel sends them, each a new SA with
// its own tunnel and key — go into the XFRM SA source's message handler at the given rate: the same path
// from there on as a message read from the monitor socket (decode, fingerprint, model, tunnels, history,
// hub, WebSocket). Not in the figure: the kernel's send, the socket read before the handler, the PF_KEY
// lookup each SA would cause where af_key is loaded, and the source's counter refresh (stopped, below).
// The client runs in a worker thread (its own event loop, as a browser would be) and stamps each delta as
// it arrives; a change's latency is that stamp minus the time its message was handed to the source.
import { Worker } from 'node:worker_threads';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { serve } from '../../server/main.ts';
import { createLogger } from '../../server/log.ts';
import type { NetlinkMessage } from '../../server/netlink/message.ts';
import { algo, newSa } from '../unit/xfrm/build.ts';
import { saKey } from '../../server/wire/xfrm.ts';
import { freePort } from '../helpers.ts';

const rates = (process.env.BENCH_RATE ?? '1000,2000').split(',').filter(Boolean).map(Number);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const now = () => performance.timeOrigin + performance.now();

const port = await freePort();
const running = await serve(createLogger('warn'), {
  host: '127.0.0.1', port, dev: false, noUi: true, openLoopback: true,
  dataDir: mkdtempSync(path.join(tmpdir(), 'sascope-bench-')),
});
await running.kernel.ready;
const source = running.kernel.sources.find((s) => s.id === 'xfrm-sa') as unknown as { onEvent(m: NetlinkMessage): void; status: { state: string } };
if (source.status.state !== 'ok') throw new Error(`the XFRM SA source is ${source.status.state} (run as root)`);
// The source's periodic counter refresh would dump this host's SA table — empty: the SAs here were never
// in the kernel — and remove them all (a mass teardown, not what is measured). It is stopped.
{
  const s = source as unknown as { opts: { refreshIntervalMs?: number }; countersTimer?: NodeJS.Timeout };
  s.opts.refreshIntervalMs = 0;
  clearTimeout(s.countersTimer);
}

// The client: records the arrival time of each SA upsert it has not seen yet, sends them back when asked.
const worker = new Worker(
  `const { parentPort, workerData } = require('node:worker_threads');
   const WebSocket = require(workerData.ws);
   const seen = new Map();
   const ws = new WebSocket(workerData.url);
   ws.on('open', () => parentPort.postMessage({ open: true }));
   ws.on('message', (data) => {
     const at = performance.timeOrigin + performance.now();
     const m = JSON.parse(String(data));
     if (m.type !== 'deltas') return;
     for (const d of m.deltas) if (d.kind === 'sa' && d.op === 'upsert' && !seen.has(d.key)) seen.set(d.key, at);
   });
   parentPort.on('message', (q) => {
     if (q === 'report') { parentPort.postMessage({ seen: [...seen] }); seen.clear(); }
     else if (q === 'close') ws.close();
   });`,
  { eval: true, workerData: { url: `ws://127.0.0.1:${port}/ws`, ws: path.join(process.cwd(), 'node_modules/ws') } },
);
await new Promise<void>((resolve) => worker.once('message', () => resolve()));
await new Promise((r) => setTimeout(r, 1000));
const report = () =>
  new Promise<Map<string, number>>((resolve) => {
    worker.once('message', (m: { seen: Array<[string, number]> }) => resolve(new Map(m.seen)));
    worker.postMessage('report');
  });
await report();

console.log(`host: node ${process.version}; sascope serve in this process (history on), client in a worker thread`);
let spiBase = 0x7000000;
for (const rate of rates) {
  const total = Math.round(rate * seconds);
  // Messages made beforehand (the kernel's part): SA i goes to 10.<200+i/65536>.<i/256>.<i%256>.
  const msgs = Array.from({ length: total }, (_, i) => {
    const spi = spiBase + i;
    const dst = `10.${200 + (i >> 16)}.${(i >> 8) & 0xff}.${i & 0xff}`;
    return { key: saKey('inet', 'esp', dst, spi), m: newSa({ dst, spi }, (w) => w.bytes(18, algo('rfc4106(gcm(aes))', randomBytes(20), 128))) };
  });
  const sent = new Map<string, number>();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const tickMs = 5;
  for (let i = 0; i < total; ) {
    const due = t0 + (i / rate) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    // every message that is due by now (a late timer sends what it owes at once, as a kernel burst would)
    const upTo = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1, i + Math.ceil((rate * tickMs) / 1000) * 4);
    for (; i < upTo; i++) {
      sent.set(msgs[i]!.key, now());
      source.onEvent(msgs[i]!.m);
    }
  }
  const achieved = total / ((performance.now() - t0) / 1000);
  let seen = new Map<string, number>();
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 500));
    for (const [k, at] of await report()) seen.set(k, at);
    if ([...sent.keys()].every((k) => seen.has(k))) break;
  }
  const cpu = process.cpuUsage(cpu0);
  const lat = [...sent].filter(([k]) => seen.has(k)).map(([k, s]) => seen.get(k)! - s).sort((a, b) => a - b);
  const q = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(1) : '—');
  console.log(
    `${rate}/s asked, ${achieved.toFixed(0)}/s sent for ${seconds} s: ${lat.length}/${total} seen, p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms (goal p99 ≤ 20 ms at 1,000/s); ` +
      `process CPU ${((cpu.user + cpu.system) / 1000 / total).toFixed(3)} ms per change (server and client)`,
  );
  seen = new Map();
  spiBase += 0x100000;
  await new Promise((r) => setTimeout(r, 2000));
}
worker.postMessage('close');
await worker.terminate();
await running.close();
process.exit(0);

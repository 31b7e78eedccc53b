// History queries at fleet size: 7 days × 200 tunnels of 60 s samples (test/history-fill.ts: day rhythm,
// idle nights, a crash gap, a stale span, hourly rotations) in a history database made by server/history,
// then what the tunnel page asks for each tunnel — samples (with gaps) and rotations over 1 h, 24 h and
// 7 d — timed through History's reader. Prints the database size and query times (median, p95, max per
// range), and the series building of a week in the browser's code (components/tunnels/history-series.ts).
// Needs no privileges:  node --import tsx test/bench/history-query.ts   (BENCH_TUNNELS=200, BENCH_DAYS=7)
// A figure to quote runs under the shared lock: flock /tmp/sascope-bench.lock node --import tsx test/bench/history-query.ts
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { History } from '../../server/history/history.ts';
import { Model } from '../../server/model/model.ts';
import { buildSeries } from '../../components/tunnels/history-series.ts';
import { fillHistory } from '../history-fill.ts';
import { memoryLogger } from '../unit/memlog.ts';

const tunnelCount = Number(process.env.BENCH_TUNNELS ?? 200);
const days = Number(process.env.BENCH_DAYS ?? 7);
const dir = mkdtempSync(path.join(tmpdir(), 'sascope-bench-history-'));
const now = Date.now();
const opts = { dataDir: dir, retentionDays: days + 1, sampleSeconds: 60, flushMs: 60_000 };

// A first run makes the schema (and a run row the fill puts after its own).
const first = new History(new Model(), memoryLogger().log, opts);
first.open();
first.close();

const tunnels = Array.from({ length: tunnelCount }, (_, i) => ({ key: `xfrm:esp:10.${i >> 8}.${i & 255}.1>10.200.0.1:reqid=${i + 1}`, name: `tunnel ${i + 1}`, rate: 20_000 + i * 500 }));
let t = performance.now();
const filled = fillHistory(path.join(dir, 'history.sqlite'), tunnels, { now, days });
const fillMs = performance.now() - t;
const size = statSync(path.join(dir, 'history.sqlite')).size;

const h = new History(new Model(), memoryLogger().log, opts);
h.open();
const ms = (xs: number[], q: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
console.log(`history bench: ${tunnelCount} tunnels × ${days} d of 60 s samples: ${filled.samples.toLocaleString('en-US')} samples, ${filled.rotations.toLocaleString('en-US')} rotations, filled in ${(fillMs / 1000).toFixed(1)} s`);
console.log(`database size: ${(size / 1048576).toFixed(1)} MiB (${(size / filled.samples).toFixed(1)} B per sample with indexes and rotations)`);
for (const [name, span] of [['1 h', 3600_000], ['24 h', 86_400_000], ['7 d', days * 86_400_000]] as const) {
  const sampleMs: number[] = [];
  const rotationMs: number[] = [];
  let rows = 0;
  for (const tn of tunnels) {
    const q = { since: now - span, until: now };
    t = performance.now();
    rows += h.samples({ tunnel: tn.key, ...q, limit: 20000 }).samples.length;
    sampleMs.push(performance.now() - t);
    t = performance.now();
    h.rotations({ tunnel: tn.key, ...q, limit: 5000 });
    rotationMs.push(performance.now() - t);
  }
  console.log(`${name.padEnd(5)} per tunnel: samples ${ms(sampleMs, 0.5).toFixed(2)} ms median, ${ms(sampleMs, 0.95).toFixed(2)} p95, ${Math.max(...sampleMs).toFixed(2)} max (${Math.round(rows / tunnelCount)} rows); rotations ${ms(rotationMs, 0.5).toFixed(2)} ms median, ${ms(rotationMs, 0.95).toFixed(2)} p95`);
}
const week = h.samples({ tunnel: tunnels[0]!.key, since: now - days * 86_400_000, until: now, limit: 20000 });
t = performance.now();
const s = buildSeries(week.samples, week.gaps, 60, now);
console.log(`series of a week for one tunnel (browser code): ${(performance.now() - t).toFixed(1)} ms for ${s.time.length} points`);
h.close();
rmSync(dir, { recursive: true, force: true });

// /metrics size and SQLite history growth at scale (prints numbers; not a pass/fail test). Inside the lab:
//   npm run lab -- run --kernel debian --timeout 1800 'npx tsx test/bench/metrics-history.ts'
// 1. BENCH_SAS (default 10,000) manual ESP SAs in lab-a, each its own tunnel (distinct destinations).
// 2. sascope serve watching lab-a: /metrics size and series count (tunnel labels capped at
//    metrics.maxTunnelSeries = 200, the rest in tunnel="other").
// 3. Churn for BENCH_CHURN_SECONDS (default 180): BENCH_REKEYS_PER_S (default 10) tunnels a second get a
//    new SA (new SPI, same tunnel) and lose the old one — a manual rekey each — and the history database
//    growth is extrapolated to one hour, with the rows written. Measured from after the first sample pass
//    (which writes one row per tunnel once) to the end; the size is the database's pages in use (read
//    through a second, read-only connection, so what is still in the WAL counts), the files are printed too.
import { mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startServer } from '../helpers.ts';
import { batchSAs, cleanupAll, netnsPair, requireLab, sh, sleep, waitFor } from '../lab/scenarios/index.ts';

requireLab();
const N = Number(process.env.BENCH_SAS ?? 10_000);
const CHURN_S = Number(process.env.BENCH_CHURN_SECONDS ?? 180);
const RATE = Number(process.env.BENCH_REKEYS_PER_S ?? 10);
const RUN = process.env.LAB_RUN ?? '/tmp/sascope-lab';
const DATA = path.join(RUN, 'bench-metrics-history');
rmSync(DATA, { recursive: true, force: true });
mkdirSync(DATA, { recursive: true });

await cleanupAll();
await netnsPair();
const base = 0x100000;
await batchSAs('lab-a', N, base);
const server = await startServer({ args: ['--netns', 'lab-a'], dataDir: DATA, timeoutMs: 600_000 });
const get = async (p: string) => (await fetch(`${server.url}${p}`)).text();
try {
  await waitFor(`${N} tunnels`, async () => ((JSON.parse(await get('/api/v1/tunnels')) as { tunnels: unknown[] }).tunnels.length >= N ? true : undefined), 600_000, 2000);
  const metrics = await get('/metrics');
  const series = metrics.split('\n').filter((l) => l && !l.startsWith('#'));
  const tunnelLabels = new Set(series.filter((l) => l.startsWith('sascope_tunnel_bytes_total{')).map((l) => /tunnel="([^"]*)"/.exec(l)?.[1]));
  console.log(`/metrics with ${N} SAs (${N} tunnels): ${Buffer.byteLength(metrics)} bytes, ${series.length} series, ${tunnelLabels.size} tunnel label values (cap 200 + "other")`);

  const files = () => ['history.sqlite', 'history.sqlite-wal'].reduce((s, f) => {
    try {
      return s + statSync(path.join(DATA, f)).size;
    } catch {
      return s;
    }
  }, 0);
  /** Bytes of the database's pages in use (free pages left out), as a reader sees it now (WAL included). */
  const used = () => {
    const db = new Database(path.join(DATA, 'history.sqlite'), { readonly: true });
    try {
      const n = (q: string) => Number(db.pragma(q, { simple: true }));
      return (n('page_count') - n('freelist_count')) * n('page_size');
    } finally {
      db.close();
    }
  };
  const rows = async () => (JSON.parse(await get('/api/v1/history')) as { rows: Record<string, number> }).rows;
  // The first sample pass writes a row for every tunnel once: start measuring after it.
  await waitFor('the first sample pass', async () => ((await rows())['samples']! >= N ? true : undefined), 180_000, 2000);
  const s0 = used();
  const f0 = files();
  const r0 = await rows();
  const t0 = Date.now();
  let next = 0;
  let spi = base + N;
  const key = 'aa'.repeat(20);
  const current = new Map<number, number>(); // tunnel index → its SPI
  for (let i = 0; i < N; i++) current.set(i, base + i);
  let rekeys = 0;
  while (Date.now() - t0 < CHURN_S * 1000) {
    const tick = Date.now();
    const lines: string[] = [];
    for (let k = 0; k < RATE; k++, next = (next + 1) % N) {
      const dst = `10.${100 + Math.floor(next / 65536)}.${Math.floor(next / 256) % 256}.${next % 256}`;
      const old = current.get(next)!;
      lines.push(`xfrm state add src 10.0.0.1 dst ${dst} proto esp spi 0x${(spi).toString(16)} mode tunnel aead rfc4106(gcm(aes)) 0x${key} 128`);
      lines.push(`xfrm state delete src 10.0.0.1 dst ${dst} proto esp spi 0x${old.toString(16)}`);
      current.set(next, spi++);
      rekeys++;
    }
    await sh(`ip -batch - <<'EOF'\n${lines.join('\n')}\nEOF`, { ns: 'lab-a' });
    await sleep(Math.max(0, 1000 - (Date.now() - tick)));
  }
  await sleep(2500); // the last flush
  const dt = (Date.now() - t0) / 1000;
  const r1 = await rows();
  const s1 = used();
  const f1 = files();
  const perHour = ((s1 - s0) / dt) * 3600;
  const rotations = (JSON.parse(await get('/api/v1/rotations?limit=5000')) as { rotations: unknown[]; truncated: boolean });
  console.log(`churn: ${rekeys} manual rekeys in ${dt.toFixed(0)} s (${(rekeys / dt).toFixed(1)}/s) over ${N} tunnels`);
  console.log(`history rows written: events +${r1['events']! - r0['events']!}, rotations +${r1['rotations']! - r0['rotations']!}, samples +${r1['samples']! - r0['samples']!}, alarms +${r1['alarms']! - r0['alarms']!}`);
  console.log(`history database (pages in use): ${(s0 / 1e6).toFixed(2)} MB → ${(s1 / 1e6).toFixed(2)} MB: ${(perHour / 1e6).toFixed(1)} MB per hour of this churn (samples every 60 s per changed tunnel; 7-day retention bounds it at ~${((perHour * 24 * 7) / 1e9).toFixed(2)} GB); files (db + WAL) ${(f0 / 1e6).toFixed(2)} MB → ${(f1 / 1e6).toFixed(2)} MB`);
  console.log(`rotations listed: ${rotations.rotations.length}${rotations.truncated ? '+' : ''} (of ${rekeys})`);
  const m2 = await get('/metrics');
  console.log(`/metrics after churn: ${Buffer.byteLength(m2)} bytes`);
} finally {
  await server.stop();
  await cleanupAll();
}

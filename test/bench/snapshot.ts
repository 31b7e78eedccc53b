// `sascope snapshot --json > /dev/null` against `ip -s xfrm state > /dev/null` on the same SA table, start-up
// included, run as a user runs it (node server/bin.mjs, the compiled bundle). Prints figures, not pass/fail.
// Run in the lab, as root in the VM's own netns:
//   npm run lab -- run --kernel debian --timeout 2400 'node --import tsx test/bench/snapshot.ts'
// BENCH_SIZES=20000,50000 (default) SAs; BENCH_RUNS=3 timings of each command per size (the median is used);
// BENCH_ROOT=DIR runs another copy of the project; BENCH_BEFORE=DIR runs that copy too (a checkout of an
// older commit), its timings interleaved with the main copy's in the same loop, so before and after come
// from the same machine state; BENCH_PROF=1 runs the snapshot once more under node --cpu-prof and prints
// where its time went (BENCH_PROF_TOP functions, default 40).
import { execFileSync, execSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../helpers.ts';

const sizes = (process.env.BENCH_SIZES ?? '20000,50000').split(',').filter(Boolean).map(Number);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const root = path.resolve(process.env.BENCH_ROOT ?? projectRoot);
const before = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE) : undefined;
/** The copies timed: [label, directory]; the main copy last. */
const copies: Array<[string, string]> = [...(before ? [['before', before] as [string, string]] : []), ['sascope', root]];
const now = () => performance.now();
const sh = (cmd: string, cwd = projectRoot) => execSync(cmd, { cwd, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 30, shell: '/bin/bash' }).toString();
const dataDir = mkdtempSync(path.join(tmpdir(), 'sascope-bench-'));
const snapshotCmd = `${process.execPath} server/bin.mjs snapshot --json --data-dir ${dataDir}`;

function timed(cmd: string, cwd: string): number {
  const t0 = now();
  sh(cmd, cwd);
  return now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** The top functions of a V8 CPU profile by self time, and by total time (callees included). */
function profileSummary(file: string, top = Number(process.env.BENCH_PROF_TOP ?? 40)): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const nameOf = (id: number) => {
    const f = byId.get(id)!.callFrame;
    return `${f.functionName || '(anonymous)'} ${path.basename(f.url)}:${f.lineNumber + 1}`;
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    self.set(nameOf(id), (self.get(nameOf(id)) ?? 0) + dt);
    const onStack = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) onStack.add(nameOf(n));
    for (const name of onStack) inclusive.set(name, (inclusive.get(name) ?? 0) + dt);
  });
  const list = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([n, us]) => `    ${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${n}`).join('\n');
  return `  self time:\n${list(self)}\n  total time (callees included):\n${list(inclusive)}`;
}

console.log(`kernel ${sh('uname -r').trim()}, node ${process.version}, ${sh('nproc').trim()} CPUs; sascope from ${root}`);
// As a user who ran setup.sh: the server bundle (server/bin.mjs falls back to tsx when it is older than a source).
for (const [label, dir] of copies) {
  const tb = now();
  sh(`${process.execPath} server/build.mjs`, dir);
  console.log(`${label}: server bundle built in ${((now() - tb) / 1000).toFixed(1)} s (${dir})`);
}
// Start-up and the fixed costs: the same command on an empty SA table.
sh('ip xfrm state flush; ip xfrm policy flush');
for (const [label, dir] of copies) {
  const empty = Array.from({ length: runs }, () => timed(`${snapshotCmd} > /dev/null`, dir));
  console.log(`no SAs: ${label} snapshot --json > /dev/null: ${(median(empty) / 1000).toFixed(2)} s (start-up included) [${empty.map((x) => (x / 1000).toFixed(2)).join('/')}]`);
}

for (const n of sizes) {
  sh('ip xfrm state flush; ip xfrm policy flush');
  const t0 = now();
  sh(`bash test/lab/scenarios/batch-sas.sh "" ${n} > /dev/null`);
  console.log(`\n${n} SAs: added in ${((now() - t0) / 1000).toFixed(1)} s (ip -batch)`);
  // What the document holds (once, outside the timings): every SA, its tunnel, and the sources' states.
  const doc = JSON.parse(execFileSync('sh', ['-c', snapshotCmd], { cwd: root, maxBuffer: 1 << 30 }).toString()) as {
    sas: unknown[];
    tunnels: unknown[];
    alarms: unknown[];
    sources: Array<{ id: string; state: string; reason?: string }>;
  };
  const notOk = doc.sources.filter((s) => s.state !== 'ok').map((s) => `${s.id} ${s.state}${s.reason ? ` (${s.reason})` : ''}`);
  console.log(`  document: ${doc.sas.length} SAs, ${doc.tunnels.length} tunnels, ${doc.alarms.length} alarms${doc.sas.length === n && doc.tunnels.length === n ? '' : ` — INCOMPLETE (want ${n} SAs and ${n} tunnels)`}; sources not ok: ${notOk.join('; ') || 'none'}`);
  const ipMs: number[] = [];
  const ours = copies.map((): number[] => []);
  for (let r = 0; r < runs; r++) {
    ipMs.push(timed('ip -s xfrm state > /dev/null', root));
    copies.forEach(([, dir], i) => ours[i]!.push(timed(`${snapshotCmd} > /dev/null`, dir)));
  }
  const ip = median(ipMs);
  const list = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(2)).join('/');
  console.log(`  ip -s xfrm state > /dev/null: ${(ip / 1000).toFixed(2)} s [${list(ipMs)}]`);
  copies.forEach(([label], i) => {
    const o = median(ours[i]!);
    console.log(`  ${label} snapshot --json > /dev/null: ${(o / 1000).toFixed(2)} s   ratio ${(o / ip).toFixed(2)}× (goal ≤ 2)   [${list(ours[i]!)}]`);
  });
  if (process.env.BENCH_PROF === '1') {
    const dir = mkdtempSync(path.join(tmpdir(), 'sascope-prof-'));
    sh(`${process.execPath} --cpu-prof --cpu-prof-dir=${dir} server/bin.mjs snapshot --json --data-dir ${dataDir} > /dev/null`, root);
    console.log(`  CPU profile of one snapshot:\n${profileSummary(path.join(dir, readdirSync(dir)[0]!))}`);
  }
}
sh('ip xfrm state flush');

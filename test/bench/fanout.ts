// Fan-out: the server's CPU time for the same XFRM policy churn (2,000 policies added and deleted, three
// times) with 1, 10, 100 and 1,000 WebSocket clients that all read, and the bytes each received. Every client
// must have every delta: a snapshot, then deltas with no gap and no second snapshot, current at the hub's seq
// in the end (printed per run). Issue 18's target: 100 clients cost ≤ 2× the CPU of one. Prints figures, not
// pass/fail. Needs root (policies in a throw-away netns) and the bundle (node server/build.mjs); run it alone:
//   flock /tmp/sascope-bench.lock bash test/netns-run.sh nice -n 5 npx tsx test/bench/fanout.ts \
//     [--clients 1,10,100,1000] [--policies 2000] [--rounds 3]
// BENCH_ROOT=DIR serves from another copy of the project (git archive of an older commit + its bundle built,
// node_modules linked): the before figure, with this file's clients and churn. BENCH_PROF=DIR writes each
// server's V8 CPU profile there (node --cpu-prof).
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { getJson, projectRoot, requireTestNetns, startServer } from '../helpers.ts';
import { policyChurn, rawWs, sleep } from '../integration/abuse-kit.ts';

requireTestNetns();
const { values } = parseArgs({ options: { clients: { type: 'string', default: '1,10,100,1000' }, policies: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '3' } } });
const counts = values.clients.split(',').map(Number);
const P = Number(values.policies);
const R = Number(values.rounds);
const root = path.resolve(process.env.BENCH_ROOT ?? projectRoot);

/** utime + stime of a process, in seconds (/proc/PID/stat fields 14 and 15, clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after the command name: field 3 is f[0]
  return (Number(f[11]) + Number(f[12])) / 100;
}

/**
 * One reading client's view of its stream, from the frames' first bytes only (the hub writes `type`, then
 * `seq` or `time, from, through` first): a thousand clients' 3 MB each are counted, not kept or parsed.
 */
class Follower {
  bytes = 0;
  frames = 0;
  snapshots = 0;
  through = -1;
  problem: string | undefined;
  private head = Buffer.alloc(0);
  private skip = 0;

  take(d: Buffer): void {
    this.bytes += d.length;
    if (this.skip >= d.length) return void (this.skip -= d.length);
    d = d.subarray(this.skip);
    this.skip = 0;
    let buf = this.head.length ? Buffer.concat([this.head, d]) : d;
    for (;;) {
      if (buf.length < 2) break;
      let len = buf[1]! & 0x7f;
      let at = 2;
      if (len === 126) (len = buf.length >= 4 ? buf.readUInt16BE(2) : -1), (at = 4);
      else if (len === 127) (len = buf.length >= 10 ? Number(buf.readBigUInt64BE(2)) : -1), (at = 10);
      if (len < 0 || buf.length < at + Math.min(len, 160)) break;
      if ((buf[0]! & 0x0f) === 1) this.message(buf.subarray(at, at + Math.min(len, 160)).toString('latin1'));
      this.frames++;
      if (buf.length >= at + len) {
        buf = buf.subarray(at + len);
        continue;
      }
      this.skip = at + len - buf.length;
      buf = Buffer.alloc(0);
      break;
    }
    this.head = Buffer.from(buf);
  }

  private message(start: string): void {
    const snap = /^\{"type":"snapshot","seq":(\d+)/.exec(start);
    if (snap) {
      if (this.snapshots++ > 0) this.problem ??= `a second snapshot at seq ${snap[1]} (it fell behind)`;
      this.through = Number(snap[1]);
      return;
    }
    if (!start.startsWith('{"type":"deltas"')) return;
    const m = /"from":(\d+),"through":(\d+)(,"coalesced")?/.exec(start);
    if (!m) return void (this.problem ??= `a deltas message without from/through: ${start}`);
    if (m[3]) this.problem ??= `coalesced deltas from ${m[1]}`;
    if (Number(m[1]) !== this.through + 1) this.problem ??= `a gap: from ${m[1]} after ${this.through}`;
    this.through = Number(m[2]);
  }
}

async function follower(port: number): Promise<Follower> {
  const ws = await rawWs(port);
  if (ws.status !== 101) throw new Error(`WebSocket upgrade answered ${ws.status}`);
  const f = new Follower();
  ws.socket.removeAllListeners('data'); // rawWs keeps every byte: counted here instead
  f.take(ws.received());
  ws.socket.on('data', (d: Buffer) => f.take(d));
  return f;
}

interface Run {
  clients: number;
  cpu: number;
  seconds: number;
  deltas: number;
  bytes: number[];
  frames: number[];
  problems: string[];
}

async function run(n: number): Promise<Run> {
  const prof = process.env.BENCH_PROF ? ['sh', '-c', `exec "$0" --cpu-prof --cpu-prof-dir=${process.env.BENCH_PROF} "$@"`] : undefined;
  const server = await startServer({ ui: false, root, wrap: prof, args: ['--max-clients', String(n + 10)] });
  const pid = server.proc.pid!;
  try {
    const followers: Follower[] = [];
    for (let i = 0; i < n; i += 100) followers.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => follower(server.port)))));
    const seq = async () => (await getJson<{ seq: number }>(`${server.url}/api/v1/health`)).seq;
    // Settled: the hub's seq has not moved for a second and every client is current at it.
    const settle = async () => {
      for (let last = -1, still = 0; ; await sleep(250)) {
        const s = await seq();
        still = s === last ? still + 1 : 0;
        last = s;
        if (still >= 4 && followers.every((f) => f.through === s)) return s;
      }
    };
    const seq0 = await settle();
    const bytes0 = followers.map((f) => f.bytes);
    const frames0 = followers.map((f) => f.frames);
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    for (let r = 0; r < R; r++) {
      await policyChurn(P, 1, 'add');
      await settle();
      await policyChurn(P, 1, 'delete');
      await settle();
    }
    const seq1 = await settle();
    const cpu = cpuSeconds(pid) - cpu0;
    const seconds = (performance.now() - t0) / 1000;
    const left = (await getJson<{ policies: unknown[] }>(`${server.url}/api/v1/policies`)).policies.length;
    const problems = followers.flatMap((f, i) => (f.problem ? [`client ${i}: ${f.problem}`] : f.through !== seq1 ? [`client ${i}: through ${f.through}, the hub at ${seq1}`] : []));
    if (left !== 0) problems.push(`the model still holds ${left} policies`);
    return { clients: n, cpu, seconds, deltas: seq1 - seq0, bytes: followers.map((f, i) => f.bytes - bytes0[i]!), frames: followers.map((f, i) => f.frames - frames0[i]!), problems };
  } finally {
    await server.stop();
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`fan-out: ${P} XFRM policies added and deleted ${R} times (${2 * P * R} changes), server from ${root}`);
const runs: Run[] = [];
for (const n of counts) {
  const r = await run(n);
  runs.push(r);
  console.log(
    `${String(n).padStart(5)} clients: server CPU ${r.cpu.toFixed(2)} s in ${r.seconds.toFixed(1)} s; ${r.deltas} deltas (hub seq); per client ${(mean(r.bytes) / 1e6).toFixed(2)} MB received ` +
      `(min ${(Math.min(...r.bytes) / 1e6).toFixed(2)}, max ${(Math.max(...r.bytes) / 1e6).toFixed(2)}) in ${Math.round(mean(r.frames))} frames; ` +
      (r.problems.length ? `NOT every client got every delta: ${r.problems.length} problems, first ${r.problems.slice(0, 3).join('; ')}` : `every client got every delta (${n}/${n})`),
  );
}
const one = runs.find((r) => r.clients === 1);
if (one) for (const r of runs) console.log(`FIGURE ${r.clients} clients: ${(r.cpu / one.cpu).toFixed(2)}× the server CPU of 1 client (${r.cpu.toFixed(2)} s / ${one.cpu.toFixed(2)} s)`);

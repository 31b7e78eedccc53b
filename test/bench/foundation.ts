// Foundation figures (not a timed test; prints numbers): the server's CPU over 10 s idle, and kernel
// event → WebSocket client latency p50/p99 over 1,000 XFRM policy adds made through sascope's own
// netlink encoder (the send time stands for the kernel's message time: the kernel notifies while it
// handles the request). Run as root:  bash test/netns-run.sh npx tsx test/bench/foundation.ts
import { readFileSync } from 'node:fs';
import { NetlinkConnection, openNetlinkTransport } from '../../server/netlink/conn.ts';
import { NETLINK_XFRM } from '../../server/netlink/constants.ts';
import { encodeStruct } from '../../server/netlink/struct.ts';
import { XFRM_MSG, xfrm_userpolicy_info } from '../../server/families/xfrm/spec.ts';
import { LiveClient, requireTestNetns, startServer } from '../helpers.ts';

requireTestNetns();
const N = Number(process.env.BENCH_N ?? 1000);
const clockTick = 100; // USER_HZ

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
}

const INF = 0xffffffffffffffffn;
function policy(i: number): Buffer {
  const daddr = Buffer.alloc(16);
  daddr.writeUInt32BE(((10 << 24) | (100 << 16) | i) >>> 0);
  return encodeStruct(xfrm_userpolicy_info, {
    sel: { daddr, saddr: Buffer.alloc(16), family: 2, prefixlen_d: 32, prefixlen_s: 0 },
    lft: { soft_byte_limit: INF, hard_byte_limit: INF, soft_packet_limit: INF, hard_packet_limit: INF },
    priority: 1000 + i,
    dir: 1,
  });
}

const server = await startServer();
const pid = server.proc.pid!;
await new Promise((r) => setTimeout(r, 3000)); // let start-up settle
const c0 = cpuTicks(pid);
const t0 = Date.now();
await new Promise((r) => setTimeout(r, 10_000));
const idleCpu = ((cpuTicks(pid) - c0) / clockTick / ((Date.now() - t0) / 1000)) * 100;

const client = new LiveClient(server.url);
await client.opened();
const conn = new NetlinkConnection('bench', openNetlinkTransport('bench', NETLINK_XFRM));
const lat: number[] = [];
const c1 = cpuTicks(pid);
const tStart = Date.now();
for (let i = 0; i < N; i++) {
  const sent = performance.timeOrigin + performance.now();
  await conn.do(XFRM_MSG.NEWPOLICY, policy(i), { op: 'add policy' });
  const prio = 1000 + i;
  const got = await client.waitForDelta((d) => d.kind === 'policy' && d.op === 'upsert' && d.value.priority === prio, 5000);
  lat.push(got.at - sent);
}
const busyCpu = ((cpuTicks(pid) - c1) / clockTick / ((Date.now() - tStart) / 1000)) * 100;
lat.sort((a, b) => a - b);
const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(2);
console.log(`idle CPU over 10 s: ${idleCpu.toFixed(2)} % of one core (goal: about 0)`);
console.log(`kernel event → WebSocket client over ${N} policy adds: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${lat[lat.length - 1]!.toFixed(2)} ms (goal p99 ≤ 20 ms)`);
console.log(`server CPU while adding: ${busyCpu.toFixed(1)} % of one core`);
client.close();
conn.close();
await server.stop();

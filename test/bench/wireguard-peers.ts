// What the wireguard source costs with many peers, against the real kernel (the host has no wireguard module):
// CPU of this process (the source, its LinkWatch and the Model it writes into) as % of one core over whole
// poll intervals, with the poll interval the source chose, at 1,000 and at 10,000 peers. The peers are configured
// with test/tools/capture-wireguard.ts's encoder (set-device in batches) and send no traffic, so a poll changes no
// row: this is the read, decode and compare of every peer, not the cost of 10,000 changed rows.
// Prints figures, asserts nothing. Inside the lab, under the bench lock:
//   flock /tmp/sascope-bench.lock npm run -s lab -- run --kernel debian --timeout 600 'npx tsx test/bench/wireguard-peers.ts'
//   BENCH_WG_POLLS: polls measured at 10,000 peers (default 2: 100 s), BENCH_WG_SMALL_POLLS at 1,000 (default 6: 30 s)
// The VM emulates its CPU (TCG) and shares the host's cores with whatever else runs, and the guest charges
// the time its vCPU waited to the process it interrupted: a reference loop's CPU before each window says
// how slow that was. `npx tsx test/bench/wireguard-peers.ts --reference` runs the loop alone (on the host,
// for the ratio).
import { randomBytes } from 'node:crypto';
import { Model } from '../../server/model/model.ts';
import { createLogger } from '../../server/log.ts';
import { LinkWatch } from '../../server/families/link/watch.ts';
import { WireguardSource } from '../../server/families/wireguard/source.ts';
import { requireLab, sh } from '../lab/scenarios/index.ts';
import { AttrWriter } from '../../server/netlink/attr.ts';
import { GenlClient } from '../../server/genl/client.ts';
import { dev, toolFamily, writePeer } from '../tools/capture-wireguard.ts';

/** CPU ms of a fixed piece of JavaScript (JSON round trips of 10,000 peer-like rows): the scale of the figures. */
function reference(): number {
  const rows = Array.from({ length: 10_000 }, (_, i) => ({ key: `7:${i}`, publicKey: randomBytes(32).toString('base64'), allowedIps: [`10.0.${i >> 8}.${i & 255}/32`], rxBytes: String(i * 1000), txBytes: String(i * 999) }));
  const c0 = process.cpuUsage();
  for (let k = 0; k < 20; k++) JSON.parse(JSON.stringify(rows));
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}
if (process.argv.includes('--reference')) {
  console.log(`reference loop: ${reference().toFixed(0)} ms CPU`);
  process.exit(0);
}

requireLab();
const POLLS = Number(process.env.BENCH_WG_POLLS ?? 2);
const SMALL_POLLS = Number(process.env.BENCH_WG_SMALL_POLLS ?? 6);
const BATCH = 500; // peers per set-device: a netlink request must fit the socket's send buffer
const priv = randomBytes(32);
let peers = 0;

/** n more peers on wgbench, each with a /32 of its own and an endpoint (no keepalive: nothing is sent). */
async function addPeers(n: number): Promise<void> {
  const t0 = performance.now();
  const client = await GenlClient.open(toolFamily, 'wireguard bench');
  try {
    for (let done = 0; done < n; done += BATCH) {
      // The device's key and port with the first batch only; later ones add peers.
      const w = new AttrWriter().string(dev('ifname'), 'wgbench');
      if (peers === 0) w.bytes(dev('private-key'), priv).u16(dev('listen-port'), 51820);
      w.nest(dev('peers'), (ps) => {
        for (let k = 0; k < Math.min(BATCH, n - done); k++) {
          const i = ++peers;
          writePeer(ps, `pub=${randomBytes(32).toString('hex')},endpoint=192.0.2.${(i % 250) + 1}:${10000 + (i % 50000)},allowed=10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`);
        }
      });
      await client.do('set-device', w.encode(), 'add peers to wgbench');
    }
  } finally {
    client.close();
  }
  console.log(`wgbench: ${peers} peers (${n} added in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

/**
 * A fresh source over wgbench: its first dump, then CPU over a window from the end of one timer poll to the
 * end of the `polls`-th after it (whole intervals: what the source costs in steady state), polls timed.
 */
async function measure(polls: number): Promise<void> {
  const model = new Model();
  const links = new LinkWatch();
  const src = new WireguardSource(model, createLogger('silent'), links);
  const inner = src as unknown as { dumpAll(): Promise<void>; intervalMs: number };
  const dumpAll = inner.dumpAll.bind(src);
  const pollCpu: number[] = [];
  let pollDone = () => {};
  inner.dumpAll = async () => {
    const c0 = process.cpuUsage();
    await dumpAll();
    const c = process.cpuUsage(c0);
    pollCpu.push((c.user + c.system) / 1000);
    pollDone();
  };
  const nextPoll = () => new Promise<void>((r) => (pollDone = r));
  console.log(`reference loop: ${reference().toFixed(0)} ms CPU`);
  const w0 = performance.now();
  await src.start();
  console.log(`${peers} peers: start ${(performance.now() - w0).toFixed(0)} ms (first dump ${pollCpu[0]!.toFixed(0)} ms CPU), ${model.list('wg-peer').length} peer rows, status ${src.status.state}, poll interval ${(inner.intervalMs / 1000).toFixed(1)} s`);
  await nextPoll();
  pollCpu.length = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let k = 0; k < polls; k++) await nextPoll();
  const c = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  const cpuMs = (c.user + c.system) / 1000;
  console.log(
    `${peers} peers: ${((cpuMs / wall) * 100).toFixed(2)} % of one core over ${(wall / 1000).toFixed(0)} s (CPU ${cpuMs.toFixed(0)} ms: user ${(c.user / 1000).toFixed(0)}, system ${(c.system / 1000).toFixed(0)}); ` +
      `poll interval ${(inner.intervalMs / 1000).toFixed(1)} s, ${polls} polls, ${pollCpu.map((x) => x.toFixed(0)).join(' / ')} ms CPU each`,
  );
  src.stop();
}

console.log(`kernel ${(await sh('uname -r')).trim()}; CPU figures are under qemu TCG emulation (several times a real core's cost)`);
await sh('ip link del wgbench 2>/dev/null; ip link add wgbench type wireguard && ip link set wgbench up');
try {
  await addPeers(1000);
  await measure(SMALL_POLLS);
  await addPeers(9000);
  await measure(POLLS);
} finally {
  await sh('ip link del wgbench', { allowFail: true });
}

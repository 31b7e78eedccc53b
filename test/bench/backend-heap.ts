// Where the backend's heap per SA goes (prints figures; runs on any host, no kernel SAs needed):
//   node --expose-gc --import tsx test/bench/backend-heap.ts        (BENCH_N=20000 SAs by default)
// Two shapes (BENCH_SHAPE=per-sa|pairs, both by default):
// - per-sa: the lab zoo's first SA (test/fixtures/xfrm) with its destination and SPI changed, so each is
//   its own tunnel, as in the lab's xfrm-dump bench; no policies.
// - pairs: what an IKE daemon installs for N/2 tunnel-mode CHILD_SAs — an SA in and an SA out per peer
//   (zoo SA 0x1004: AEAD, ESN, tunnel mode), a reqid each, and three policies (out, in, fwd) with a
//   template naming the SA.
// Each SA and policy goes through the real XFRM decoder into a model (policies built in wire form), with
// its PF_KEY mirror row as the PF_KEY source writes it (the zoo's 0x1004 rows with addresses and SPI
// changed), then each listener the server adds: the hub (its delta ring), the PF_KEY cross-check (both
// sources ok: one check row per SA), the tunnel tracker. Each layer is built on a fresh model and measured
// after gc once its batched passes have run; the difference to the layer below is its share. Targets
// (issue 18): model ≤ 1 KB per SA, everything ≤ 1.5 KB per SA at 100k SAs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMessages, type NetlinkMessage } from '../../server/netlink/message.ts';
import { decodeSaMessage } from '../../server/families/xfrm/sa.ts';
import { Model } from '../../server/model/model.ts';
import { TunnelTracker } from '../../server/model/tunnels.ts';
import { PfkeyCrossCheck } from '../../server/model/crosscheck.ts';
import { Hub } from '../../server/hub/hub.ts';
import { ConfigSchema } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import { saKey, type XfrmPolicy } from '../../server/wire/xfrm.ts';
import { pfkeySaKey, type PfkeyPolicy, type PfkeySa } from '../../server/wire/pfkey.ts';

const N = Number(process.env.BENCH_N ?? 20_000);
type Shape = 'per-sa' | 'pairs';
const SHAPES: Shape[] = process.env.BENCH_SHAPE ? [process.env.BENCH_SHAPE as Shape] : ['per-sa', 'pairs'];
if (SHAPES.some((s) => s !== 'per-sa' && s !== 'pairs')) throw new Error(`BENCH_SHAPE is per-sa or pairs, got ${process.env.BENCH_SHAPE}`);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const settle = () => new Promise<void>((r) => setTimeout(r, 200));

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const fixture = <T,>(f: string) => (JSON.parse(readFileSync(path.join(fixtures, f), 'utf8')) as { messages: T[] }).messages;
const xfrmZoo = fixture<{ hex: string }>('xfrm/sa-dump-zoo.fixture.json').map((m) => parseMessages(Buffer.from(m.hex, 'hex'))[0]!);
const pfkeyZoo = fixture<{ expected: { sa: PfkeySa } }>('pfkey/sa-dump-zoo.fixture.json').map((m) => m.expected.sa);
const pfkeyPolicyZoo = fixture<{ expected: { policy: PfkeyPolicy } }>('pfkey/spd-dump-zoo.fixture.json').map((m) => m.expected.policy);
const SPI_TUNNEL = 0x1004;
const templates = { 'per-sa': xfrmZoo[0]!, pairs: xfrmZoo.find((m) => m.payload.readUInt32BE(72) === SPI_TUNNEL)! };
const pfkeyTemplate = pfkeyZoo.find((p) => p.spi === SPI_TUNNEL)!;

const ip = (n: number) => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const LOCAL = 0x0a000001;
const peerOf = (i: number) => (0x0b000000 + i) >>> 0;

/** When SA i was added (s): one second apart, so no two SAs share their current lifetime (the worst case for the model's shared parts). */
const addTimeOf = (spi: number) => 1_795_440_000 + (spi & 0xfffff);

/** An SA from a zoo message with src, dst, SPI, reqid and add time changed (struct xfrm_usersa_info: selector 56 B, id.daddr at 56, id.spi at 72, saddr at 80, curlft.add_time at 176, reqid at 208). */
function xfrmSa(template: NetlinkMessage, src: number, dst: number, spi: number, reqid?: number) {
  const payload = Buffer.from(template.payload);
  payload.writeUInt32BE(dst >>> 0, 56);
  payload.writeUInt32BE(spi, 72);
  payload.writeUInt32BE(src >>> 0, 80);
  payload.writeBigUInt64LE(BigInt(addTimeOf(spi)), 176);
  if (reqid !== undefined) payload.writeUInt32LE(reqid, 208);
  const d = decodeSaMessage({ ...template, payload });
  const asked = d?.kind === 'upsert' && d.sa.spi === spi && d.sa.dst === ip(dst) && d.sa.src === ip(src) && (reqid === undefined || d.sa.reqid === reqid) && d.sa.lifetime.current.addTime === BigInt(addTimeOf(spi));
  if (d?.kind !== 'upsert' || !asked) throw new Error('the template did not decode as the SA asked for');
  return d.sa;
}

/** The PF_KEY source's row for the same SA. */
function pfkeySa(src: number, dst: number, spi: number, reqid: number): PfkeySa {
  const t = pfkeyTemplate;
  const lifetime = { ...structuredClone(t.lifetime), current: { ...t.lifetime.current!, addTime: BigInt(addTimeOf(spi)) } };
  return { ...t, key: pfkeySaKey(t.satype, ip(dst), spi), spi, spiHex: `0x${spi.toString(16).padStart(8, '0')}`, reqid, src: { ...t.src, address: ip(src) }, dst: { ...t.dst, address: ip(dst) }, lifetime };
}

const selector = (src: string, dst: string) => ({ family: 'inet', src, dst, sport: 0, sportMask: 0, dport: 0, dportMask: 0, proto: 'any', ifindex: 0, user: 0 });
const NO_LIMIT = '18446744073709551615';
/** An XFRM policy as the policy source decodes it: one template (tunnel mode, ESP, the tunnel's reqid). */
function xfrmPolicy(index: number, dir: 'in' | 'out' | 'fwd', local: string, remote: string, tsrc: string, tdst: string, reqid: number): XfrmPolicy {
  const [s, d] = dir === 'out' ? [local, remote] : [remote, local];
  return {
    key: `${index}:${dir}`, index, dir, action: 'allow', priority: 383_615, flags: [], share: 'any', type: 'main',
    selector: selector(s, d),
    lifetime: { config: { softByteLimit: NO_LIMIT, hardByteLimit: NO_LIMIT, softPacketLimit: NO_LIMIT, hardPacketLimit: NO_LIMIT, softAddExpiresSeconds: '0', hardAddExpiresSeconds: '0', softUseExpiresSeconds: '0', hardUseExpiresSeconds: '0' }, current: { bytes: '0', packets: '0', addTime: String(1_795_443_032 + (index % 7)), useTime: '0' } },
    templates: [{ dst: tdst, spi: 0, proto: 'esp', family: 'inet', src: tsrc, reqid, mode: 'tunnel', share: 'any', optional: false, aalgos: 0xffffffff, ealgos: 0xffffffff, calgos: 0xffffffff }],
  } as unknown as XfrmPolicy;
}
/** The PF_KEY source's row for the same policy. */
function pfkeyPolicy(p: XfrmPolicy): PfkeyPolicy {
  const t = pfkeyPolicyZoo[0]!;
  const net = (s: string) => ({ ...t.src, address: s.split('/')[0]!, prefixlen: Number(s.split('/')[1]) });
  const tm = p.templates[0]!;
  return { ...t, key: p.key, id: p.index, dir: p.dir, src: net(p.selector.src), dst: net(p.selector.dst), lifetime: structuredClone(t.lifetime), requests: [{ ...t.requests[0]!, reqid: tm.reqid, tunnelSrc: tm.src, tunnelDst: tm.dst }] };
}

/** Feeds the model SA by SA (and policy by policy) as the sources would, calling rest() between slices. */
async function feed(model: Model, shape: Shape, withPfkey: boolean, rest: () => Promise<void>): Promise<void> {
  if (shape === 'per-sa') {
    for (let i = 0; i < N; i++) {
      const sa = xfrmSa(templates['per-sa'], LOCAL + 1, 0x0a000000 + i, 0x10000 + i);
      model.upsert('sa', sa.key, sa);
      if (withPfkey) {
        const p = pfkeySa(LOCAL + 1, 0x0a000000 + i, 0x10000 + i, sa.reqid);
        model.upsert('pfkey-sa', p.key, p);
      }
      if (i % 2000 === 1999) await rest();
    }
    return;
  }
  for (let i = 0; i < N / 2; i++) {
    const peer = peerOf(i);
    const reqid = i + 1;
    const local = `10.${(i >>> 16) + 100}.${(i >>> 8) & 255}.0/24`.replace(/\.\d+\.0\/24$/, `.${i & 255}.0/24`);
    const remote = `172.${(i >>> 16) + 16}.${(i >>> 8) & 255}.${i & 255}/32`;
    for (const [src, dst, spi] of [[LOCAL, peer, 0xc0000000 + 2 * i], [peer, LOCAL, 0xc0000001 + 2 * i]] as const) {
      const sa = xfrmSa(templates.pairs, src, dst, spi >>> 0, reqid);
      model.upsert('sa', sa.key, sa);
      if (withPfkey) {
        const p = pfkeySa(src, dst, spi >>> 0, reqid);
        model.upsert('pfkey-sa', p.key, p);
      }
    }
    const index = 8 * i;
    const pols = [xfrmPolicy(index + 1, 'out', local, remote, ip(LOCAL), ip(peer), reqid), xfrmPolicy(index + 2, 'in', local, remote, ip(peer), ip(LOCAL), reqid), xfrmPolicy(index + 3, 'fwd', local, remote, ip(peer), ip(LOCAL), reqid)];
    for (const p of pols) {
      model.upsert('policy', p.key, p);
      if (withPfkey) {
        const pp = pfkeyPolicy(p);
        model.upsert('pfkey-policy', pp.key, pp);
      }
    }
    if (i % 1000 === 999) await rest();
  }
}

type Layer = 'model' | 'pfkey mirror' | 'hub' | 'cross-check' | 'tunnels';
const LAYERS: Layer[] = ['model', 'pfkey mirror', 'hub', 'cross-check', 'tunnels'];

async function measure(shape: Shape, upTo: Layer): Promise<{ perSa: number; rss: number; tunnels: number; checks: number; policies: number }> {
  const want = (l: Layer) => LAYERS.indexOf(l) <= LAYERS.indexOf(upTo);
  await settle(); // what the layer measured before still held by its last timers is let go
  const h0 = heap();
  const rss0 = process.memoryUsage().rss;
  const model = new Model();
  const hub = want('hub') ? new Hub(model, { version: 'bench', hostname: 'bench', netns: 'bench', heartbeatMs: 3_600_000 }, createLogger('silent')) : undefined;
  const cc = want('cross-check') ? new PfkeyCrossCheck(model) : undefined;
  const tunnels = want('tunnels') ? new TunnelTracker(model, { thresholds: ConfigSchema.parse({}).alarms, tickMs: 0 }) : undefined;
  for (const id of ['xfrm-sa', 'pfkey']) model.status({ id, label: id, state: 'ok', since: 0, resyncs: 0, decodeErrors: 0 });
  await feed(model, shape, want('pfkey mirror'), settle); // the batched passes run between slices, as between a dump's
  await settle();
  await tunnels?.whenSettled();
  const perSa = (heap() - h0) / N;
  const out = { perSa, rss: (process.memoryUsage().rss - rss0) / N, tunnels: model.count('tunnel'), checks: model.count('pfkey-check'), policies: model.count('policy') };
  tunnels?.close();
  cc?.close();
  hub?.close();
  return out;
}

console.log(`${N} synthetic SAs, node ${process.version}; heap after gc per SA (RSS growth per SA beside it, for reference)`);
for (const shape of SHAPES) {
  console.log(`shape ${shape}:`);
  let below = 0;
  for (const layer of LAYERS) {
    const m = await measure(shape, layer);
    const goal = layer === 'model' ? ' [goal ≤ 1024 B]' : layer === LAYERS[LAYERS.length - 1] ? ' [goal ≤ 1536 B in all]' : '';
    const extra = (layer === 'model' && m.policies ? ` (${m.policies} policies)` : layer === 'tunnels' ? ` (${m.tunnels} tunnels)` : layer === 'cross-check' ? ` (${m.checks} check rows)` : '') + goal;
    console.log(`  ${`+ ${layer}`.padEnd(15)} ${m.perSa.toFixed(0).padStart(6)} B per SA in all, ${(m.perSa - below).toFixed(0).padStart(6)} B of it this layer; RSS ${m.rss.toFixed(0).padStart(6)} B${extra}`);
    below = m.perSa;
  }
}

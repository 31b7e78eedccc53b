// Where the backend's heap per SA goes (prints figures; runs on any host, no kernel SAs needed):
//   node --expose-gc --import tsx test/bench/backend-heap.ts        (BENCH_N=20000 by default)
// N synthetic SAs — the lab zoo's first SA (test/fixtures/xfrm) with its destination and SPI changed,
// so each is its own tunnel, as in the lab's xfrm-dump bench — go through the real decoder into a model,
// first alone, then with each listener the server adds: the hub (its delta ring), the PF_KEY cross-check
// (both sources ok: one check row per SA), the tunnel tracker. Each layer is built on a fresh model and
// measured after gc once its batched passes have run; the difference to the layer below is its share.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMessages } from '../../server/netlink/message.ts';
import { decodeSaMessage } from '../../server/families/xfrm/sa.ts';
import { Model } from '../../server/model/model.ts';
import { TunnelTracker } from '../../server/model/tunnels.ts';
import { PfkeyCrossCheck } from '../../server/model/crosscheck.ts';
import { Hub } from '../../server/hub/hub.ts';
import { ConfigSchema } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';

const N = Number(process.env.BENCH_N ?? 20_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const settle = () => new Promise((r) => setTimeout(r, 200));

const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/xfrm/sa-dump-zoo.fixture.json');
const template = parseMessages(Buffer.from((JSON.parse(readFileSync(fixture, 'utf8')) as { messages: Array<{ hex: string }> }).messages[0]!.hex, 'hex'))[0]!;

/** SA i: the template with id.daddr and id.spi changed (xfrm_usersa_info: the 56-byte selector, then id). */
function syntheticSa(i: number) {
  const payload = Buffer.from(template.payload);
  payload.writeUInt32BE((0x0a000000 + i) >>> 0, 56);
  payload.writeUInt32BE(0x10000 + i, 72);
  const d = decodeSaMessage({ ...template, payload });
  if (d?.kind !== 'upsert') throw new Error('the template did not decode as an SA');
  return d.sa;
}

type Layer = 'model' | 'hub' | 'cross-check' | 'tunnels';
const LAYERS: Layer[] = ['model', 'hub', 'cross-check', 'tunnels'];

async function measure(upTo: Layer): Promise<{ perSa: number; tunnels: number; checks: number }> {
  const want = (l: Layer) => LAYERS.indexOf(l) <= LAYERS.indexOf(upTo);
  const h0 = heap();
  const model = new Model();
  const hub = want('hub') ? new Hub(model, { version: 'bench', hostname: 'bench', netns: 'bench', heartbeatMs: 3_600_000 }, createLogger('silent')) : undefined;
  const cc = want('cross-check') ? new PfkeyCrossCheck(model) : undefined;
  const tunnels = want('tunnels') ? new TunnelTracker(model, { thresholds: ConfigSchema.parse({}).alarms, tickMs: 0 }) : undefined;
  for (const id of ['xfrm-sa', 'pfkey']) model.status({ id, label: id, state: 'ok', since: 0, resyncs: 0, decodeErrors: 0 });
  for (let i = 0; i < N; i++) {
    const sa = syntheticSa(i);
    model.upsert('sa', sa.key, sa);
    if (i % 2000 === 1999) await settle(); // the batched passes run, as between a dump's slices
  }
  await settle();
  const perSa = (heap() - h0) / N;
  const out = { perSa, tunnels: model.count('tunnel'), checks: model.count('pfkey-check') };
  tunnels?.close();
  cc?.close();
  hub?.close();
  return out;
}

console.log(`${N} synthetic SAs, node ${process.version}`);
let below = 0;
for (const layer of LAYERS) {
  const m = await measure(layer);
  const extra = layer === 'tunnels' ? ` (${m.tunnels} tunnels)` : layer === 'cross-check' ? ` (${m.checks} check rows)` : '';
  console.log(`  ${`+ ${layer}`.padEnd(14)} ${m.perSa.toFixed(0).padStart(6)} B per SA in all, ${(m.perSa - below).toFixed(0).padStart(6)} B of it this layer${extra}`);
  below = m.perSa;
}

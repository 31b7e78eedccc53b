// The hub's cost per model change once its delta ring is full (20,000 deltas kept for resume): the ring
// must cost the same per change whatever its size. No clients, so this is the ring and the batching alone.
//   npx tsx test/bench/hub-ring.ts [--ring 20000] [--changes 200000]
import { parseArgs } from 'node:util';
import { Hub } from '../../server/hub/hub.ts';
import { Model, type ModelChange } from '../../server/model/model.ts';
import { createLogger } from '../../server/log.ts';

const { values } = parseArgs({ options: { ring: { type: 'string', default: '20000' }, changes: { type: 'string', default: '200000' } } });
const RING = Number(values.ring);
const N = Number(values.changes);

const hub = new Hub(new Model(), { version: 'bench', hostname: 'bench', netns: 'bench', heartbeatMs: 3_600_000, ringSize: RING, immediateBurst: 0 }, createLogger('silent'));
// Straight into the hub's change handler: the model's own cost is not the ring's.
const onChange = (hub as unknown as { onChange(c: ModelChange): void }).onChange.bind(hub);
const change = (i: number): ModelChange => ({ kind: 'policy', op: 'upsert', key: `p${i % 1000}`, value: { key: `p${i % 1000}`, priority: i } });
const flushed = () => new Promise((r) => setImmediate(r));

for (let i = 0; i < RING; i++) onChange(change(i));
await flushed();
for (let round = 0; round < 3; round++) {
  const t0 = performance.now();
  // In runs of 1,000, each followed by the batch flush, as a burst of kernel events would come.
  for (let i = 0; i < N; i += 1000) {
    for (let j = i; j < i + 1000; j++) onChange(change(j));
    await flushed();
  }
  const ms = performance.now() - t0;
  console.log(`FIGURE hub cost per change with a full ${RING.toLocaleString('en')}-delta ring: ${((ms * 1000) / N).toFixed(2)} µs (${N.toLocaleString('en')} changes in ${ms.toFixed(0)} ms, round ${round + 1})`);
}
hub.close();

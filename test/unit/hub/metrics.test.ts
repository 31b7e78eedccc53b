// /metrics: per-tunnel series bounded by maxTunnelSeries (+ "other"), sticky labels, no per-SPI labels,
// sources and alarms by fixed label sets; the text stays bounded however many tunnels there are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '../../../server/hub/metrics.ts';
import { Model } from '../../../server/model/model.ts';

function tunnel(i: number, bytes: bigint) {
  return { key: `xfrm:inet:esp:10.0.${i >> 8}.${i & 255}>10.1.0.1:reqid=${i}:mode=tunnel`, family: 'xfrm', name: `t${i}`, src: '', dst: '', policies: [], state: 'up', sas: [`sa${i}`], firstSeen: 0, bytes, packets: 1n, integrityFailed: 0, replayFailed: 0, replayWindowFailed: 0, rotations: 2, alarms: [], countdown: { hardExpiresAt: Date.now() + 10_000 * (i + 1), sequenceUsedPercent: i / 100 } };
}

test('tunnel series are capped with an "other" bucket; sizes stay bounded at many tunnels', async () => {
  const model = new Model();
  const m = new Metrics(model, { maxTunnelSeries: 10 });
  for (let i = 0; i < 5000; i++) model.upsert('tunnel', tunnel(i, 100n).key, tunnel(i, 100n));
  model.status({ id: 'xfrm-sa', label: 'x', state: 'ok', since: 0, resyncs: 0, decodeErrors: 0 });
  model.upsert('alarm', 'a', { key: 'a', type: 'expiring-soon', severity: 'warning', ref: 'tunnel:x', summary: '', since: 0 });
  const text = await m.text();
  const bytesLines = text.split('\n').filter((l) => l.startsWith('sascope_tunnel_bytes_total{'));
  assert.equal(bytesLines.length, 11, '10 tunnels + other');
  const other = bytesLines.find((l) => l.includes('tunnel="other"'))!;
  assert.match(other, / 499000$/, '4990 tunnels × 100 bytes');
  assert.ok(!/spi/i.test(text), 'no SPI anywhere');
  assert.match(text, /sascope_source_up\{source="xfrm-sa"\} 1/);
  assert.match(text, /sascope_alarms\{type="expiring-soon",severity="warning"\} 1/);
  assert.match(text, /sascope_tunnel_seconds_to_expiry\{tunnel="other",name="other tunnels",limit="hard"\} 1\d\d/);
  const size5k = Buffer.byteLength(text);
  for (let i = 5000; i < 20000; i++) model.upsert('tunnel', tunnel(i, 1n).key, tunnel(i, 1n));
  const size20k = Buffer.byteLength(await m.text());
  assert.ok(size20k < size5k * 1.05, `bounded: ${size5k} → ${size20k} bytes`);
  // Sticky: a labelled tunnel keeps its label; when one goes, a new one takes its slot.
  const first = tunnel(0, 100n).key;
  model.remove('tunnel', first);
  const after = await m.text();
  assert.ok(!after.includes(`tunnel="${first}"`));
  assert.equal(after.split('\n').filter((l) => l.startsWith('sascope_tunnel_bytes_total{')).length, 11);
});

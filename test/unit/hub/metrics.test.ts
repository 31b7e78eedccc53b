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

test('counter series never go down: tunnels moving into a freed label, growing, restarting and vanishing', async () => {
  const model = new Model();
  const m = new Metrics(model, { maxTunnelSeries: 3 });
  const counters = ['sascope_tunnel_bytes_total', 'sascope_tunnel_packets_total', 'sascope_tunnel_errors_total', 'sascope_tunnel_rotations_total'];
  const seen = new Map<string, number>();
  const scrape = async (step: string) => {
    const text = await m.text();
    for (const line of text.split('\n')) {
      if (!counters.some((c) => line.startsWith(`${c}{`))) continue;
      const at = line.lastIndexOf(' ');
      const series = line.slice(0, at);
      const v = Number(line.slice(at + 1));
      assert.ok(v >= (seen.get(series) ?? 0), `${step}: ${series} went from ${seen.get(series)} to ${v}`);
      seen.set(series, v);
    }
    return text;
  };
  const put = (i: number, bytes: bigint, extra: object = {}) => model.upsert('tunnel', tunnel(i, bytes).key, { ...tunnel(i, bytes), ...extra });
  const other = (text: string) => Number(/sascope_tunnel_bytes_total\{tunnel="other"[^}]*\} (\d+)/.exec(text)?.[1]);
  for (let i = 0; i < 8; i++) put(i, 1000n);
  assert.equal(other(await scrape('start')), 5000, 'five unlabelled tunnels');
  // A labelled tunnel goes: tunnel 3 (in "other") takes its label; "other" keeps what tunnel 3 brought.
  model.remove('tunnel', tunnel(0, 0n).key);
  let text = await scrape('a label freed');
  assert.equal(other(text), 5000);
  assert.match(text, new RegExp(`sascope_tunnel_bytes_total\\{tunnel="${tunnel(3, 0n).key}"[^}]*\\} 1000`));
  // Unlabelled tunnels grow and one vanishes: "other" adds the growth, loses nothing.
  put(4, 1500n);
  model.remove('tunnel', tunnel(5, 0n).key);
  assert.equal(other(await scrape('growth and a vanished tunnel')), 5500);
  // Counters that went down (an ovpn peer made anew under the same tunnel): the new count is a gain.
  put(1, 200n, { rotations: 0, integrityFailed: 0 });
  put(6, 100n);
  text = await scrape('counters restarted');
  assert.equal(other(text), 5600);
  assert.match(text, new RegExp(`sascope_tunnel_bytes_total\\{tunnel="${tunnel(1, 0n).key}"[^}]*\\} 1200`));
  // Every unlabelled tunnel gone, then new ones: "other" stays and only grows.
  for (const i of [4, 6, 7]) model.remove('tunnel', tunnel(i, 0n).key);
  assert.equal(other(await scrape('no other tunnel')), 5600);
  for (let i = 10; i < 14; i++) put(i, 10n);
  await scrape('new tunnels');
  for (let i = 10; i < 14; i++) model.remove('tunnel', tunnel(i, 0n).key);
  for (let i = 1; i < 4; i++) model.remove('tunnel', tunnel(i, 0n).key);
  text = await scrape('all gone');
  assert.ok(other(text) >= 5600);
});

test('the fleet console: every series of a host\'s rows carries host=, and "other" is one bucket per host', async () => {
  const model = new Model();
  const m = new Metrics(model, { maxTunnelSeries: 1, fleet: true });
  for (const host of ['gw1', 'gw2']) {
    for (let i = 0; i < 2; i++) model.upsert('tunnel', `${host}/${tunnel(i, 10n).key}`, { ...tunnel(i, 10n), key: `${host}/${tunnel(i, 10n).key}`, host });
    model.upsert('source', `${host}/xfrm-sa`, { id: 'xfrm-sa', label: 'x', state: host === 'gw1' ? 'ok' : 'stale', since: 0, resyncs: 0, decodeErrors: 0, host });
    model.upsert('alarm', `${host}/a`, { key: `${host}/a`, type: 'tunnel-down', severity: 'critical', ref: 'tunnel:x', summary: '', since: 0, host });
  }
  const text = await m.text();
  // Without host= the two hosts' xfrm-sa sources were one series, the last written winning.
  assert.match(text, /sascope_source_up\{host="gw1",source="xfrm-sa"\} 1/);
  assert.match(text, /sascope_source_up\{host="gw2",source="xfrm-sa"\} 0/);
  assert.match(text, /sascope_alarms\{host="gw2",type="tunnel-down",severity="critical"\} 1/);
  assert.match(text, /sascope_tunnels\{host="gw1",state="up"\} 2/);
  const bytes = text.split('\n').filter((l) => l.startsWith('sascope_tunnel_bytes_total{'));
  assert.equal(bytes.length, 3, `one labelled tunnel, "other" of gw1 and of gw2:\n${bytes.join('\n')}`);
  assert.ok(bytes.every((l) => /host="gw[12]"/.test(l)));
  assert.match(text, /sascope_tunnel_bytes_total\{tunnel="other",host="gw2",name="other tunnels",family="mixed"\} 20/);
});

test('wireguard peers: rx/tx bytes and the last handshake as a Unix time (0: never), labelled by device and public key; no other key', async () => {
  const model = new Model();
  const m = new Metrics(model, { maxTunnelSeries: 10 });
  const pub = (b: number) => Buffer.alloc(32, b).toString('base64');
  model.upsert('wg-peer', `5:${pub(1)}`, { key: `5:${pub(1)}`, ifindex: 5, device: 'wg0', publicKey: pub(1), persistentKeepaliveSeconds: 0, lastHandshake: 1_800_000_000_999, rxBytes: 476n, txBytes: 564n, allowedIps: [] });
  model.upsert('wg-peer', `5:${pub(2)}`, { key: `5:${pub(2)}`, ifindex: 5, device: 'wg0', publicKey: pub(2), persistentKeepaliveSeconds: 25, rxBytes: 0n, txBytes: 148n, allowedIps: [] });
  const text = await m.text();
  assert.match(text, new RegExp(`sascope_wireguard_peer_receive_bytes_total\\{device="wg0",public_key="${pub(1).replace(/\+/g, '\\+')}"\\} 476\\n`));
  assert.match(text, new RegExp(`sascope_wireguard_peer_transmit_bytes_total\\{device="wg0",public_key="${pub(2).replace(/\+/g, '\\+')}"\\} 148\\n`));
  assert.match(text, new RegExp(`sascope_wireguard_peer_last_handshake_seconds\\{device="wg0",public_key="${pub(1)}"\\} 1800000000\\n`));
  assert.match(text, new RegExp(`sascope_wireguard_peer_last_handshake_seconds\\{device="wg0",public_key="${pub(2)}"\\} 0\\n`), 'never: 0, as the exporters have it');
  assert.match(text, /# TYPE sascope_wireguard_peer_last_handshake_seconds gauge/);
  model.remove('wg-peer', `5:${pub(2)}`);
  assert.ok(!(await m.text()).includes(pub(2)), 'a gone peer has no series');
});

test('a tunnel renamed after its first scrape (strongSwan\'s view joined after its SAs) carries its new name', async () => {
  const model = new Model();
  const m = new Metrics(model, { maxTunnelSeries: 10 });
  const t = tunnel(1, 100n);
  model.upsert('tunnel', t.key, t);
  assert.match(await m.text(), /sascope_tunnel_bytes_total\{tunnel="[^"]+",name="t1",family="xfrm"\} 100/);
  model.upsert('tunnel', t.key, { ...t, name: 'site/net (CN=berlin)', bytes: 150n });
  const text = await m.text();
  assert.match(text, /sascope_tunnel_bytes_total\{tunnel="[^"]+",name="site\/net \(CN=berlin\)",family="xfrm"\} 150/);
  assert.ok(!text.includes('name="t1"'));
});

// wireguard peers as tunnels (server/model/tunnels/adapters/wireguard.ts), on a fake clock: the tunnel and
// its bytes, handshakes as rotations (skipped ones marked), counters continuous when the kernel's start again
// and across a sascope restart, and the state and alarm rules (up, idle, down + wg-handshake-stale).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../../server/model/model.ts';
import { TunnelTracker } from '../../../server/model/tunnels.ts';
import { wireguardPeerAlarms, wireguardPeerState } from '../../../server/model/tunnels/alarm-rules.ts';
import { newTunnel } from '../../../server/model/tunnels/track.ts';
import { parseConfig } from '../../../server/config.ts';
import type { OnWire } from '../../../server/wire/entities.ts';
import type { Alarm, Rotation, Tunnel } from '../../../server/wire/tunnels.ts';
import type { WireguardPeer } from '../../../server/wire/wireguard.ts';

const T0 = 1_800_000_000_000; // ms
const th = parseConfig('t', '{}').alarms;
const PUB = Buffer.alloc(32, 0x7c).toString('base64');
const KEY = `wireguard:wg0:${PUB}`;

function rig() {
  const model = new Model();
  const clock = { now: T0 };
  const rotations: Rotation[] = [];
  const tracker = new TunnelTracker(model, { thresholds: th, now: () => clock.now, tickMs: 0, onRotation: (r) => rotations.push(r) });
  const settle = () => new Promise((r) => setImmediate(r));
  const tunnel = () => model.get('tunnel', KEY) as OnWire<Tunnel> | undefined;
  const alarms = () => model.list('alarm') as Array<OnWire<Alarm>>;
  return { model, clock, tracker, rotations, settle, tunnel, alarms };
}

function peer(o: Partial<WireguardPeer> = {}): WireguardPeer {
  const ifindex = o.ifindex ?? 5;
  return { key: `${ifindex}:${PUB}`, ifindex, device: 'wg0', publicKey: PUB, endpoint: '192.0.2.1:51820', persistentKeepaliveSeconds: 0, rxBytes: 0n, txBytes: 0n, allowedIps: ['10.9.0.2/32'], ...o };
}
const put = (model: Model, p: WireguardPeer) => model.upsert('wg-peer', p.key, p);

test('wireguard tunnel: one per peer, keyed by interface name and public key, with rx + tx bytes and its endpoint', async () => {
  const { model, settle, tunnel } = rig();
  put(model, peer({ rxBytes: 100n, txBytes: 250n, lastHandshake: T0 - 10_000 }));
  await settle();
  const t = tunnel()!;
  assert.equal(t.family, 'wireguard');
  assert.equal(t.bytes, '350');
  assert.equal(t.dst, '192.0.2.1:51820');
  assert.equal(t.src, 'wg0');
  assert.equal(t.state, 'up');
  assert.equal(t.rotations, 0, 'a handshake made before sascope looked is not a rotation it saw');
  assert.equal(t.lastRotation, T0 - 10_000);
});

test('wireguard tunnel: a new handshake is a rotation; one more than REKEY_AFTER_TIME after the previous read is marked as covering skipped ones', async () => {
  const { model, clock, settle, rotations, tunnel } = rig();
  put(model, peer({ lastHandshake: T0 - 10_000 }));
  await settle();
  clock.now = T0 + 5_000;
  put(model, peer({ lastHandshake: T0 + 4_000, rxBytes: 1n }));
  await settle();
  assert.equal(rotations.length, 1);
  assert.deepEqual([rotations[0]!.family, rotations[0]!.cause, rotations[0]!.time, rotations[0]!.skippedHandshakes], ['wireguard', 'handshake', T0 + 4_000, undefined]);
  assert.equal(tunnel()!.rotations, 1);
  // Unchanged handshake time: no rotation.
  clock.now = T0 + 10_000;
  put(model, peer({ lastHandshake: T0 + 4_000, rxBytes: 2n }));
  await settle();
  assert.equal(rotations.length, 1);
  // The next read 10 minutes later finds a handshake 9 minutes after the last one: others may lie between.
  clock.now = T0 + 600_000;
  put(model, peer({ lastHandshake: T0 + 550_000, rxBytes: 3n }));
  await settle();
  assert.equal(rotations.length, 2);
  assert.equal(rotations[1]!.skippedHandshakes, true);
  assert.equal(tunnel()!.rotations, 2, 'skipped handshakes count as one rotation');
  assert.equal(tunnel()!.lastRotation, T0 + 550_000);
});

test('wireguard tunnel: bytes continuous when the counters start again and when the interface is made again (new ifindex)', async () => {
  const { model, clock, settle, tunnel } = rig();
  put(model, peer({ rxBytes: 1000n, txBytes: 500n }));
  await settle();
  put(model, peer({ rxBytes: 10n, txBytes: 5n })); // peer removed and set again: the kernel's counters from 0
  await settle();
  assert.equal(tunnel()!.bytes, '1515');
  model.remove('wg-peer', peer().key); // wg-quick down
  await settle();
  assert.equal(tunnel()!.state, 'down');
  assert.equal(tunnel()!.bytes, '1515', 'a gone peer keeps its bytes');
  clock.now += 1000;
  put(model, peer({ ifindex: 9, rxBytes: 7n, txBytes: 3n })); // wg-quick up: same name, new ifindex
  await settle();
  assert.equal(model.count('tunnel'), 1);
  assert.equal(tunnel()!.bytes, '1525');
  assert.notEqual(tunnel()!.state, 'down');
  // A dump that finds the interface made again reads the new peer before it removes the old one: the late removal takes nothing down.
  put(model, peer({ ifindex: 10, rxBytes: 1n, txBytes: 1n }));
  model.remove('wg-peer', peer({ ifindex: 9 }).key);
  await settle();
  assert.notEqual(tunnel()!.state, 'down');
  assert.equal(tunnel()!.bytes, '1527');
  // Removed and set again under the same key, read only once its new counters passed the old ones: both count.
  model.remove('wg-peer', peer({ ifindex: 10 }).key);
  put(model, peer({ ifindex: 10, rxBytes: 5n, txBytes: 5n }));
  await settle();
  assert.equal(tunnel()!.bytes, '1537');
});

test('wireguard tunnel: bytes continuous across a sascope restart (history), and when the interface was made again meanwhile', async () => {
  const first = rig();
  put(first.model, peer({ rxBytes: 1000n, txBytes: 500n, lastHandshake: T0 }));
  await first.settle();
  first.model.remove('wg-peer', peer().key);
  put(first.model, peer({ ifindex: 6, rxBytes: 100n, txBytes: 0n, lastHandshake: T0 }));
  await first.settle();
  assert.equal(first.tunnel()!.bytes, '1600');
  const state = JSON.parse(JSON.stringify(first.tracker.exportState()));
  first.tracker.close();
  // Restart, the peer alive all along: its counters went on.
  const again = rig();
  again.tracker.restore(state);
  put(again.model, peer({ ifindex: 6, rxBytes: 150n, txBytes: 0n, lastHandshake: T0 }));
  await again.settle();
  again.tracker.settle();
  assert.equal(again.tunnel()!.bytes, '1650');
  assert.equal(again.tunnel()!.firstSeen, T0);
  // Restart, the interface made again while sascope was down: what it had counted stays.
  const recreated = rig();
  recreated.tracker.restore(state);
  put(recreated.model, peer({ ifindex: 8, rxBytes: 20n, txBytes: 0n }));
  await recreated.settle();
  recreated.tracker.settle();
  assert.equal(recreated.tunnel()!.bytes, '1620');
});

test('wireguard state and alarm: up while the handshake is fresh; a keepalive peer stale or never handshaken is down and alarmed; a quiet one idle', () => {
  const t = newTunnel(KEY, 'wireguard', { name: 'wg0 peer fHx8fHx8…', src: 'wg0', dst: '' }, T0);
  const row = { name: t.base.name } as Tunnel;
  const at = (p: Partial<WireguardPeer>, now: number, txRoseAt?: number) => {
    t.wg = { peer: peer(p) as unknown as OnWire<WireguardPeer>, readAt: now, txRoseAt };
    return [wireguardPeerState(t, now, th), wireguardPeerAlarms(t, row, now, th).map((a) => `${a.type}: ${a.summary}`)];
  };
  const stale = th.wgHandshakeStaleSeconds * 1000;
  assert.equal(stale, 180_000, 'default: REJECT_AFTER_TIME');
  assert.deepEqual(at({ lastHandshake: T0 }, T0 + stale), ['up', []]);
  assert.deepEqual(at({ lastHandshake: T0 }, T0 + stale + 1), ['idle', []], 'no keepalive, nothing sent: idle, not alarmed');
  assert.deepEqual(at({ lastHandshake: T0, persistentKeepaliveSeconds: 25 }, T0 + stale + 1), ['down', [`wg-handshake-stale: wg0 peer fHx8fHx8…: no handshake since ${new Date(T0).toISOString()}, over 180 s (persistent keepalive every 25 s)`]]);
  // Never handshaken: measured from when sascope first saw the peer.
  assert.deepEqual(at({ persistentKeepaliveSeconds: 25 }, T0 + stale), ['up', []]);
  assert.deepEqual(at({ persistentKeepaliveSeconds: 25 }, T0 + stale + 1), ['down', ['wg-handshake-stale: wg0 peer fHx8fHx8…: no handshake ever completed (persistent keepalive every 25 s)']]);
  assert.deepEqual(at({}, T0 + stale + 1), ['idle', []]);
  // Sending while the handshake is stale (tx rising): expected up; sending that stopped long ago: idle again.
  assert.deepEqual(at({ lastHandshake: T0 }, T0 + stale + 10_000, T0 + stale + 5_000)[0], 'down');
  assert.deepEqual(at({}, T0 + stale + 10_000, T0 + stale + 5_000)[1], ['wg-handshake-stale: wg0 peer fHx8fHx8…: no handshake ever completed (it is sending)']);
  assert.deepEqual(at({ lastHandshake: T0 }, T0 + 3 * stale, T0 + stale + 5_000)[0], 'idle');
  // Traffic that stopped right after a handshake is no reason to expect another one.
  assert.deepEqual(at({ lastHandshake: T0 }, T0 + stale + 1, T0 + 100_000)[0], 'idle');
  t.wg!.deletedAt = T0;
  assert.deepEqual([wireguardPeerState(t, T0 + 1, th), wireguardPeerAlarms(t, row, T0 + 1, th)], ['down', []]);
});

test('wireguard state: a threshold below REKEY_AFTER_TIME + REKEY_TIMEOUT does not make a peer that had a handshake late (its keys are not due yet)', () => {
  const th20 = { ...th, wgHandshakeStaleSeconds: 20 };
  const t = newTunnel(KEY, 'wireguard', { name: 'wg0 peer', src: 'wg0', dst: '' }, T0);
  const at = (p: Partial<WireguardPeer>, now: number, txRoseAt?: number) => {
    t.wg = { peer: peer(p) as unknown as OnWire<WireguardPeer>, readAt: now, txRoseAt };
    return wireguardPeerState(t, now, th20);
  };
  assert.equal(at({ lastHandshake: T0, persistentKeepaliveSeconds: 25 }, T0 + 20_001), 'idle', 'keepalive, keys 20 s old: not due');
  assert.equal(at({ lastHandshake: T0 }, T0 + 60_000, T0 + 55_000), 'idle', 'sending on 55 s old keys: not due');
  assert.equal(at({ lastHandshake: T0, persistentKeepaliveSeconds: 25 }, T0 + 125_001), 'down');
  assert.equal(at({ lastHandshake: T0 }, T0 + 130_000, T0 + 126_000), 'down');
  assert.equal(at({ persistentKeepaliveSeconds: 25 }, T0 + 20_001), 'down', 'never a handshake: the threshold alone');
});

test('wireguard tunnel: the clock turns a keepalive peer stale (alarm raised at the tick), a handshake clears it; tx rising is seen between reads', async () => {
  const { model, clock, tracker, settle, tunnel, alarms } = rig();
  put(model, peer({ persistentKeepaliveSeconds: 25, lastHandshake: T0, txBytes: 10n }));
  await settle();
  assert.equal(tunnel()!.state, 'up');
  clock.now = T0 + 180_001;
  tracker.tick();
  assert.equal(tunnel()!.state, 'down');
  assert.deepEqual(alarms().map((a) => [a.type, a.ref]), [['wg-handshake-stale', `tunnel:${KEY}`]]);
  put(model, peer({ persistentKeepaliveSeconds: 25, lastHandshake: T0 + 180_000, txBytes: 20n }));
  await settle();
  assert.equal(tunnel()!.state, 'up');
  assert.deepEqual(alarms(), []);
  // No keepalive: stale and idle; then sending with no handshake coming is expected up.
  put(model, peer({ lastHandshake: T0 + 180_000, txBytes: 20n }));
  await settle();
  clock.now = T0 + 400_000;
  tracker.tick();
  assert.equal(tunnel()!.state, 'idle');
  assert.deepEqual(alarms(), []);
  put(model, peer({ lastHandshake: T0 + 180_000, txBytes: 168n }));
  await settle();
  assert.equal(tunnel()!.state, 'down');
  assert.deepEqual(alarms().map((a) => a.type), ['wg-handshake-stale']);
  // Idle tunnels are not rebuilt by the tick (the clock does not change them until a threshold).
  clock.now = T0 + 400_000 + 180_001;
  tracker.tick();
  assert.equal(tunnel()!.state, 'idle', 'it stopped sending 180 s ago');
  assert.deepEqual(alarms(), []);
});

test('config: alarms.wgHandshakeStaleSeconds defaults to 180, takes a positive integer and refuses anything else by name', () => {
  assert.equal(parseConfig('c.json', '{"alarms":{"wgHandshakeStaleSeconds":30}}').alarms.wgHandshakeStaleSeconds, 30);
  for (const bad of ['0', '-5', '1.5', '"180"']) assert.throws(() => parseConfig('c.json', `{"alarms":{"wgHandshakeStaleSeconds":${bad}}}`), /c\.json: alarms\.wgHandshakeStaleSeconds/);
});

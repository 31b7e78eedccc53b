// The tunnel alarm rules called directly, with no model and no tracker: a tunnel as the tracker keeps it,
// its row as built in a pass, the default thresholds and a clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { markFailures, ovpnPeerAlarms, sourceAlarms, xfrmAlarmsFollowClock, xfrmTunnelAlarms } from '../../../server/model/tunnels/alarm-rules.ts';
import { newTunnel, type Sa, type SaTrack, type TunnelTrack } from '../../../server/model/tunnels/track.ts';
import { parseConfig } from '../../../server/config.ts';
import type { OnWire } from '../../../server/wire/entities.ts';
import type { OvpnPeer } from '../../../server/wire/ovpn.ts';
import type { Countdown, Rotation, Tunnel } from '../../../server/wire/tunnels.ts';

const T0 = 1_800_000_000_000; // ms
const th = parseConfig('t', '{}').alarms; // expiring soon 120 s, rekey overdue 30 s, peer deleted held 300 s

function liveSa(spi: number, o: Partial<SaTrack> = {}): SaTrack {
  return { key: `sa${spi}`, tunnel: 'x', spi, addedAt: T0, order: spi, bytes: 0n, packets: 0n, integrityFailed: 0, replay: 0, replayWindow: 0, value: {} as Sa, ...o };
}

/** An XFRM tunnel with these live SAs (newest first), and its row with this countdown. */
function xfrm(live: SaTrack[], countdown?: Countdown): { t: TunnelTrack; row: Tunnel } {
  const t = newTunnel('xfrm:t', 'xfrm', { name: 'A → B esp', src: 'A', dst: 'B' }, T0);
  t.live = live;
  const row: Tunnel = { key: t.key, family: 'xfrm', name: t.base.name, src: 'A', dst: 'B', policies: [], state: live.length ? 'up' : 'down', sas: live.map((s) => s.key), firstSeen: T0, bytes: 0n, packets: 0n, integrityFailed: 0, replayFailed: 0, replayWindowFailed: 0, rotations: 0, alarms: [], ...(countdown ? { countdown } : {}) };
  return { t, row };
}

const types = (t: TunnelTrack, row: Tunnel, now: number) => xfrmTunnelAlarms(t, row, now, th).map((w) => w.type);

test('expiring-soon: a tunnel whose hard expiry is near raises it at the threshold, not a millisecond before', () => {
  const hard = T0 + 600_000;
  const { t, row } = xfrm([liveSa(1)], { hardExpiresAt: hard });
  assert.deepEqual(types(t, row, hard - 120_001), []);
  const at = xfrmTunnelAlarms(t, row, hard - 120_000, th);
  assert.deepEqual(at.map((w) => [w.type, w.value, w.summary]), [['expiring-soon', 120, 'A → B esp: SA 0x00000001 hard-expires in 120 s']]);
  assert.equal(xfrmTunnelAlarms(t, row, hard + 5_000, th)[0]?.value, 0, 'past the limit it counts 0, never below');
  // The tick rebuilds it from the threshold on, not before.
  assert.equal(xfrmAlarmsFollowClock(t, row, hard - 120_001, th), false);
  assert.equal(xfrmAlarmsFollowClock(t, row, hard - 120_000, th), true);
});

test('expiring-soon waits while a rekey can still beat the hard limit: soft limit ahead, or a rotation overlapping', () => {
  const hard = T0 + 100_000;
  const soft = T0 + 90_000;
  const { t, row } = xfrm([liveSa(1)], { softExpiresAt: soft, hardExpiresAt: hard });
  assert.deepEqual(types(t, row, soft - 1), [], 'within 120 s of hard, but the soft limit is still ahead');
  assert.deepEqual(types(t, row, soft), ['expiring-soon']);
  t.open = new Map([['sa1', {} as Rotation]]);
  assert.deepEqual(types(t, row, soft), [], 'a new SA is overlapping: the rekey is under way');
});

test('rekey-overdue: raised rekeyOverdueSeconds after the soft expire, counting from the kernel\'s event when there was one', () => {
  const { t, row } = xfrm([liveSa(1, { softExpiredAt: T0 })]);
  assert.deepEqual(types(t, row, T0 + 29_999), []);
  assert.deepEqual(xfrmTunnelAlarms(t, row, T0 + 30_000, th).map((w) => [w.type, w.severity, w.value]), [['rekey-overdue', 'critical', 30]]);
  const bySoftLimit = xfrm([liveSa(1)], { softExpiresAt: T0 + 10_000 });
  assert.deepEqual(types(bySoftLimit.t, bySoftLimit.row, T0 + 39_999), []);
  assert.deepEqual(types(bySoftLimit.t, bySoftLimit.row, T0 + 40_000), ['rekey-overdue']);
});

test('a tunnel with no SA left: hard-expired when its last SA reached the hard limit, else tunnel-down', () => {
  const { t, row } = xfrm([]);
  assert.deepEqual(types(t, row, T0), [], 'never had an SA go');
  t.lastGone = { sa: liveSa(7), at: T0, cause: 'hard-expire' };
  assert.deepEqual(types(t, row, T0 + 3_600_000), ['hard-expired']);
  t.lastGone = { sa: liveSa(7), at: T0, cause: 'manual' };
  assert.deepEqual(types(t, row, T0), ['tunnel-down']);
});

test('integrity failures rising: counted from the baseline mark at the window start', () => {
  const { t, row } = xfrm([liveSa(1)]);
  markFailures(t, row, T0, th);
  row.integrityFailed = 3;
  markFailures(t, row, T0 + 10_000, th);
  assert.deepEqual(xfrmTunnelAlarms(t, row, T0 + 10_000, th).map((w) => [w.type, w.value]), [['integrity-failures', 3]]);
  markFailures(t, row, T0 + 70_000, th); // 60 s after the rise the rise is the baseline
  assert.deepEqual(types(t, row, T0 + 70_000), []);
});

test('offload-fallback: the current SA is not offloaded where an earlier one was', () => {
  const { t, row } = xfrm([liveSa(2)]);
  assert.deepEqual(types(t, row, T0), []);
  t.everOffloaded = true;
  assert.deepEqual(types(t, row, T0), ['offload-fallback']);
  t.live = [liveSa(2, { offload: 'crypto@3' })];
  assert.deepEqual(types(t, row, T0), []);
});

test('ovpn: a deleted peer is held for peerDeletedHoldSeconds; a key swap the kernel asked for is raised while the peer lives', () => {
  const t = newTunnel('ovpn:5:1', 'ovpn', { name: 'ovpn0 peer 1', src: '', dst: '' }, T0);
  const row = xfrm([]).row;
  assert.deepEqual(ovpnPeerAlarms(t, row, T0, th), [], 'no peer seen');
  t.peer = { state: 'rekey-needed' } as OnWire<OvpnPeer>;
  assert.deepEqual(ovpnPeerAlarms(t, row, T0, th).map((w) => w.type), ['ovpn-key-swap-needed']);
  t.peerDeletedAt = T0;
  assert.deepEqual(ovpnPeerAlarms(t, row, T0 + 299_999, th).map((w) => w.type), ['peer-deleted']);
  assert.deepEqual(ovpnPeerAlarms(t, row, T0 + 300_000, th), []);
});

test('a source raises source-stale: a warning when stale, critical when failed, nothing when ok', () => {
  const s = { id: 'xfrm-sa', label: 'XFRM SAs', since: 0, resyncs: 0, decodeErrors: 0 };
  assert.deepEqual(sourceAlarms({ ...s, state: 'ok' }), []);
  assert.deepEqual(sourceAlarms({ ...s, state: 'stale', reason: 'ENOBUFS' }), [{ type: 'source-stale', severity: 'warning', summary: 'XFRM SAs is stale: ENOBUFS' }]);
  assert.deepEqual(sourceAlarms({ ...s, state: 'error' }).map((w) => w.severity), ['critical']);
});

// History in SQLite: batched writes, reads with since/limit/filters, rotations upserted once, alarms raised
// and cleared, samples only when counters move, a restart leaves a gap (clean or crash) and restores the
// tunnels' counter state, retention, WAL checkpoint on close, an unwritable file is a status not a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { History } from '../../../server/history/history.ts';
import { Model } from '../../../server/model/model.ts';
import { memoryLogger } from '../memlog.ts';
import type { Rotation } from '../../../server/wire/tunnels.ts';

const T0 = 1_800_000_000_000;
function rig(dir = mkdtempSync(path.join(tmpdir(), 'sascope-hist-')), now = { t: T0 }) {
  const model = new Model();
  const h = new History(model, memoryLogger().log, { dataDir: dir, retentionDays: 7, sampleSeconds: 60, flushMs: 60_000, now: () => now.t });
  return { dir, model, h, now };
}
const rot = (n: number, state: Rotation['state'], time = T0): Rotation => ({ key: `t#${n}@${time}`, family: 'xfrm', tunnel: 't', tunnelName: 'a → b', time, cause: 'soft-expire', oldSpi: n - 1, newSpi: n, state });

test('events, rotations and alarms are written in batches and read back with filters', async () => {
  const { model, h, now } = rig();
  h.open();
  assert.equal((model.get('source', 'history') as { state: string }).state, 'ok');
  model.event({ source: 'xfrm-sa', type: 'NEWSA', summary: 'a', ref: 'sa:1' });
  model.event({ source: 'xfrm-sa', type: 'NEWAE', summary: 'counter refresh', ref: 'sa:1' });
  await new Promise((r) => setTimeout(r, 5));
  const later = Date.now(); // model events carry the real clock
  model.event({ source: 'link', type: 'NEWLINK', summary: 'b' });
  h.rotation(rot(2, 'overlapping'));
  h.rotation({ ...rot(2, 'done'), overlapMs: 1500 });
  const alarm = { key: 'expiring-soon:tunnel:t', type: 'expiring-soon' as const, severity: 'warning' as const, ref: 'tunnel:t', summary: 's', since: now.t };
  h.alarmRaised(alarm);
  h.alarmCleared(alarm, now.t + 5000);
  const all = h.events({ limit: 10 });
  assert.deepEqual(all.events.map((e) => e.type), ['NEWLINK', 'NEWSA', 'started'], 'newest first; NEWAE not kept');
  assert.equal(h.events({ limit: 10, source: 'xfrm-sa' }).events.length, 1);
  assert.equal(h.events({ limit: 10, ref: 'sa:1' }).events.length, 1);
  assert.deepEqual(h.events({ limit: 10, since: later }).events.map((e) => e.type), ['NEWLINK']);
  const lim = h.events({ limit: 1 });
  assert.equal(lim.events.length, 1);
  assert.equal(lim.truncated, true);
  const r = h.rotations({ limit: 10 });
  assert.equal(r.rotations.length, 1, 'one row per rotation');
  assert.equal(r.rotations[0]!.state, 'done');
  assert.equal(r.rotations[0]!.overlapMs, 1500);
  const a = h.alarms({ limit: 10 });
  assert.equal(a.history.length, 1);
  assert.equal(a.history[0]!.clearedAt, now.t + 5000);
  h.close();
});

test('a restart is a gap (clean, then crash), counters state comes back, the WAL is checkpointed on close', () => {
  const first = rig();
  first.h.trackStateFrom(() => [{ key: 't', firstSeen: T0, retiredBytes: '1000', retiredPackets: '10', retiredIntegrity: 0, retiredReplay: 0, retiredReplayWindow: 0, rotations: 3, sas: [] }]);
  first.h.open();
  first.model.upsert('tunnel', 't', { key: 't', bytes: 1000n, packets: 10n, integrityFailed: 0, replayFailed: 0, rotations: 3 });
  first.h.sample();
  first.now.t += 30_000;
  first.h.sample(); // unchanged: no second row
  first.h.close();
  const file = path.join(first.dir, 'history.sqlite');
  assert.ok(!existsSync(`${file}-wal`) || statSync(`${file}-wal`).size === 0, 'WAL checkpointed into the file');
  // Second run, 10 minutes later; then it "crashes" (no close).
  const now = { t: T0 + 600_000 };
  const second = rig(first.dir, now);
  const states = second.h.open();
  assert.equal(states.length, 1);
  assert.equal(states[0]!.retiredBytes, '1000');
  assert.equal(states[0]!.rotations, 3);
  const info = second.h.info();
  assert.equal(info.gaps.length, 1);
  assert.deepEqual(info.gaps[0], { from: T0 + 30_000, to: T0 + 600_000, how: 'clean' });
  const s = second.h.samples({ tunnel: 't', limit: 10 });
  assert.equal(s.samples.length, 1);
  assert.equal(s.samples[0]!.bytes, '1000');
  second.model.event({ source: 'x', type: 'y', summary: 'z' });
  now.t += 5000;
  second.h.flush(); // last write of the second run at +605 s, then it dies
  const third = rig(first.dir, { t: T0 + 900_000 });
  third.h.open();
  const gaps = third.h.info().gaps;
  assert.equal(gaps.length, 2);
  assert.deepEqual(gaps[0], { from: T0 + 605_000, to: T0 + 900_000, how: 'crash' });
  const stopped = third.h.events({ limit: 20, type: 'stopped' }).events;
  assert.ok(stopped.some((e) => e.time === T0 + 605_000 && /unexpectedly/.test(e.summary)), 'the crash is marked at the last write');
  assert.ok(stopped.some((e) => e.time === T0 + 30_000), 'the clean stop');
  third.h.close();
});

test('retention drops what is older than retentionDays', () => {
  const { h, now } = rig();
  h.open();
  h.rotation(rot(1, 'done', T0));
  now.t += 8 * 86_400_000;
  h.rotation(rot(2, 'done', now.t));
  h.flush();
  h.applyRetention();
  assert.deepEqual(h.rotations({ limit: 10 }).rotations.map((r) => r.newSpi), [2]);
  h.close();
});

test('an unwritable data dir: history is not-available with the reason, nothing throws', () => {
  // A "directory" under a regular file: ENOTDIR even for root (a chmod 0500 directory would not stop root).
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'sascope-hist-')), 'a-file');
  writeFileSync(file, '');
  const dir = path.join(file, 'data');
  const { model, h } = rig(dir);
  assert.deepEqual(h.open(), []);
  const st = model.get('source', 'history') as { state: string; reason: string };
  assert.equal(st.state, 'not-available');
  assert.match(st.reason, /history\.sqlite: /);
  assert.equal(h.available, false);
  model.event({ source: 'a', type: 'b', summary: 'c' });
  h.flush();
  h.close();
});

test('a write that fails (a closed/broken database) turns the status to error and keeps the queue bounded', () => {
  const { model, h } = rig();
  h.open();
  (h as unknown as { db: { close(): void } }).db.close(); // every statement now throws
  for (let i = 0; i < 10; i++) model.event({ source: 'a', type: 'b', summary: String(i) });
  h.flush();
  const st = model.get('source', 'history') as { state: string; reason: string };
  assert.equal(st.state, 'error');
  assert.equal(h.metrics().queued, 11, 'kept for the next try (started + 10)');
});

test("a source's stale span is kept and comes back as a gap with its tunnels' samples (an open one ends now)", () => {
  const { model, h, now } = rig();
  h.open();
  const status = (state: 'ok' | 'stale') => model.status({ id: 'xfrm-sa', label: 'XFRM SAs', state, since: now.t, resyncs: 0, decodeErrors: 0 });
  status('ok');
  now.t += 60_000;
  status('stale');
  now.t += 120_000;
  status('ok');
  now.t += 60_000;
  status('stale');
  model.status({ id: 'ovpn', label: 'ovpn', state: 'stale', since: now.t, resyncs: 0, decodeErrors: 0 });
  now.t += 30_000;
  const gaps = h.samples({ tunnel: 'xfrm:esp:a>b:reqid=1', limit: 10 }).gaps;
  assert.deepEqual(gaps, [
    { from: T0 + 240_000, to: T0 + 270_000, how: 'stale', source: 'xfrm-sa' },
    { from: T0 + 60_000, to: T0 + 180_000, how: 'stale', source: 'xfrm-sa' },
  ], "newest first, only the tunnel's own source");
  assert.deepEqual(h.samples({ tunnel: 'xfrm:esp:a>b:reqid=1', since: T0 + 200_000, limit: 10 }).gaps.length, 1, 'within the window');
  h.close();
});

test('a read with nothing queued writes nothing (the run row is left to the flush timer)', async () => {
  const { h, now, dir } = rig();
  h.open();
  h.flush();
  now.t += 5000;
  h.samples({ tunnel: 'xfrm:esp:a>b:reqid=1', limit: 10 });
  h.rotations({ limit: 10 });
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(path.join(dir, 'history.sqlite'), { readonly: true });
  assert.equal((db.prepare('SELECT last_seen FROM runs ORDER BY id DESC LIMIT 1').get() as { last_seen: number }).last_seen, T0);
  db.close();
  h.close();
});

test("the fleet console: a host's rotations and alarms from its rows under the console's keys, a host alarm that changes type is cleared and raised again, a host not up is a blind span", () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sascope-hist-'));
  const now = { t: T0 };
  const model = new Model();
  const h = new History(model, memoryLogger().log, { dataDir: dir, retentionDays: 7, sampleSeconds: 60, flushMs: 60_000, now: () => now.t, fleet: true });
  h.open();
  const host = (state: string, lastSeen: number) => model.upsert('host', 'gw1', { key: 'gw1', host: 'gw1', state, lastSeen, since: now.t });
  host('up', now.t);
  model.upsert('rotation', `gw1/${rot(2, 'done').key}`, { ...rot(2, 'done'), key: `gw1/${rot(2, 'done').key}`, host: 'gw1' });
  model.upsert('alarm', 'gw1/replay-failures:tunnel:t', { key: 'gw1/replay-failures:tunnel:t', host: 'gw1', type: 'replay-failures', severity: 'warning', ref: 'tunnel:t', summary: 's', since: now.t });
  model.upsert('alarm', 'gw1/replay-failures:tunnel:t', { key: 'gw1/replay-failures:tunnel:t', host: 'gw1', type: 'replay-failures', severity: 'warning', ref: 'tunnel:t', summary: 's, more', since: now.t });
  now.t += 10_000;
  host('stale', now.t - 5000); // heard last 5 s ago
  model.upsert('alarm', 'gw1/host', { key: 'gw1/host', host: 'gw1', type: 'host-stale', severity: 'warning', ref: 'host:gw1', summary: 'stale', since: now.t });
  now.t += 10_000;
  host('unreachable', now.t - 15_000);
  model.upsert('alarm', 'gw1/host', { key: 'gw1/host', host: 'gw1', type: 'host-unreachable', severity: 'critical', ref: 'host:gw1', summary: 'unreachable', since: now.t });
  now.t += 10_000;
  host('up', now.t);
  model.remove('alarm', 'gw1/host');
  model.remove('alarm', 'gw1/replay-failures:tunnel:t');
  assert.deepEqual(h.rotations({ limit: 10, tunnel: 'gw1/t' }).rotations.map((r) => [r.key, r.tunnel]), [['gw1/t#2@1800000000000', 't']], "under the console's tunnel key; the row as sent");
  assert.deepEqual(h.alarms({ limit: 10, ref: 'tunnel:gw1/t' }).history.map((a) => [a.type, a.since - T0, a.clearedAt! - T0]), [['replay-failures', 0, 30_000]], 'raised once, cleared when removed');
  assert.deepEqual(h.alarms({ limit: 10, ref: 'host:gw1' }).history.map((a) => [a.type, a.clearedAt! - T0]), [['host-unreachable', 30_000], ['host-stale', 20_000]]);
  assert.deepEqual(h.samples({ limit: 10, tunnel: 'gw1/xfrm:esp:a>b:reqid=1' }).gaps.map((g) => [g.how, g.source, g.from - T0, g.to - T0]), [['stale', 'host:gw1', 5000, 30_000]], 'blind from the last thing heard until up again');
  assert.deepEqual(h.samples({ limit: 10, tunnel: 'xfrm:esp:a>b:reqid=1' }).gaps, [], "not another host's, nor a local tunnel's");
  h.close();
});

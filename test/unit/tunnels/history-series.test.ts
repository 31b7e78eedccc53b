// Chart series from history samples: rates from continuous counters, idle time as zero, unseen spans
// (sascope stopped, a source stale) and counter resets as breaks (null), rotations inside a sample counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_CHART_POINTS, alignSeries, buildSeries, clipSpans, rangeOf, seriesCsv, thinSeries, utcOffset } from '../../../components/tunnels/history-series.ts';
import type { TunnelSample } from '../../../server/history/reader.ts';

const T0 = Date.UTC(2026, 11, 1, 0, 0, 0);
const s = (min: number, bytes: number, packets: number, over: Partial<TunnelSample> = {}): TunnelSample => ({
  time: T0 + min * 60_000, bytes: String(bytes), packets: String(packets), integrityFailed: 0, replayFailed: 0, rotations: 0, ...over,
});

test('rates per second from consecutive samples; the first sample is a base (null)', () => {
  const r = buildSeries([s(0, 0, 0), s(1, 6000, 60), s(2, 18000, 120)], [], 60);
  assert.deepEqual(r.time, [T0 / 1000, T0 / 1000 + 60, T0 / 1000 + 120]);
  assert.deepEqual(r.bytesPerSecond, [null, 100, 200]);
  assert.deepEqual(r.packetsPerSecond, [null, 1, 1]);
});

test('rows skipped because counters did not move are idle time (zero), the change falls in the last step', () => {
  const r = buildSeries([s(0, 0, 0), s(10, 6000, 60)], [], 60);
  assert.deepEqual(r.time.map((t) => (t * 1000 - T0) / 60_000), [0, 1, 9, 10]);
  assert.deepEqual(r.bytesPerSecond, [null, 0, 0, 100]);
});

test('a gap (sascope not running) is a break, never zero or a line across; the row after it is a new base', () => {
  const gap = { from: T0 + 1.5 * 60_000, to: T0 + 30 * 60_000 };
  const r = buildSeries([s(0, 0, 0), s(1, 6000, 60), s(31, 1_000_000, 9000), s(32, 1_006_000, 9060)], [gap], 60);
  assert.deepEqual(r.time.map((t) => (t * 1000 - T0) / 60_000), [0, 1, 1.5, 31, 32]);
  assert.deepEqual(r.bytesPerSecond, [null, 100, null, null, 100]);
  assert.ok(!r.bytesPerSecond.includes(0), 'nothing in the gap is drawn as zero');
});

test('a stale span counts as a gap too', () => {
  const r = buildSeries([s(0, 0, 0), s(1, 600, 6), s(5, 6000, 60)], [{ from: T0 + 2 * 60_000, to: T0 + 4 * 60_000 }], 60);
  assert.deepEqual(r.bytesPerSecond, [null, 10, null, null]);
});

test('counters that go down (a restart without saved totals) are a new base, not negative traffic', () => {
  const r = buildSeries([s(0, 50_000, 500), s(1, 56_000, 560), s(2, 600, 6), s(3, 6600, 66)], [], 60);
  assert.deepEqual(r.bytesPerSecond, [null, 100, null, 100]);
  assert.ok(r.bytesPerSecond.every((v) => v === null || v >= 0));
});

test('a rotation inside a sample keeps the rate (totals are continuous across rekeys) and is counted', () => {
  const r = buildSeries([s(0, 0, 0), s(1, 6000, 60, { rotations: 2 }), s(2, 12000, 120, { rotations: 3, integrityFailed: 4, replayFailed: 1 })], [], 60);
  assert.deepEqual(r.bytesPerSecond, [null, 100, 100]);
  assert.deepEqual(r.rotations, [null, 2, 1]);
  assert.deepEqual(r.integrityPerMinute, [null, 0, 4]);
  assert.deepEqual(r.replayPerMinute, [null, 0, 1]);
});

test('idle time after the last row reaches the end of the record, unless a gap is there', () => {
  assert.deepEqual(buildSeries([s(0, 0, 0), s(1, 600, 6)], [], 60, T0 + 10 * 60_000).bytesPerSecond, [null, 10, 0, 0]);
  assert.deepEqual(buildSeries([s(0, 0, 0), s(1, 600, 6)], [{ from: T0 + 5 * 60_000, to: T0 + 9 * 60_000 }], 60, T0 + 10 * 60_000).bytesPerSecond, [null, 10]);
});

test('a week of 60 s samples builds in well under a second', () => {
  const rows: TunnelSample[] = [];
  for (let i = 0; i < 7 * 1440; i++) rows.push(s(i, i * 1000, i * 10));
  const t = performance.now();
  const r = buildSeries(rows, [], 60);
  const ms = performance.now() - t;
  assert.equal(r.time.length, rows.length);
  assert.ok(ms < 200, `${ms} ms`);
});

test('past 20,000 points the charts get a thinned copy: min and max of each rate per column, gaps kept, in time order', () => {
  // A week of 10 s samples (60,480 rows): a steady 1000 B/s with one 1-sample peak, one dip and a gap.
  const rows: TunnelSample[] = [];
  let bytes = 0;
  const peakAt = 30_000;
  const dipAt = 45_000;
  for (let i = 0; i < 60_480; i++) {
    bytes += i === peakAt ? 900_000 : i === dipAt ? 0 : 10_000;
    if (i < 20_000 || i > 20_100) rows.push({ time: T0 + i * 10_000, bytes: String(bytes), packets: String(i), integrityFailed: 0, replayFailed: i === peakAt ? 7 : 0, rotations: 0 });
  }
  const gap = { from: T0 + 20_000 * 10_000 + 5000, to: T0 + 20_100 * 10_000 };
  const full = buildSeries(rows, [gap], 10);
  assert.ok(full.time.length > MAX_CHART_POINTS);
  const t0 = performance.now();
  const thin = thinSeries(full, 1600);
  const ms = performance.now() - t0;
  assert.ok(thin.time.length <= 1600 * 8 + 10 && thin.time.length < MAX_CHART_POINTS, `${thin.time.length} points`);
  assert.ok(ms < 200, `thinned in ${ms.toFixed(0)} ms`);
  assert.deepEqual(thin.time, [...thin.time].sort((x, y) => x - y), 'in time order');
  assert.equal(Math.max(...thin.bytesPerSecond.map((v) => v ?? 0)), 90_000, 'the peak is kept');
  assert.equal(Math.min(...thin.bytesPerSecond.filter((v): v is number => v !== null)), 0, 'the dip is kept');
  assert.equal(Math.max(...thin.replayPerMinute.map((v) => v ?? 0)), 42, "the peak's replay failures are kept");
  // The break: the same null points as the full series, at the same times (uPlot stops the line there).
  const nulls = (x: typeof full) => x.time.filter((_, i) => x.bytesPerSecond[i] === null);
  assert.deepEqual(nulls(thin), nulls(full));
  assert.ok(nulls(thin).some((t) => t * 1000 >= gap.from && t * 1000 <= gap.to + 10_000), 'a null inside the gap');
  // Below the bound a series is drawn as it is.
  const small = buildSeries(rows.slice(0, 1000), [], 10);
  assert.equal(thinSeries(small, 1600), small);
});

test('two series on one axis: each keeps its own points, undefined where it has none', () => {
  const a = buildSeries([s(0, 0, 0), s(1, 600, 6)], [], 60);
  const b = buildSeries([s(0.5, 0, 0), s(1, 300, 3)], [], 60);
  const [x, va, vb] = alignSeries(a, b, (q) => q.bytesPerSecond);
  assert.deepEqual(x.map((t) => (t * 1000 - T0) / 60_000), [0, 0.5, 1]);
  assert.deepEqual(va, [null, undefined, 10]);
  assert.deepEqual(vb, [undefined, null, 10]);
});

test('spans are clipped to the window and merged', () => {
  assert.deepEqual(clipSpans([{ from: 0, to: 10 }, { from: 5, to: 20 }, { from: 30, to: 40 }, { from: 50, to: 60 }], 2, 35), [{ from: 2, to: 20 }, { from: 30, to: 35 }]);
});

test('CSV: one row per point, empty cells where nothing is known', () => {
  const csv = seriesCsv(buildSeries([s(0, 0, 0), s(1, 6000, 60)], [], 60));
  assert.equal(csv, 'time,bytes_per_s,packets_per_s,integrity_failures_per_min,replay_failures_per_min,rotations\n2026-12-01T00:00:00.000Z,,,,,\n2026-12-01T00:01:00.000Z,100,1,0,0,0\n');
});

test('ranges: named windows end now, custom keeps its bounds, a bad one falls back to 24 h', () => {
  const now = T0;
  assert.deepEqual(rangeOf('7d', null, null, now), { name: '7d', since: now - 7 * 86_400_000, until: now, live: true });
  assert.deepEqual(rangeOf('custom', '2026-11-30T00:00:00Z', '2026-11-30T06:00:00Z', now), { name: 'custom', since: Date.UTC(2026, 10, 30), until: Date.UTC(2026, 10, 30, 6), live: false });
  assert.equal(rangeOf('custom', 'x', null, now).name, '24h');
  assert.match(utcOffset(now), /^UTC[+−]\d\d:\d\d$/);
});

test('the wall strip: a path over the hour, a new segment after a gap', async () => {
  const { stripPath } = await import('../../../components/tunnels/RateStrip.tsx');
  const t = (min: number) => (T0 + min * 60_000) / 1000;
  assert.equal(stripPath([t(0), t(30), t(31), t(60)], [0, 10, null, 5], T0, T0 + 3600_000, 300, 40), 'M0.0 40.0L150.0 1.0M300.0 20.5');
});

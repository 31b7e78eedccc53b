// Chart series of one tunnel from its history samples (server/history): rates from the tunnel's continuous
// counters, with what was not seen left as null (uPlot draws a break), never as zero or a line across.
//
// What a sample means (server/history/history.ts): every sampleSeconds a pass writes a row for a tunnel
// whose counters moved since its last row. So between two rows a step or more apart, the passes in between
// saw the same counters: the tunnel was idle (zero) until the pass before the later row, and the later
// row's change happened within its last step. A span sascope did not see (not running, the source stale)
// breaks the line; the first row after it is only a new base (its change may include the unseen time), as
// is a row whose counters went down (a new total after a restart without saved state). The tunnel's totals
// are continuous across rekeys, so a rotation inside a sample is counted, not taken for a reset.
import type { TunnelSample } from '@/server/wire/tunnels';

export interface Span {
  from: number;
  to: number;
}

/** Columns for uPlot: times in seconds, rates per second, failures per minute; null where nothing is known. */
export interface TunnelSeries {
  time: number[];
  bytesPerSecond: Array<number | null>;
  packetsPerSecond: Array<number | null>;
  integrityPerMinute: Array<number | null>;
  replayPerMinute: Array<number | null>;
  /** Rotations counted in the interval ending at the point. */
  rotations: Array<number | null>;
}

export function emptySeries(): TunnelSeries {
  return { time: [], bytesPerSecond: [], packetsPerSecond: [], integrityPerMinute: [], replayPerMinute: [], rotations: [] };
}

/** The first span that overlaps (from, to], if any. */
function spanWithin(spans: Span[], from: number, to: number): Span | undefined {
  return spans.find((s) => s.from < to && s.to > from);
}

/**
 * Series from samples (oldest first or not), the spans not seen (gaps and stale spans), the sampling step,
 * and optionally the time the record reaches (now, when sascope is running): the idle time after the last
 * row is zero up to it. Counters are read as doubles: exact up to 2^53 (8 PiB), and a rate needs no more.
 */
export function buildSeries(samples: TunnelSample[], unseen: Span[], stepSeconds: number, endAt?: number): TunnelSeries {
  const out = emptySeries();
  const step = stepSeconds * 1000;
  const rows = samples.every((r, i) => i === 0 || samples[i - 1]!.time <= r.time) ? samples : [...samples].sort((a, b) => a.time - b.time);
  const spans = [...unseen].sort((a, b) => a.from - b.from);
  const { time, bytesPerSecond, packetsPerSecond, integrityPerMinute, replayPerMinute, rotations } = out;
  const point = (ms: number, b: number | null, p: number | null, i: number | null, r: number | null, rot: number | null) => {
    time.push(ms / 1000);
    bytesPerSecond.push(b);
    packetsPerSecond.push(p);
    integrityPerMinute.push(i);
    replayPerMinute.push(r);
    rotations.push(rot);
  };
  /** Idle from `from` (a row) to `to`: zero at the next pass and at `to`. */
  const idle = (from: number, to: number) => {
    if (to - from > step * 1.5) {
      point(from + step, 0, 0, 0, 0, 0);
      if (to - step > from + step) point(to - step, 0, 0, 0, 0, 0);
    }
  };
  let span = 0; // spans are sorted by start: the first that may still overlap
  let prevTime = 0;
  let pb = 0;
  let pp = 0;
  for (let i = 0; i < rows.length; i++) {
    const cur = rows[i]!;
    const cb = Number(cur.bytes);
    const cp = Number(cur.packets);
    const prev = rows[i - 1];
    if (!prev) point(cur.time, null, null, null, null, null); // the first row is a base: no rate yet
    else {
      while (span < spans.length && spans[span]!.to <= prevTime) span++;
      const gap = spanWithin(spans.slice(span, span + 4), prevTime, cur.time);
      const di = cur.integrityFailed - prev.integrityFailed;
      const dr = cur.replayFailed - prev.replayFailed;
      const drot = cur.rotations - prev.rotations;
      if (gap) {
        idle(prevTime, Math.max(prevTime, gap.from));
        point(Math.max(prevTime + 1, gap.from), null, null, null, null, null);
        point(cur.time, null, null, null, null, null);
      } else if (cb < pb || cp < pp || di < 0 || dr < 0 || drot < 0) {
        point(cur.time, null, null, null, null, null); // counters went down: a new total, not negative traffic
      } else {
        const dt = cur.time - prevTime;
        let over = dt;
        if (dt > step * 1.5) {
          idle(prevTime, cur.time);
          over = step;
        }
        const sec = over / 1000;
        point(cur.time, (cb - pb) / sec, (cp - pp) / sec, (di * 60) / sec, (dr * 60) / sec, drot);
      }
    }
    prevTime = cur.time;
    pb = cb;
    pp = cp;
  }
  const last = rows[rows.length - 1];
  if (last && endAt !== undefined && !spanWithin(spans, last.time, endAt)) idle(last.time, endAt);
  return out;
}

/** Points per series past which the charts are given a thinned copy (uPlot draws ~100k, but each live tick redraws). */
export const MAX_CHART_POINTS = 20_000;

/**
 * A series thinned for drawing `buckets` columns wide (about one per pixel): in each bucket of the time axis
 * the points holding the minimum and maximum of each rate, in time order — peaks and dips stay where they
 * were — and every null point, so a gap still breaks the line. The CSV takes the whole series.
 */
export function thinSeries(s: TunnelSeries, buckets: number): TunnelSeries {
  const n = s.time.length;
  if (n <= MAX_CHART_POINTS || n < 2) return s;
  const cols = [s.bytesPerSecond, s.packetsPerSecond, s.integrityPerMinute, s.replayPerMinute];
  const t0 = s.time[0]!;
  const width = (s.time[n - 1]! - t0) / buckets || 1;
  const keep = new Uint8Array(n);
  let start = 0;
  while (start < n) {
    const b = Math.floor((s.time[start]! - t0) / width);
    let end = start;
    while (end < n && Math.floor((s.time[end]! - t0) / width) === b) end++;
    for (const col of cols) {
      let lo = -1;
      let hi = -1;
      for (let i = start; i < end; i++) {
        const v = col[i];
        if (v === null || v === undefined) continue;
        if (lo < 0 || v < col[lo]!) lo = i;
        if (hi < 0 || v > col[hi]!) hi = i;
      }
      if (lo >= 0) keep[lo] = keep[hi] = 1;
    }
    for (let i = start; i < end; i++) if (s.bytesPerSecond[i] === null) keep[i] = 1;
    start = end;
  }
  const out = emptySeries();
  for (let i = 0; i < n; i++) {
    if (!keep[i]) continue;
    out.time.push(s.time[i]!);
    out.bytesPerSecond.push(s.bytesPerSecond[i]!);
    out.packetsPerSecond.push(s.packetsPerSecond[i]!);
    out.integrityPerMinute.push(s.integrityPerMinute[i]!);
    out.replayPerMinute.push(s.replayPerMinute[i]!);
    out.rotations.push(s.rotations[i]!);
  }
  return out;
}

/** Spans clipped to a window, merged where they overlap (the shading and the CSV). */
export function clipSpans(spans: Span[], from: number, to: number): Span[] {
  const inside = spans.filter((s) => s.to > from && s.from < to).map((s) => ({ from: Math.max(s.from, from), to: Math.min(s.to, to) })).sort((a, b) => a.from - b.from);
  const out: Span[] = [];
  for (const s of inside) {
    const l = out[out.length - 1];
    if (l && s.from <= l.to) l.to = Math.max(l.to, s.to);
    else out.push({ ...s });
  }
  return out;
}

/** The shown series as CSV: one row per point, empty where nothing is known. */
export function seriesCsv(s: TunnelSeries, reverse?: TunnelSeries): string {
  const head = ['time', 'bytes_per_s', 'packets_per_s', 'integrity_failures_per_min', 'replay_failures_per_min', 'rotations'];
  const cell = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(Math.round(v * 1000) / 1000));
  const lines = [[...head, ...(reverse ? ['direction'] : [])].join(',')];
  const add = (x: TunnelSeries, dir?: string) => {
    for (let i = 0; i < x.time.length; i++) {
      lines.push([new Date(x.time[i]! * 1000).toISOString(), cell(x.bytesPerSecond[i]), cell(x.packetsPerSecond[i]), cell(x.integrityPerMinute[i]), cell(x.replayPerMinute[i]), cell(x.rotations[i]), ...(dir ? [dir] : [])].join(','));
    }
  };
  add(s, reverse ? 'this' : undefined);
  if (reverse) add(reverse, 'reverse');
  return `${lines.join('\n')}\n`;
}

/** uPlot's cells: null is a break in the line, undefined a point this series does not have (joined over). */
export type Cell = number | null | undefined;

/** Two series on one time axis (uPlot wants one x): the union of both times, undefined where a series has no point. */
export function alignSeries(a: TunnelSeries, b: TunnelSeries, pick: (s: TunnelSeries) => Array<number | null>): [number[], Cell[], Cell[]] {
  const xs: number[] = [];
  const va: Cell[] = [];
  const vb: Cell[] = [];
  const pa = pick(a);
  const pb = pick(b);
  let i = 0;
  let j = 0;
  while (i < a.time.length || j < b.time.length) {
    const ta = i < a.time.length ? a.time[i]! : Infinity;
    const tb = j < b.time.length ? b.time[j]! : Infinity;
    const t = Math.min(ta, tb);
    xs.push(t);
    va.push(ta === t ? pa[i++]! : undefined);
    vb.push(tb === t ? pb[j++]! : undefined);
  }
  return [xs, va, vb];
}

/** Range choices: the last hour … week, or a custom from/to. */
export const RANGES = { '1h': 3600_000, '6h': 6 * 3600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 } as const;
export type RangeName = keyof typeof RANGES | 'custom';

export function rangeOf(name: string | null, from: string | null, to: string | null, now: number): { name: RangeName; since: number; until: number; live: boolean } {
  if (name === 'custom') {
    const f = from ? Date.parse(from) : NaN;
    const t = to ? Date.parse(to) : NaN;
    if (Number.isFinite(f) && Number.isFinite(t) && t > f) return { name: 'custom', since: f, until: t, live: t >= now };
  }
  const n = (name && name in RANGES ? name : '24h') as keyof typeof RANGES;
  return { name: n, since: now - RANGES[n], until: now, live: true };
}

/** "UTC+01:00" for a time in the browser's zone. */
export function utcOffset(ms: number): string {
  const m = -new Date(ms).getTimezoneOffset();
  const a = Math.abs(m);
  return `UTC${m < 0 ? '−' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

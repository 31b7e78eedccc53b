'use client';
// One tunnel over time: who it is and what it does now (live), then its history from the server's record
// (server/history) over a range the URL keeps — byte, packet and failure rates of this tunnel and its
// reverse, every rotation as a marker, alarms as shaded spans, unseen time as gaps — and its rotations,
// paged. The newest points and markers come from the live store without a reload. Export: CSV of the
// shown series and PNG of the charts.
import Link from 'next/link';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type uPlot from 'uplot';
import type { OnWire } from '@/server/wire/entities';
import type { Alarm, HistoryGap, Rotation, Tunnel } from '@/server/wire/tunnels';
import type { HistoryAlarm, TunnelSample } from '@/server/wire/tunnels';
import { keyOnHost, refOnHost, type OnHost } from '@/server/wire/fleet';
import { useEntities, useLiveStatus } from '../live/keys';
import { Panel, PanelBody } from '../ui/Panel';
import { useUrlState } from '../ui/useUrlState';
import { formatBytes, formatCount, formatSpi } from '../format';
import { ALARM_WORDS, CAUSE_WORDS } from './alarm-text';
import { rotationText } from './TunnelsView';
import { rekeyText } from './rekey-text';
import { lastHandshakeText, usePeersByTunnel } from '../wireguard/wireguard-tunnels';
import { tunnelHref } from './href';
import { getApi } from './history-api';
import { formatDuration } from '../sa/sa-text';
import { alignSeries, buildSeries, clipSpans, emptySeries, rangeOf, RANGES, seriesCsv, thinSeries, utcOffset, type Span, type TunnelSeries } from './history-series';
import { formatByteRate, formatPerUnit, HistoryChart, type ChartSeries, type Marker } from './HistoryChart';

type T = OnWire<Tunnel> & OnHost;
type R = OnWire<Rotation>;
/** Columns a chart is thinned to (about its width in pixels). */
const CHART_COLUMNS = 1600;


interface Recorded {
  samples: TunnelSample[];
  gaps: HistoryGap[];
  note?: string;
}

/** Requests for one range at most: 10 × the API's 20,000 rows (7 days of 3 s samples). */
const MAX_PAGES = 10;

/**
 * A tunnel's samples over the range, oldest first: the API answers 20,000 rows at most, and a short
 * history.sampleSeconds gives more over a week — the rest is read after the last row (the gaps come whole
 * with the first answer).
 */
async function recordOf(tunnel: string, w: { since: number; until: number }): Promise<Recorded> {
  const first = await getApi<Recorded & { truncated: boolean }>('/api/v1/history/samples', { tunnel, ...w, limit: 20000 });
  let page = first;
  for (let n = 1; n < MAX_PAGES && page.truncated && page.samples.length; n++) {
    page = await getApi<Recorded & { truncated: boolean }>('/api/v1/history/samples', { tunnel, since: page.samples[page.samples.length - 1]!.time + 1, until: w.until, limit: 20000 });
    first.samples.push(...page.samples);
  }
  return first;
}

/** The dark class on <html> (ThemeToggle), followed as it changes. */
function useDark(): boolean {
  const [dark, setDark] = useState(false);
  useEffect(() => {
    const el = document.documentElement;
    const read = () => setDark(el.classList.contains('dark'));
    read();
    const mo = new MutationObserver(read);
    mo.observe(el, { attributes: true, attributeFilter: ['class'] });
    return () => mo.disconnect();
  }, []);
  return dark;
}

/** Live counters of a tunnel as samples, appended while the page is open (one every 10 s at most). */
function useLiveSamples(t: T | undefined, on: boolean): TunnelSample[] {
  const [rows, setRows] = useState<TunnelSample[]>([]);
  const last = useRef(0);
  useEffect(() => {
    if (!t || !on) return;
    const now = Date.now();
    if (now - last.current < 10_000) return;
    last.current = now;
    setRows((r) => [...r, { time: now, bytes: String(t.bytes), packets: String(t.packets), integrityFailed: t.integrityFailed, replayFailed: t.replayFailed, rotations: t.rotations }]);
  }, [t, on]);
  return rows;
}

function download(name: string, blob: Blob): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

export function TunnelDetail({ tunnelKey }: { tunnelKey: string }) {
  const tunnels = useEntities('tunnel');
  const sas = useEntities('sa');
  const wgPeer = usePeersByTunnel().get(tunnelKey);
  const liveRotations = useEntities('rotation');
  const liveAlarms = useEntities('alarm');
  const { now: liveNow } = useLiveStatus();
  const [url, setUrl] = useUrlState();
  const dark = useDark();
  const t = tunnels?.rows.get(tunnelKey);
  const reverseKey = t?.reverse ? keyOnHost(t, t.reverse) : undefined;
  const rev = reverseKey ? tunnels?.rows.get(reverseKey) : undefined;

  // The range: fixed when the URL changes (a named range then slides with the live points).
  const rangeName = url.get('range');
  const from = url.get('from');
  const to = url.get('to');
  const [opened, setOpened] = useState(() => Date.now());
  useEffect(() => setOpened(Date.now()), [rangeName, from, to]);
  const range = useMemo(() => rangeOf(rangeName, from, to, opened), [rangeName, from, to, opened]);

  const [rec, setRec] = useState<{ self: Recorded; reverse?: Recorded; rotations: R[]; alarms: HistoryAlarm[]; step: number } | undefined>();
  const [error, setError] = useState<string | undefined>();
  // Timings for the page's test: the record's fetch, and from its arrival to the charts drawn.
  const [timing, setTiming] = useState<{ fetchMs: number; drawnMs: number; paintMs: number } | undefined>();
  const arrival = useRef<{ started: number; arrived: number } | undefined>(undefined);
  const fetchedAt = useRef(0);
  useEffect(() => {
    let gone = false;
    const started = performance.now();
    setRec(undefined);
    setTiming(undefined);
    const w = { since: range.since, until: range.until };
    Promise.all([
      getApi<{ sampleSeconds?: number }>('/api/v1/history', {}),
      recordOf(tunnelKey, w),
      reverseKey ? recordOf(reverseKey, w) : Promise.resolve(undefined),
      getApi<{ rotations: R[] }>('/api/v1/rotations', { tunnel: tunnelKey, ...w, limit: 5000 }),
      getApi<{ history: HistoryAlarm[] }>('/api/v1/alarms', { ref: `tunnel:${tunnelKey}`, until: range.until, limit: 5000 }),
    ])
      .then(([info, self, reverse, rot, al]) => {
        if (gone) return;
        fetchedAt.current = Date.now();
        arrival.current = { started, arrived: performance.now() };
        setRec({ self, reverse, rotations: rot.rotations, alarms: al.history, step: info.sampleSeconds ?? 60 });
        setError(undefined);
      })
      .catch((e: unknown) => !gone && setError(e instanceof Error ? e.message : String(e)));
    return () => {
      gone = true;
    };
  }, [tunnelKey, reverseKey, range]);

  // The charts' effects (children first) have made and drawn them when this one runs; uPlot draws in a
  // microtask. Then the browser's next frame shows them.
  useEffect(() => {
    const a = arrival.current;
    if (!rec || !a) return;
    arrival.current = undefined;
    queueMicrotask(() => {
      const drawn = performance.now();
      requestAnimationFrame(() => setTiming({ fetchMs: Math.round(a.arrived - a.started), drawnMs: Math.round(drawn - a.arrived), paintMs: Math.round(performance.now() - a.arrived) }));
    });
  }, [rec]);

  const selfLive = useLiveSamples(t, range.live);
  const revLive = useLiveSamples(rev, range.live);
  // A live range moves in 10 s steps: the charts are given new data at most that often.
  const until = range.live ? Math.max(range.until, Math.ceil((liveNow ?? 0) / 10_000) * 10_000) : range.until;
  const since = range.live ? until - (range.until - range.since) : range.since;

  const build = useCallback(
    (r: Recorded | undefined, live: TunnelSample[]): { s: TunnelSeries; unseen: Span[] } => {
      if (!r || !rec) return { s: emptySeries(), unseen: [] };
      const unseen = r.gaps.map((g) => ({ from: g.from, to: g.to }));
      const newest = r.samples[r.samples.length - 1]?.time ?? 0;
      // Live points continue the record: those after its newest row (a fetch may already hold them).
      const rows = [...r.samples, ...live.filter((x) => x.time > Math.max(newest, fetchedAt.current))];
      return { s: buildSeries(rows, unseen, rec.step, range.live ? Date.now() : undefined), unseen };
    },
    [rec, range.live],
  );
  const buildStart = performance.now();
  const self = useMemo(() => build(rec?.self, selfLive), [build, rec, selfLive]);
  const back = useMemo(() => (rec?.reverse ? build(rec.reverse, revLive) : undefined), [build, rec, revLive]);

  const rotations = useMemo(() => {
    const m = new Map<string, R>();
    for (const r of rec?.rotations ?? []) m.set(r.key, r);
    for (const r of liveRotations?.rows.values() ?? []) if (keyOnHost(r, r.tunnel) === tunnelKey && r.time >= since) m.set(r.key, r);
    return [...m.values()].sort((a, b) => a.time - b.time);
  }, [rec, liveRotations, liveRotations?.version, tunnelKey, since]);
  const markers = useMemo<Marker[]>(() => rotations.map((r) => ({ time: r.time, text: `${new Date(r.time).toLocaleString()} · ${rotationText(r)} · ${CAUSE_WORDS[r.cause] ?? r.cause}` })), [rotations]);
  const activeAlarms = useMemo(() => [...(liveAlarms?.rows.values() ?? [])].filter((a) => refOnHost(a, a.ref) === `tunnel:${tunnelKey}`) as Array<OnWire<Alarm>>, [liveAlarms, liveAlarms?.version, tunnelKey]);
  const alarmSpans = useMemo(() => {
    const spans = (rec?.alarms ?? []).map((a) => ({ from: a.since, to: a.clearedAt ?? until, text: ALARM_WORDS[a.type] ?? a.type }));
    for (const a of activeAlarms) if (!spans.some((s) => s.from === a.since)) spans.push({ from: a.since, to: until, text: ALARM_WORDS[a.type] ?? a.type });
    return spans.filter((s) => s.to >= since);
  }, [rec, activeAlarms, since, until]);
  const unseen = useMemo(() => clipSpans([...self.unseen, ...(back?.unseen ?? [])], since, until), [self, back, since, until]);

  const charts = useMemo(() => {
    // Past MAX_CHART_POINTS the charts draw a thinned copy (min and max per pixel column, gaps kept).
    const [a, b] = [thinSeries(self.s, CHART_COLUMNS), back && thinSeries(back.s, CHART_COLUMNS)];
    const pick = (f: (s: TunnelSeries) => Array<number | null>) => (b ? alignSeries(a, b, f) : [a.time, f(a)] as const);
    const mk = (f: (s: TunnelSeries) => Array<number | null>, color: [string, string]) => {
      const cols = pick(f);
      const series: ChartSeries[] = [{ label: `this (${t?.direction ?? 'this direction'})`, values: cols[1], color: color[0] }];
      if (b && cols.length === 3) series.push({ label: `reverse (${rev?.direction ?? 'other direction'})`, values: cols[2], color: color[1], dash: [6, 3] });
      return { x: cols[0] as number[], series };
    };
    return {
      bytes: mk((s) => s.bytesPerSecond, ['#2563eb', '#16a34a']),
      packets: mk((s) => s.packetsPerSecond, ['#7c3aed', '#0d9488']),
      integrity: mk((s) => s.integrityPerMinute, ['#dc2626', '#ea580c']),
      replay: mk((s) => s.replayPerMinute, ['#b45309', '#db2777']),
    };
  }, [self, back, t?.direction, rev?.direction]);
  // For the page's test: the series built from the record (this render), before the charts draw them.
  const buildMs = useRef(0);
  if (!rec) buildMs.current = 0;
  else if (!timing) buildMs.current = Math.max(buildMs.current, Math.round(performance.now() - buildStart));

  const plots = useRef(new Map<string, uPlot>());
  const keep = (id: string) => (u: uPlot | undefined) => (u ? plots.current.set(id, u) : plots.current.delete(id));
  const exportPng = () => {
    const list = ['bytes', 'packets', 'integrity', 'replay'].map((id) => plots.current.get(id)).filter((u): u is uPlot => !!u);
    if (!list.length) return;
    const width = Math.max(...list.map((u) => u.ctx.canvas.width));
    const height = list.reduce((n, u) => n + u.ctx.canvas.height, 0);
    const c = document.createElement('canvas');
    c.width = width;
    c.height = height;
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = dark ? '#020617' : '#ffffff';
    ctx.fillRect(0, 0, width, height);
    let y = 0;
    for (const u of list) {
      ctx.drawImage(u.ctx.canvas, 0, y);
      y += u.ctx.canvas.height;
    }
    c.toBlob((b) => b && download(`${t?.name ?? tunnelKey} ${range.name}.png`.replace(/[^\w.-]+/g, '_'), b), 'image/png');
  };
  const exportCsv = () => download(`${t?.name ?? tunnelKey} ${range.name}.csv`.replace(/[^\w.-]+/g, '_'), new Blob([seriesCsv(self.s, back?.s)], { type: 'text/csv' }));

  const nowMs = liveNow ?? Date.now();
  const rk = t?.family === 'wireguard' ? lastHandshakeText(t, nowMs) : rekeyText(t?.countdown, nowMs, t?.state);
  const currentSa = t?.current ? sas?.rows.get(keyOnHost(t, t.current.sa)) : undefined;
  const common = { since, until, markers, alarms: alarmSpans, unseen, dark, syncKey: `tunnel:${tunnelKey}` };
  const localInput = (ms: number) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

  return (
    <div className="space-y-4">
      <Panel title={t ? t.name : tunnelKey} id="tunnel">
        {!t && tunnels && <p className="px-4 py-3 text-sm text-slate-500" data-testid="tunnel-gone">This tunnel is not in the kernel now; its history is below.</p>}
        {t && (
          <dl className="grid grid-cols-2 gap-x-6 gap-y-2 px-4 py-3 text-sm md:grid-cols-4" data-testid="tunnel-header">
            <div><dt className="text-xs text-slate-500">State</dt><dd className="font-semibold" data-testid="tunnel-state">{t.state}{t.direction ? ` · ${t.direction}` : ''}</dd></div>
            <div><dt className="text-xs text-slate-500">{t.family === 'wireguard' ? 'Peer' : 'Current SA'}</dt><dd className="font-mono text-xs">{t.current ? <Link className="underline" href={`/sas?sa=${encodeURIComponent(keyOnHost(t, t.current.sa))}`}>{formatSpi(t.current.spi)}</Link> : t.keyId !== undefined ? `key-id ${t.keyId}` : wgPeer ? <span className="break-all">{wgPeer.publicKey}</span> : '—'} {t.current?.fingerprint ?? ''}</dd></div>
            <div><dt className="text-xs text-slate-500">Algorithm</dt><dd className="text-xs">{t.current?.algorithm ?? (currentSa ? '' : '—')}{t.current?.offload ? ` · offload ${t.current.offload}` : ''}</dd></div>
            <div><dt className="text-xs text-slate-500">Reverse</dt><dd className="font-mono text-xs">{rev ? <Link className="underline" href={tunnelHref(rev.key)}>{rev.name}</Link> : '—'}</dd></div>
            <div><dt className="text-xs text-slate-500">{rk.label}</dt><dd className={rk.urgent ? 'font-semibold text-amber-700 dark:text-amber-400' : ''} data-testid="tunnel-rekey">{rk.value}</dd></div>
            <div><dt className="text-xs text-slate-500">Hard expiry</dt><dd>{t.countdown?.hardExpiresAt !== undefined ? formatDuration((t.countdown.hardExpiresAt - nowMs) / 1000) : '—'}</dd></div>
            <div><dt className="text-xs text-slate-500">Traffic (all SAs)</dt><dd>{formatBytes(t.bytes)} · {formatCount(t.packets)} packets</dd></div>
            <div><dt className="text-xs text-slate-500">Rotations</dt><dd>{t.rotations}</dd></div>
            <div className="col-span-2 md:col-span-4">
              <dt className="text-xs text-slate-500">Alarms</dt>
              <dd data-testid="tunnel-alarms">{activeAlarms.length ? activeAlarms.map((a) => <p key={a.key} className="font-semibold text-red-700 dark:text-red-400">{ALARM_WORDS[a.type] ?? a.type}: {a.summary}</p>) : <span className="text-slate-400">none</span>}</dd>
            </div>
          </dl>
        )}
      </Panel>

      <Panel
        title="History"
        id="history"
        actions={
          <span className="flex flex-wrap items-center gap-2 text-xs">
            {(Object.keys(RANGES) as Array<keyof typeof RANGES>).map((n) => (
              <button key={n} type="button" aria-pressed={range.name === n} onClick={() => setUrl({ range: n, from: undefined, to: undefined })} className={`rounded border px-2 py-0.5 ${range.name === n ? 'border-blue-600 bg-blue-600 text-white' : 'border-slate-300 dark:border-slate-700'}`}>
                {n}
              </button>
            ))}
            <label className="flex items-center gap-1">
              from
              <input type="datetime-local" aria-label="Custom range from" className="rounded border border-slate-300 bg-transparent px-1 dark:border-slate-700" value={localInput(since)} onChange={(e) => e.target.value && setUrl({ range: 'custom', from: new Date(e.target.value).toISOString(), to: new Date(until).toISOString() })} />
            </label>
            <label className="flex items-center gap-1">
              to
              <input type="datetime-local" aria-label="Custom range to" className="rounded border border-slate-300 bg-transparent px-1 dark:border-slate-700" value={localInput(until)} onChange={(e) => e.target.value && setUrl({ range: 'custom', from: new Date(since).toISOString(), to: new Date(e.target.value).toISOString() })} />
            </label>
            <button type="button" className="rounded border border-slate-300 px-2 py-0.5 dark:border-slate-700" onClick={exportCsv} disabled={!rec}>CSV</button>
            <button type="button" className="rounded border border-slate-300 px-2 py-0.5 dark:border-slate-700" onClick={exportPng} disabled={!rec}>PNG</button>
          </span>
        }
      >
        <PanelBody loading={!rec && !error && 'Loading history…'} error={error}>
          <div className="space-y-2 px-2 py-2" data-testid="history-charts" data-paint-ms={timing?.paintMs} data-drawn-ms={timing?.drawnMs} data-fetch-ms={timing?.fetchMs} data-build-ms={timing ? buildMs.current : undefined} data-points={self.s.time.length} data-markers={markers.length}>
            <p className="px-2 text-xs text-slate-500">
              Local time ({utcOffset(until)}). {rec?.self.note ? `${rec.self.note}. ` : ''}Grey: not seen (sascope not running or the source stale). Red: alarms. Blue: rotations, dashed across the chart or ticks along its top when many (hover for old → new SPI).
            </p>
            <HistoryChart title="Bytes per second" format={formatByteRate} {...charts.bytes} {...common} onChart={keep('bytes')} />
            <HistoryChart title="Packets per second" format={formatPerUnit('pkt/s')} {...charts.packets} {...common} onChart={keep('packets')} />
            <HistoryChart title="Integrity failures per minute" format={formatPerUnit('/min')} {...charts.integrity} {...common} height={130} onChart={keep('integrity')} />
            <HistoryChart title="Replay failures per minute" format={formatPerUnit('/min')} {...charts.replay} {...common} height={130} onChart={keep('replay')} />
          </div>
        </PanelBody>
      </Panel>

      <RotationList tunnelKey={tunnelKey} tunnel={t} since={since} until={until} />
    </div>
  );
}

const PAGE = 25;

/** The tunnel's rotations in the range, newest first, a page at a time (paged by time: ?until= of the page's oldest). */
function RotationList({ tunnelKey, tunnel, since, until }: { tunnelKey: string; tunnel: T | undefined; since: number; until: number }) {
  const sas = useEntities('sa');
  const live = useEntities('rotation');
  const [cursors, setCursors] = useState<number[]>([]);
  const [page, setPage] = useState<{ rotations: R[]; truncated: boolean } | undefined>();
  const pageUntil = cursors[cursors.length - 1];
  const sinceKey = Math.floor(since / 60_000);
  useEffect(() => setCursors([]), [tunnelKey, sinceKey]);
  useEffect(() => {
    let gone = false;
    getApi<{ rotations: R[]; truncated: boolean }>('/api/v1/rotations', { tunnel: tunnelKey, since: sinceKey * 60_000, until: pageUntil, limit: PAGE })
      .then((r) => !gone && setPage(r))
      .catch(() => !gone && setPage({ rotations: [], truncated: false }));
    return () => {
      gone = true;
    };
  }, [tunnelKey, sinceKey, pageUntil, tunnel?.rotations]);
  // The SA a rotation made, when it is still alive: one of the tunnel's SAs with the new SPI.
  const saOf = (r: R) => tunnel?.sas.map((k) => keyOnHost(tunnel, k)).find((k) => sas?.rows.get(k)?.spi === r.newSpi);
  // The first page takes the rotations seen live since it was read (the record has them at the next read).
  const rows = useMemo(() => {
    const read = page?.rotations ?? [];
    if (cursors.length || !live) return read;
    const newest = read[0]?.time ?? since;
    const fresh = [...live.rows.values()].filter((r) => keyOnHost(r, r.tunnel) === tunnelKey && r.time > newest && !read.some((x) => x.key === r.key)).sort((a, b) => b.time - a.time);
    return [...fresh, ...read];
  }, [page, cursors.length, live, live?.version, tunnelKey, since]);
  return (
    <Panel
      title="Rotations in this range"
      id="tunnel-rotations"
      actions={
        <span className="flex gap-2 text-xs">
          <button type="button" className="underline disabled:opacity-40" disabled={!cursors.length} onClick={() => setCursors((c) => c.slice(0, -1))}>newer</button>
          <button type="button" className="underline disabled:opacity-40" disabled={!page?.truncated} onClick={() => rows.length && setCursors((c) => [...c, rows[rows.length - 1]!.time - 1])}>older</button>
        </span>
      }
    >
      <PanelBody loading={!page && 'Loading rotations…'} empty={page && rows.length === 0 && 'No rotation in this range.'}>
        <table className="w-full text-sm" aria-label="Rotations of this tunnel">
          <thead className="text-left text-xs text-slate-500">
            <tr><th className="px-4 py-1">When</th><th className="px-2">Change</th><th className="px-2">Cause</th><th className="px-2">Overlap</th><th className="px-2">New SA</th></tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const sa = saOf(r);
              return (
                <tr key={r.key} data-testid="tunnel-rotation" className="border-t border-slate-200 dark:border-slate-800">
                  <td className="px-4 py-1 tabular">{new Date(r.time).toLocaleString()}</td>
                  <td className="px-2 font-mono text-xs">{rotationText(r)}</td>
                  <td className="px-2">{r.state === 'aborted' ? 'rekey failed' : CAUSE_WORDS[r.cause] ?? r.cause}</td>
                  <td className="px-2">{r.overlapMs !== undefined ? `${(r.overlapMs / 1000).toFixed(1)} s` : r.state === 'overlapping' ? 'both alive' : '—'}</td>
                  <td className="px-2 text-xs">{sa ? <Link className="underline" href={`/sas?sa=${encodeURIComponent(sa)}`}>open SA</Link> : <span className="text-slate-400">gone</span>}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </PanelBody>
    </Panel>
  );
}

'use client';
// One time-series chart of a tunnel's history (uPlot: canvas, made for 100k points and appends). Behind
// the lines: alarms as red spans and unseen time (sascope stopped, the source stale) as grey hatched
// spans; over them every rotation as a marker whose hover says old → new SPI, cause and when. The charts
// of one page share a cursor (syncKey). Null values are breaks in the line (spanGaps off).
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Cell, Span } from './history-series';

export interface Marker {
  time: number;
  text: string;
}

export interface ChartSeries {
  label: string;
  values: Cell[];
  color: string;
  dash?: number[];
}

const RATE_UNITS = ['B/s', 'KiB/s', 'MiB/s', 'GiB/s', 'TiB/s'];

export function formatByteRate(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  let n = Math.abs(v);
  let i = 0;
  while (n >= 1024 && i < RATE_UNITS.length - 1) {
    n /= 1024;
    i++;
  }
  return `${v < 0 ? '−' : ''}${i === 0 ? Math.round(n * 10) / 10 : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)} ${RATE_UNITS[i]}`;
}

export function formatPerUnit(unit: string) {
  return (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v >= 100 ? Math.round(v).toLocaleString('en-US') : Math.round(v * 100) / 100} ${unit}`);
}

export function HistoryChart({
  title, x, series, format, since, until, markers, alarms, unseen, dark, syncKey, height = 180, onChart,
}: {
  title: string;
  x: number[];
  series: ChartSeries[];
  format: (v: number | null | undefined) => string;
  since: number;
  until: number;
  markers: Marker[];
  alarms: Array<Span & { text: string }>;
  unseen: Span[];
  dark: boolean;
  syncKey: string;
  height?: number;
  onChart?: (u: uPlot | undefined) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const tip = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  // Zoomed by a drag (a double click undoes it): new data then keeps the zoom instead of the whole range.
  const zoomed = useRef(false);
  // The data the chart was made with (the data effect does not set it again).
  const drawn = useRef<uPlot.AlignedData | undefined>(undefined);
  // What the hooks draw, current without re-creating the chart.
  const layers = useRef({ markers, alarms, unseen, dark, since, until });
  layers.current = { markers, alarms, unseen, dark, since, until };

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const axis = dark ? '#cbd5e1' : '#334155';
    const grid = dark ? 'rgba(148,163,184,0.15)' : 'rgba(51,65,85,0.12)';
    const xPos = (u: uPlot, ms: number) => u.valToPos(ms / 1000, 'x', true);
    const opts: uPlot.Options = {
      width: Math.max(300, el.clientWidth),
      height,
      title,
      cursor: {
        sync: { key: syncKey },
        drag: { x: true, y: false },
        bind: {
          dblclick: (_u, _t, handler) => (e) => {
            zoomed.current = false;
            return handler(e);
          },
        },
      },
      scales: { x: { time: true, range: (_u, min, max) => [Math.min(min ?? Infinity, layers.current.since / 1000), Math.max(max ?? -Infinity, layers.current.until / 1000)] }, y: { range: (_u, _min, max) => [0, max && max > 0 ? max * 1.1 : 1] } },
      axes: [
        { stroke: axis, grid: { stroke: grid }, ticks: { stroke: grid } },
        { stroke: axis, grid: { stroke: grid }, ticks: { stroke: grid }, size: 80, values: (_u, splits) => splits.map((v) => format(v)) },
      ],
      series: [{ label: 'time', value: (_u, v) => (v === null ? '—' : new Date(v * 1000).toLocaleString()) }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, spanGaps: false, points: { show: false }, value: (_u: uPlot, v: number | null) => format(v), ...(s.dash ? { dash: s.dash } : {}) }))],
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width > 0) zoomed.current = true;
          },
        ],
        drawClear: [
          (u) => {
            const { ctx, bbox } = u;
            const { alarms: al, unseen: un, dark: dk } = layers.current;
            ctx.save();
            for (const a of al) {
              ctx.fillStyle = dk ? 'rgba(248,113,113,0.18)' : 'rgba(220,38,38,0.12)';
              const l = Math.max(bbox.left, xPos(u, a.from));
              const r = Math.min(bbox.left + bbox.width, xPos(u, a.to));
              if (r > l) ctx.fillRect(l, bbox.top, r - l, bbox.height);
            }
            for (const g of un) {
              const l = Math.max(bbox.left, xPos(u, g.from));
              const r = Math.min(bbox.left + bbox.width, xPos(u, g.to));
              if (r <= l) continue;
              ctx.fillStyle = dk ? 'rgba(148,163,184,0.16)' : 'rgba(100,116,139,0.14)';
              ctx.fillRect(l, bbox.top, r - l, bbox.height);
            }
            ctx.restore();
          },
        ],
        draw: [
          (u) => {
            const { ctx, bbox } = u;
            ctx.save();
            ctx.strokeStyle = layers.current.dark ? '#38bdf8' : '#0369a1';
            ctx.lineWidth = Math.max(1, devicePixelRatio);
            ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
            const xs = layers.current.markers.map((m) => Math.round(xPos(u, m.time))).filter((px) => px >= bbox.left && px <= bbox.left + bbox.width);
            // Dense rotations (a lab rekeying every few seconds, a week of hourly rekeys) as ticks along the top,
            // so the lines do not hide the rates; sparse ones across the plot.
            const dense = xs.length > bbox.width / (12 * devicePixelRatio);
            const bottom = dense ? bbox.top + 8 * devicePixelRatio : bbox.top + bbox.height;
            if (dense) ctx.setLineDash([]);
            ctx.beginPath();
            for (const px of xs) {
              ctx.moveTo(px, bbox.top);
              ctx.lineTo(px, bottom);
            }
            ctx.stroke();
            ctx.restore();
          },
        ],
        setCursor: [
          (u) => {
            const t = tip.current;
            if (!t) return;
            const left = u.cursor.left;
            const ms = layers.current.markers;
            let best: Marker | undefined;
            let bestD = 6;
            if (left !== undefined && left >= 0) {
              for (const m of ms) {
                const d = Math.abs(u.valToPos(m.time / 1000, 'x') - left);
                if (d < bestD) {
                  bestD = d;
                  best = m;
                }
              }
            }
            if (!best) {
              t.hidden = true;
              return;
            }
            t.hidden = false;
            t.textContent = best.text;
            t.style.left = `${Math.min(u.over.clientWidth - 260, Math.max(0, u.valToPos(best.time / 1000, 'x') + 8))}px`;
          },
        ],
      },
    };
    const data = [x, ...series.map((s) => s.values)] as unknown as uPlot.AlignedData;
    const u = new uPlot(opts, data, el);
    drawn.current = data;
    // The tooltip lives on the plot's overlay so it moves with it.
    if (tip.current) u.over.appendChild(tip.current);
    plot.current = u;
    onChart?.(u);
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(300, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      if (tip.current) el.parentElement?.appendChild(tip.current);
      u.destroy();
      plot.current = undefined;
      onChart?.(undefined);
    };
    // Re-created on what changes its structure (theme, series, title); data and layers are set below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [dark, title, series.length, series.map((s) => s.label).join('|'), syncKey, height]);

  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    const data = [x, ...series.map((s) => s.values)] as unknown as uPlot.AlignedData;
    if (drawn.current && drawn.current[0] === data[0] && drawn.current.every((c, i) => c === data[i])) return;
    drawn.current = data;
    const { min, max } = u.scales.x;
    u.setData(data);
    if (zoomed.current && min != null && max != null) u.setScale('x', { min, max });
  }, [x, series, since, until, markers, alarms, unseen]);

  return (
    <figure className="relative" aria-label={title} data-testid="history-chart">
      <div ref={box} className="w-full" />
      <div ref={tip} hidden role="tooltip" data-testid="rotation-tip" className="pointer-events-none absolute top-6 z-10 w-64 rounded border border-slate-300 bg-white px-2 py-1 text-xs shadow dark:border-slate-600 dark:bg-slate-900" />
    </figure>
  );
}

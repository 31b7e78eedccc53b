'use client';
// A wall tile's last hour of byte rate from the history (the tunnel page's series, server/history), drawn
// as a faint strip along the tile's foot: breaks where nothing was seen, nothing at all without history
// (history off, or no row yet). Read again each minute, the history's step.
import { useEffect, useState } from 'react';
import type { TunnelSample } from '@/server/wire/tunnels';
import type { HistoryGap } from '@/server/wire/tunnels';
import { buildSeries } from './history-series';
import { getApi } from './history-api';

const HOUR = 3600_000;

/** SVG path of a series in a w × h box over [since, until]: a new M after every null (a gap). */
export function stripPath(time: number[], values: Array<number | null>, since: number, until: number, w: number, h: number): string {
  const max = Math.max(1, ...values.map((v) => v ?? 0));
  let d = '';
  let pen = false;
  for (let i = 0; i < time.length; i++) {
    const v = values[i];
    const ms = time[i]! * 1000;
    if (v === null || v === undefined || ms < since) {
      pen = false;
      continue;
    }
    const x = (((ms - since) / (until - since)) * w).toFixed(1);
    const y = (h - (v / max) * (h - 1)).toFixed(1);
    d += `${pen ? 'L' : 'M'}${x} ${y}`;
    pen = true;
  }
  return d;
}

export function RateStrip({ tunnelKey, className }: { tunnelKey: string; className?: string }) {
  const [d, setD] = useState('');
  useEffect(() => {
    let gone = false;
    const read = () => {
      const until = Date.now();
      const since = until - HOUR;
      getApi<{ samples: TunnelSample[]; gaps: HistoryGap[] }>('/api/v1/history/samples', { tunnel: tunnelKey, since: since - 60_000, until, limit: 200 })
        .then((r) => {
          if (gone || !r.samples.length) return;
          const s = buildSeries(r.samples, r.gaps, 60, until);
          setD(stripPath(s.time, s.bytesPerSecond, since, until, 300, 40));
        })
        .catch(() => undefined); // the strip is decoration: the tile says the rest
    };
    read();
    const timer = setInterval(read, 60_000);
    return () => {
      gone = true;
      clearInterval(timer);
    };
  }, [tunnelKey]);
  if (!d) return null;
  return (
    <svg aria-hidden="true" data-testid="rate-strip" viewBox="0 0 300 40" preserveAspectRatio="none" className={className}>
      <path d={d} fill="none" stroke="currentColor" strokeWidth="1.5" vectorEffect="non-scaling-stroke" />
    </svg>
  );
}

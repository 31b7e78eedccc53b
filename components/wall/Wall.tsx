'use client';
// The NOC wall: read-only, readable from 5 m on a 1080p screen, dark and high-contrast. Alarms first
// (colour and words), one tile per tunnel with its state and time to the next rekey, rotations and peer
// deletions as a ticker, pages cycling when there is more than fits, and a big DATA STALE when the
// socket has been down for more than 5 s. Everything it keeps is bounded, so it runs for days.
import { useEffect, useMemo, useState } from 'react';
import type { EventCode, OnWire } from '@/server/wire/entities';
import type { Alarm, Tunnel } from '@/server/wire/tunnels';
import { useEntities, useLiveStatus } from '../live/keys';
import { formatBytes, formatClock, formatSpi } from '../format';
import { formatDuration } from '../sa/sa-text';
import { ALARM_WORDS, CAUSE_WORDS } from '../tunnels/alarm-text';

const PAGE_MS = 10_000;
/** Events the ticker shows beside rotations: what went away (an SA, a policy at its hard limit, an ovpn peer). */
const TICKER_EVENTS: ReadonlySet<EventCode> = new Set<EventCode>(['sa-deleted', 'sa-hard-expire', 'policy-hard-expire', 'peer-deleted']);
const STALE_AFTER_MS = 5_000;

function useTilesPerPage(): number {
  const [n, setN] = useState(12);
  useEffect(() => {
    const calc = () => {
      const cols = Math.max(1, Math.floor(window.innerWidth / 440));
      const rows = Math.max(1, Math.floor((window.innerHeight - 420) / 190));
      setN(cols * rows);
    };
    calc();
    window.addEventListener('resize', calc);
    return () => window.removeEventListener('resize', calc);
  }, []);
  return n;
}

const STATE_STYLE: Record<string, { box: string; word: string }> = {
  up: { box: 'border-emerald-400 bg-emerald-950', word: 'UP' },
  rekeying: { box: 'border-sky-400 bg-sky-950', word: 'REKEYING' },
  down: { box: 'border-red-500 bg-red-950', word: 'DOWN' },
};

function Tile({ t, now }: { t: OnWire<Tunnel>; now: number }) {
  const alarm = t.alarms.length > 0;
  const st = STATE_STYLE[t.state] ?? STATE_STYLE.down!;
  const rekeyIn = t.countdown?.softExpiresAt !== undefined ? (t.countdown.softExpiresAt - now) / 1000 : undefined;
  return (
    <article data-testid="wall-tile" data-state={t.state} data-alarm={alarm} className={`flex flex-col gap-1 rounded-xl border-4 p-4 ${alarm ? 'border-amber-400 bg-amber-950' : st.box}`}>
      {/* The state word on its own line, so the name has the tile's whole width and wraps (two lines at most) instead of losing its end. */}
      <span className="text-2xl font-black tracking-wider">{alarm ? '⚠ ' : ''}{st.word}</span>
      <h3 title={t.name} className="line-clamp-2 font-mono text-2xl font-bold leading-tight [overflow-wrap:anywhere]">{t.name}</h3>
      <div className="flex justify-between text-xl">
        <span>next rekey</span>
        <span className="tabular font-semibold">{rekeyIn !== undefined ? formatDuration(rekeyIn) : '—'}</span>
      </div>
      <div className="flex justify-between text-xl text-slate-300">
        <span className="font-mono">{t.current ? formatSpi(t.current.spi) : t.keyId !== undefined ? `key ${t.keyId}` : ''}</span>
        <span className="tabular">{formatBytes(t.bytes)}</span>
      </div>
      {alarm && <p className="text-xl font-bold text-amber-300">{t.alarms.map((a) => ALARM_WORDS[a as keyof typeof ALARM_WORDS] ?? a).join(' · ')}</p>}
    </article>
  );
}

export function Wall() {
  const st = useLiveStatus();
  const tunnels = useEntities('tunnel');
  const alarms = useEntities('alarm');
  const rotations = useEntities('rotation');
  const events = useEntities('event');
  const perPage = useTilesPerPage();
  const [page, setPage] = useState(0);
  const now = st.now ?? Date.now();

  // Alarmed tunnels first, then down, then by name: the wall shows trouble before calm.
  const tiles = useMemo(() => {
    const l = tunnels ? [...tunnels.rows.values()] : [];
    const rank = (t: OnWire<Tunnel>) => (t.alarms.length ? 0 : t.state === 'down' ? 1 : t.state === 'rekeying' ? 2 : 3);
    return l.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
  }, [tunnels, tunnels?.version]);
  const pages = Math.max(1, Math.ceil(tiles.length / perPage));
  useEffect(() => {
    if (pages <= 1) return setPage(0);
    const h = setInterval(() => setPage((p) => (p + 1) % pages), PAGE_MS);
    return () => clearInterval(h);
  }, [pages]);
  const shown = tiles.slice((page % pages) * perPage, (page % pages + 1) * perPage);

  const alarmList = useMemo(() => {
    const l = alarms ? [...alarms.rows.values()] : [];
    return l.sort((a, b) => (a.severity === b.severity ? a.since - b.since : a.severity === 'critical' ? -1 : 1));
  }, [alarms, alarms?.version]);

  const ticker = useMemo(() => {
    const items: Array<{ key: string; time: number; text: string }> = [];
    for (const r of rotations?.rows.values() ?? []) items.push({ key: `r${r.key}`, time: r.time, text: r.state === 'aborted' ? `REKEY FAILED ${r.tunnelName}` : `ROTATED ${r.tunnelName} (${CAUSE_WORDS[r.cause] ?? r.cause})` });
    for (const e of events?.rows.values() ?? []) if (e.code && TICKER_EVENTS.has(e.code)) items.push({ key: `e${e.id}`, time: e.time, text: `${e.type.toUpperCase()} ${e.summary}` });
    return items.sort((a, b) => b.time - a.time).slice(0, 12);
  }, [rotations, rotations?.version, events, events?.version]);

  const downFor = !st.connected && st.disconnectedAt ? now - st.disconnectedAt : 0;
  const stale = (!st.connected && st.everConnected && downFor > STALE_AFTER_MS) || (!st.everConnected && st.reconnects > 2);
  const staleSince = st.disconnectedAt ?? st.lastMessageAt;

  return (
    <div className="relative flex min-h-screen flex-col gap-4 bg-black p-6 text-white" data-testid="wall">
      <header className="flex items-baseline justify-between">
        <h1 className="text-3xl font-black tracking-tight">
          sascope <span className="font-normal text-slate-400">{st.server?.hostname ?? ''}</span>
        </h1>
        <div className="flex items-baseline gap-6 text-2xl">
          <span className={st.connected ? 'text-emerald-400' : 'text-red-400'}>{st.connected ? '● LIVE' : '○ OFFLINE'}</span>
          {/* The clock only from the live tick: the page's HTML is built without one (a clock there is a hydration mismatch). */}
          <span className="tabular">{st.now !== undefined ? formatClock(st.now) : ''}</span>
        </div>
      </header>

      <section aria-label="Active alarms" data-testid="wall-alarms">
        {alarmList.length === 0 ? (
          <p className="rounded-xl border-4 border-emerald-500 bg-emerald-950 px-5 py-3 text-3xl font-bold">✓ NO ALARMS</p>
        ) : (
          <ul className="space-y-2">
            {alarmList.slice(0, 5).map((a: OnWire<Alarm>) => (
              <li key={a.key} className={`flex items-baseline gap-4 rounded-xl border-4 px-5 py-2 text-3xl ${a.severity === 'critical' ? 'border-red-500 bg-red-950' : 'border-amber-400 bg-amber-950'}`}>
                <span className="font-black">{a.severity === 'critical' ? '✖ CRITICAL' : '⚠ WARNING'}</span>
                <span className="font-bold">{ALARM_WORDS[a.type] ?? a.type}</span>
                <span className="truncate text-2xl text-slate-200">{a.summary}</span>
              </li>
            ))}
            {alarmList.length > 5 && <li className="text-2xl text-slate-300">+ {alarmList.length - 5} more alarms</li>}
          </ul>
        )}
      </section>

      <section aria-label="Tunnels" className="flex-1">
        {!tunnels ? (
          <p className="text-3xl text-slate-400">Waiting for data…</p>
        ) : tiles.length === 0 ? (
          <p className="text-3xl text-slate-400">No tunnels.</p>
        ) : (
          <div className="grid gap-4" style={{ gridTemplateColumns: 'repeat(auto-fill, minmax(420px, 1fr))' }}>
            {shown.map((t) => (
              <Tile key={t.key} t={t} now={now} />
            ))}
          </div>
        )}
        {pages > 1 && (
          <p className="mt-3 text-right text-xl text-slate-400" data-testid="wall-page">
            page {(page % pages) + 1} of {pages} · {tiles.length} tunnels
          </p>
        )}
      </section>

      <footer aria-label="Recent rotations and deletions" className="overflow-hidden whitespace-nowrap border-t-2 border-slate-700 pt-3 text-2xl" data-testid="wall-ticker">
        {ticker.length === 0 ? (
          <span className="text-slate-500">No rotations or deletions yet.</span>
        ) : (
          ticker.map((i) => (
            <span key={i.key} className="mr-10">
              <span className="tabular text-slate-400">{formatClock(i.time)}</span> {i.text}
            </span>
          ))
        )}
      </footer>

      {stale && (
        <div role="alert" data-testid="wall-stale" className="absolute inset-0 flex flex-col items-center justify-center gap-6 bg-black/85">
          <p className="rounded-2xl border-8 border-red-500 bg-red-950 px-12 py-8 text-7xl font-black tracking-wide">DATA STALE since {formatClock(staleSince)}</p>
          <p className="text-3xl text-slate-300">The connection to sascope is down; reconnecting by itself.</p>
        </div>
      )}
    </div>
  );
}

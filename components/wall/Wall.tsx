'use client';
// The NOC wall: read-only, readable from 5 m on a 1080p screen, dark and high-contrast, one screen for a
// whole fleet. Alarms first across all hosts (colour and words), then the problems as big tiles grouped by
// host (a host that stopped reporting is a tile of its own), then one cell per host where its healthy
// tunnels fold into a count. While everything fits, healthy tunnels get tiles too; when it does not, they
// fold, so 50 hosts × 10 tunnels stay on one screen. Only problems beyond the screen cycle in pages.
// Rotations and peer deletions run as a ticker, and a big DATA STALE shows when the socket has been down
// for more than 5 s. Everything it keeps is bounded, so it runs for days.
import Link from 'next/link';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { EventCode, OnWire } from '@/server/wire/entities';
import type { FleetHost } from '@/server/wire/fleet';
import type { Alarm, Tunnel } from '@/server/wire/tunnels';
import { useEntities, useLiveStatus } from '../live/keys';
import { hostOf } from '../live/host-filter';
import { formatBytes, formatClock, formatRelative, formatSpi } from '../format';
import { rekeyText } from '../tunnels/rekey-text';
import { alarmTunnelHref, tunnelHref } from '../tunnels/href';
import { RateStrip } from '../tunnels/RateStrip';
import { lastHandshakeText, usePeersByTunnel } from '../wireguard/wireguard-tunnels';
import { ALARM_WORDS, CAUSE_WORDS } from '../tunnels/alarm-text';
import { HOST_STATE_RANK, HOST_STATE_WORDS } from '../fleet/host-text';
import { useFleet } from '../fleet/useFleet';

const PAGE_MS = 10_000;
/** Events the ticker shows beside rotations: what went away (an SA, a policy at its hard limit, an ovpn peer). */
const TICKER_EVENTS: ReadonlySet<EventCode> = new Set<EventCode>(['sa-deleted', 'sa-hard-expire', 'policy-hard-expire', 'peer-deleted']);
const STALE_AFTER_MS = 5_000;
/** A tile's box (px): every tile has the same height, so the tiles that fit are counted from the space left. */
const TILE = { minWidth: 400, height: 196, gap: 16 };

type T = OnWire<Tunnel>;
type H = OnWire<FleetHost>;

/** How many tiles the element's box holds (12 before it is measured). */
function useTileCapacity(): [React.RefObject<HTMLElement | null>, number] {
  const ref = useRef<HTMLElement>(null);
  const [n, setN] = useState(12);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const calc = () => {
      const cols = Math.max(1, Math.floor((el.clientWidth + TILE.gap) / (TILE.minWidth + TILE.gap)));
      const rows = Math.max(1, Math.floor((el.clientHeight + TILE.gap) / (TILE.height + TILE.gap)));
      setN(cols * rows);
    };
    calc();
    const ro = new ResizeObserver(calc);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, n];
}

const STATE_STYLE: Record<string, { box: string; word: string }> = {
  up: { box: 'border-emerald-400 bg-emerald-950', word: 'UP' },
  rekeying: { box: 'border-sky-400 bg-sky-950', word: 'REKEYING' },
  down: { box: 'border-red-500 bg-red-950', word: 'DOWN' },
  idle: { box: 'border-slate-500 bg-slate-900', word: 'IDLE' },
};

/** 0: alarmed, 1: down — the problems; 2: rekeying, 3: up — healthy. */
const tunnelRank = (t: T) => (t.alarms.length ? 0 : t.state === 'down' ? 1 : t.state === 'rekeying' ? 2 : 3);
const byName = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });

/** wgEndpoint: a WireGuard peer's endpoint, shown where other tunnels show their SPI (its key is in the name already). */
function Tile({ t, now, host, wgEndpoint }: { t: T; now: number; host?: string; wgEndpoint?: string }) {
  const alarm = t.alarms.length > 0;
  const st = STATE_STYLE[t.state] ?? STATE_STYLE.down!;
  const rekey = t.family === 'wireguard' ? lastHandshakeText(t, now) : rekeyText(t.countdown, now, t.state);
  return (
    <article data-testid="wall-tile" data-state={t.state} data-alarm={alarm} data-host={host} className={`relative flex flex-col gap-1 overflow-hidden rounded-xl border-4 px-4 py-2 ${alarm ? 'border-amber-400 bg-amber-950' : st.box}`} style={{ height: TILE.height }}>
      {/* The last hour's byte rate from history, faint behind the tile's foot (no layout space of its own); a
          fleet console's history is its own record of what its hosts sent (docs/fleet.md). */}
      <RateStrip tunnelKey={t.key} className="pointer-events-none absolute inset-x-0 bottom-0 h-12 w-full text-sky-300 opacity-40" />
      <div className="flex items-baseline justify-between gap-3">
        <span className="text-2xl font-black tracking-wider">{alarm ? '⚠ ' : ''}{st.word}</span>
        {host && <span className="truncate font-mono text-xl text-slate-300">{host}</span>}
      </div>
      {/* The name has the tile's whole width and wraps (two lines at most) instead of losing its end. */}
      <h3 title={t.name} className="line-clamp-2 font-mono text-2xl font-bold leading-tight [overflow-wrap:anywhere]"><Link href={tunnelHref(t.key)}>{t.name}</Link></h3>
      <div className="mt-auto flex justify-between text-xl">
        <span className="truncate">{rekey.label}</span>
        <span className={`tabular shrink-0 font-semibold ${rekey.urgent ? 'text-amber-300' : ''}`}>{rekey.value}</span>
      </div>
      {alarm ? (
        <p className="truncate text-xl font-bold text-amber-300">{t.alarms.map((a) => ALARM_WORDS[a] ?? a).join(' · ')}</p>
      ) : (
        <div className="flex justify-between text-xl text-slate-300">
          <span className="font-mono">{t.current ? formatSpi(t.current.spi) : t.keyId !== undefined ? `key ${t.keyId}` : t.family === 'wireguard' ? (wgEndpoint ?? 'no endpoint') : ''}</span>
          <span className="tabular">{formatBytes(t.bytes)}</span>
        </div>
      )}
    </article>
  );
}

/** A host that stopped reporting (or speaks another protocol version): an alarm of its own. */
function HostTile({ h, now, tunnels }: { h: H; now: number; tunnels: number }) {
  const bad = h.state === 'unreachable' || h.state === 'mismatch';
  return (
    <article data-testid="wall-host-tile" data-host={h.host} data-state={h.state} className={`flex flex-col gap-1 overflow-hidden rounded-xl border-4 px-4 py-2 ${bad ? 'border-red-500 bg-red-950' : 'border-amber-400 bg-amber-950'}`} style={{ height: TILE.height }}>
      <span className="text-2xl font-black tracking-wider">{bad ? '✖' : '⚠'} HOST {HOST_STATE_WORDS[h.state].toUpperCase()}</span>
      <h3 className="truncate font-mono text-3xl font-bold">{h.host}</h3>
      <p className="mt-auto text-xl">last seen {formatRelative(h.lastSeen, now)}</p>
      <p className="truncate text-xl text-slate-300">{h.reason ?? `${tunnels} tunnels, as last reported`}</p>
    </article>
  );
}

interface HostGroup {
  name: string;
  row?: H;
  problems: T[];
  healthy: T[];
  rekeying: number;
}

/** One host in the fleet strip: its healthy tunnels as a count, its problems as a number beside. */
function HostCell({ g, now, fleet }: { g: HostGroup; now: number; fleet: boolean }) {
  const state = g.row?.state ?? 'up';
  const down = state !== 'up';
  const tone = down ? (state === 'stale' ? 'border-amber-400 bg-amber-950' : 'border-red-500 bg-red-950') : g.problems.length ? 'border-amber-400 bg-slate-900' : 'border-emerald-600 bg-slate-900';
  const total = g.problems.length + g.healthy.length;
  return (
    <li data-testid="wall-host" data-host={g.name} data-state={state} className={`flex flex-col justify-center rounded-lg border-2 px-3 py-1 ${tone}`}>
      <span className="truncate font-mono text-xl font-bold" title={g.name}>{g.name}</span>
      {down ? (
        <span className="truncate text-lg font-bold" title={`last seen ${formatRelative(g.row?.lastSeen, now)}`}>{HOST_STATE_WORDS[state].toUpperCase()}</span>
      ) : (
        <span className="flex gap-3 text-lg">
          <span data-testid="wall-healthy" className="text-emerald-300">✓ {g.healthy.length}{fleet ? '' : ' up'}</span>
          {g.rekeying > 0 && <span className="text-sky-300">↻ {g.rekeying}</span>}
          {g.problems.length > 0 && <span className="font-bold text-amber-300">⚠ {g.problems.length}</span>}
          {total === 0 && <span className="text-slate-400">no tunnels</span>}
        </span>
      )}
    </li>
  );
}

export function Wall() {
  const st = useLiveStatus();
  const fleet = useFleet();
  const tunnels = useEntities('tunnel');
  const hosts = useEntities('host');
  const alarms = useEntities('alarm');
  const rotations = useEntities('rotation');
  const events = useEntities('event');
  const wgPeers = usePeersByTunnel();
  const [area, capacity] = useTileCapacity();
  const [page, setPage] = useState(0);
  const now = st.now ?? Date.now();
  const here = st.server?.hostname ?? '';

  // Tunnels by host (one group in single-host mode), hosts in name order.
  const groups = useMemo(() => {
    const m = new Map<string, HostGroup>();
    const group = (name: string) => {
      let g = m.get(name);
      if (!g) m.set(name, (g = { name, problems: [], healthy: [], rekeying: 0 }));
      return g;
    };
    for (const h of hosts?.rows.values() ?? []) group(h.host).row = h;
    for (const t of tunnels?.rows.values() ?? []) {
      const g = group(hostOf(t) ?? here);
      const r = tunnelRank(t);
      if (r < 2) g.problems.push(t);
      else {
        g.healthy.push(t);
        if (r === 2) g.rekeying++;
      }
    }
    for (const g of m.values()) {
      g.problems.sort((a, b) => tunnelRank(a) - tunnelRank(b) || byName(a.name, b.name));
      g.healthy.sort((a, b) => byName(a.name, b.name));
    }
    return [...m.values()].sort((a, b) => byName(a.name, b.name));
  }, [tunnels, hosts, here]);

  // Trouble first: hosts that stopped reporting, then problem tunnels grouped by host (worst host first);
  // a silent host's tunnels are its tile, not tiles of their own. Healthy tunnels follow only while all fits.
  const { tiles, folded } = useMemo(() => {
    type Tiled = { key: string; host?: H; tunnel?: T; group: HostGroup };
    const down = groups.filter((g) => g.row && g.row.state !== 'up').sort((a, b) => HOST_STATE_RANK[a.row!.state] - HOST_STATE_RANK[b.row!.state] || byName(a.name, b.name));
    const live = groups.filter((g) => !g.row || g.row.state === 'up');
    const worst = (g: HostGroup) => (g.problems[0] ? tunnelRank(g.problems[0]) : 9);
    const problems: Tiled[] = [
      ...down.map((g) => ({ key: `host:${g.name}`, host: g.row, group: g })),
      ...[...live].sort((a, b) => worst(a) - worst(b) || byName(a.name, b.name)).flatMap((g) => g.problems.map((t) => ({ key: t.key, tunnel: t, group: g }))),
    ];
    const healthy: Tiled[] = live.flatMap((g) => g.healthy.map((t) => ({ key: t.key, tunnel: t, group: g })));
    const fold = problems.length + healthy.length > capacity;
    return { tiles: fold ? problems : [...problems, ...healthy], folded: fold };
  }, [groups, capacity]);
  const pages = Math.max(1, Math.ceil(tiles.length / capacity));
  useEffect(() => {
    if (pages <= 1) return setPage(0);
    const h = setInterval(() => setPage((p) => (p + 1) % pages), PAGE_MS);
    return () => clearInterval(h);
  }, [pages]);
  const shown = tiles.slice((page % pages) * capacity, (page % pages + 1) * capacity);
  const showHosts = fleet || folded;
  const maxAlarms = fleet ? 3 : 5;

  const alarmList = useMemo(() => {
    const l = alarms ? [...alarms.rows.values()] : [];
    return l.sort((a, b) => (a.severity === b.severity ? a.since - b.since : a.severity === 'critical' ? -1 : 1));
  }, [alarms]);

  const ticker = useMemo(() => {
    const items: Array<{ key: string; time: number; text: string }> = [];
    const on = (row: object) => (fleet && hostOf(row) ? `${hostOf(row)}: ` : '');
    for (const r of rotations?.rows.values() ?? []) items.push({ key: `r${r.key}`, time: r.time, text: `${on(r)}${r.state === 'aborted' ? `REKEY FAILED ${r.tunnelName}` : `ROTATED ${r.tunnelName} (${CAUSE_WORDS[r.cause] ?? r.cause})`}` });
    for (const e of events?.rows.values() ?? []) if (e.code && TICKER_EVENTS.has(e.code)) items.push({ key: `e${e.id}`, time: e.time, text: `${on(e)}${e.type.toUpperCase()} ${e.summary}` });
    return items.sort((a, b) => b.time - a.time).slice(0, 12);
  }, [rotations, events, fleet]);

  const downFor = !st.connected && st.disconnectedAt ? now - st.disconnectedAt : 0;
  const stale = (!st.connected && st.everConnected && downFor > STALE_AFTER_MS) || (!st.everConnected && st.reconnects > 2);
  const staleSince = st.disconnectedAt ?? st.lastMessageAt;
  const hostsDown = groups.filter((g) => g.row && g.row.state !== 'up').length;

  return (
    <div className="relative flex h-screen flex-col gap-4 overflow-hidden bg-black p-6 text-white" data-testid="wall">
      <header className="flex items-baseline justify-between">
        <h1 className="text-3xl font-black tracking-tight">
          sascope <span className="font-normal text-slate-400">{fleet ? `fleet · ${groups.length} hosts${hostsDown ? ` · ${hostsDown} not reporting` : ''}` : here}</span>
        </h1>
        <div className="flex items-baseline gap-6 text-2xl">
          <span className={st.connected ? 'text-emerald-400' : 'text-red-400'}>{st.connected ? '● LIVE' : '○ OFFLINE'}</span>
          {/* The clock only from the live tick: the page's HTML is built without one (a clock there is a hydration mismatch). */}
          <span className="tabular">{st.now !== undefined ? formatClock(st.now) : ''}</span>
        </div>
      </header>

      <section aria-label="Active alarms" data-testid="wall-alarms">
        {alarmList.length === 0 ? (
          <p className="rounded-xl border-4 border-emerald-500 bg-emerald-950 px-5 py-2 text-3xl font-bold">✓ NO ALARMS</p>
        ) : (
          <ul className="space-y-2">
            {alarmList.slice(0, maxAlarms).map((a: OnWire<Alarm>) => (
              <li key={a.key} className={`flex items-baseline gap-4 rounded-xl border-4 px-5 py-1 text-3xl ${a.severity === 'critical' ? 'border-red-500 bg-red-950' : 'border-amber-400 bg-amber-950'}`}>
                <span className="font-black">{a.severity === 'critical' ? '✖ CRITICAL' : '⚠ WARNING'}</span>
                {fleet && hostOf(a) && <span className="font-mono font-bold">{hostOf(a)}</span>}
                <span className="font-bold">{alarmTunnelHref(a) ? <Link href={alarmTunnelHref(a)!}>{ALARM_WORDS[a.type] ?? a.type}</Link> : (ALARM_WORDS[a.type] ?? a.type)}</span>
                <span className="truncate text-2xl text-slate-200">{a.summary}</span>
              </li>
            ))}
            {alarmList.length > maxAlarms && <li className="text-2xl text-slate-300">+ {alarmList.length - maxAlarms} more alarms</li>}
          </ul>
        )}
      </section>

      <section aria-label="Tunnels" ref={area} className="min-h-0 flex-1">
        {!tunnels ? (
          <p className="text-3xl text-slate-400">Waiting for data…</p>
        ) : tiles.length === 0 ? (
          <p className="text-3xl text-slate-400">{groups.some((g) => g.healthy.length) ? '✓ Every tunnel is up.' : 'No tunnels.'}</p>
        ) : (
          <div className="grid" style={{ gap: TILE.gap, gridTemplateColumns: `repeat(auto-fill, minmax(${TILE.minWidth}px, 1fr))` }}>
            {shown.map((x) =>
              x.host ? <HostTile key={x.key} h={x.host} now={now} tunnels={x.group.problems.length + x.group.healthy.length} /> : <Tile key={x.key} t={x.tunnel!} now={now} host={fleet ? x.group.name : undefined} wgEndpoint={wgPeers.get(x.tunnel!.key)?.endpoint} />,
            )}
          </div>
        )}
      </section>
      {pages > 1 && (
        <p className="-mt-3 text-right text-xl text-slate-400" data-testid="wall-page">
          page {(page % pages) + 1} of {pages} · {tiles.length} {folded ? 'problems' : 'tunnels'}
        </p>
      )}

      {showHosts && groups.length > 0 && (
        <ul aria-label={fleet ? 'Hosts' : 'Tunnels up'} data-testid="wall-hosts" className="grid gap-3" style={{ gridTemplateColumns: 'repeat(auto-fill, minmax(170px, 1fr))' }}>
          {groups.map((g) => (
            <HostCell key={g.name} g={g} now={now} fleet={fleet} />
          ))}
        </ul>
      )}

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

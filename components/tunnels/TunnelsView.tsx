'use client';
// Tunnels (SAs grouped across rekeys, ovpn peers) with continuous counters and countdowns, and the
// rotation timeline: every rekey once, with old/new SPI and fingerprint, cause and overlap.
import Link from 'next/link';
import { useMemo } from 'react';
import type { OnWire } from '@/server/wire/entities';
import type { Rotation, Tunnel } from '@/server/wire/tunnels';
import { IKE_DOWN_WORDS } from '@/server/wire/vici';
import { keyOnHost } from '@/server/wire/fleet';
import { useEntities, useLiveStatus } from '../live/keys';
import { Panel, PanelBody } from '../ui/Panel';
import { DataTable, columnsOf } from '../ui/DataTable';
import { RelTime } from '../ui/RelTime';
import { useUrlState } from '../ui/useUrlState';
import { formatBytes, formatCount, formatSpi } from '../format';
import { ALARM_WORDS, CAUSE_TONE, CAUSE_WORDS } from './alarm-text';
import { useFleet } from '../fleet/useFleet';
import { hostOf } from '../live/host-filter';
import { rekeyText } from './rekey-text';
import { tunnelHref } from './href';
import { handshakeText, lastHandshakeText, shortKey, usePeersByTunnel } from '../wireguard/wireguard-tunnels';

type T = OnWire<Tunnel>;
type R = OnWire<Rotation>;

const STATE_TONE: Record<string, string> = {
  up: 'text-emerald-700 dark:text-emerald-400',
  rekeying: 'text-sky-700 dark:text-sky-400',
  down: 'font-semibold text-red-700 dark:text-red-400',
  idle: 'text-slate-500 dark:text-slate-400',
};

export function rotationText(r: R): string {
  if (r.family === 'xfrm') return `${r.oldSpi !== undefined ? formatSpi(r.oldSpi) : '—'} → ${r.newSpi !== undefined ? formatSpi(r.newSpi) : '—'}`;
  if (r.family === 'ovpn') return `key-id ${r.oldKeyId ?? '—'} → ${r.newKeyId ?? '—'}`;
  if (r.family === 'wireguard') return handshakeText(r);
  return 'device key rotated';
}

/** A WireGuard peer's tunnel has no SPI: its public key stands in (short, whole on hover). */
function WireguardPeerKey({ publicKey }: { publicKey: string }) {
  return <span className="font-mono text-xs" title={publicKey}>peer {shortKey(publicKey)}</span>;
}

export function RotationTimeline({ rotations, windowMs = 3600_000, label }: { rotations: R[]; windowMs?: number; label: string }) {
  const { now } = useLiveStatus();
  const end = now ?? Date.now();
  const start = end - windowMs;
  const shown = rotations.filter((r) => r.time >= start);
  return (
    <figure className="px-4 py-3">
      <div role="img" aria-label={`${label}: ${shown.length} rotations in the last ${Math.round(windowMs / 60000)} minutes`} className="relative h-8 rounded bg-slate-100 dark:bg-slate-800">
        {shown.map((r) => (
          <span
            key={r.key}
            title={`${new Date(r.time).toLocaleTimeString()} · ${r.tunnelName} · ${rotationText(r)} · ${CAUSE_WORDS[r.cause] ?? r.cause}`}
            className={`absolute top-1 h-6 w-1.5 rounded ${CAUSE_TONE[r.cause] ?? 'bg-slate-500'}`}
            style={{ left: `calc(${(((r.time - start) / windowMs) * 100).toFixed(3)}% - 3px)` }}
          />
        ))}
      </div>
      <figcaption className="mt-1 flex flex-wrap justify-between gap-2 text-xs text-slate-500">
        <span>{Math.round(windowMs / 60000)} min ago</span>
        <span className="flex flex-wrap gap-3">
          {Object.entries(CAUSE_WORDS).map(([k, w]) => (
            <span key={k} className="inline-flex items-center gap-1">
              <span aria-hidden="true" className={`inline-block h-2 w-2 rounded ${CAUSE_TONE[k]}`} />
              {w}
            </span>
          ))}
        </span>
        <span>now</span>
      </figcaption>
    </figure>
  );
}

export function TunnelsView() {
  const tunnels = useEntities('tunnel');
  const rotations = useEntities('rotation');
  const { now } = useLiveStatus();
  const [url, setUrl] = useUrlState();
  const selected = url.get('tunnel') ?? undefined;
  const tlist = useMemo(() => (tunnels ? [...tunnels.rows.values()] : []), [tunnels, tunnels?.version]);
  const rlist = useMemo(() => (rotations ? [...rotations.rows.values()].sort((a, b) => b.time - a.time) : []), [rotations, rotations?.version]);
  // A rotation names its tunnel by the key it has on its host (server/wire/fleet.ts).
  const shownRotations = selected ? rlist.filter((r) => keyOnHost(r, r.tunnel) === selected) : rlist;
  const fleet = useFleet();
  const wgPeers = usePeersByTunnel();
  const nowMs = now ?? Date.now();

  const columns = columnsOf<T>([
    ...(fleet ? [{ id: 'host', header: 'Host', cell: (t: T) => <span className="font-mono text-xs">{hostOf(t)}</span>, sortValue: (t: T) => hostOf(t) }] : []),
    { id: 'name', header: 'Tunnel', cell: (t) => <Link href={tunnelHref(t.key)} onClick={(e) => e.stopPropagation()} className="font-mono text-xs underline decoration-slate-400">{t.name}</Link>, sortValue: (t) => t.name },
    { id: 'state', header: 'State', cell: (t) => <span className={STATE_TONE[t.state] ?? ''}>{t.state}{t.ike?.downReason ? ` · ${IKE_DOWN_WORDS[t.ike.downReason]}` : ''}</span>, sortValue: (t) => t.state },
    { id: 'dir', header: 'Dir', cell: (t) => t.direction ?? '—' },
    { id: 'current', header: 'Current', cell: (t) => (t.current ? <span className="font-mono text-xs">{formatSpi(t.current.spi)} {t.current.fingerprint ?? ''}</span> : t.keyId !== undefined ? `key-id ${t.keyId}` : wgPeers.get(t.key) ? <WireguardPeerKey publicKey={wgPeers.get(t.key)!.publicKey} /> : '—') },
    { id: 'alg', header: 'Algorithm', cell: (t) => <span className="text-xs">{t.current?.algorithm ?? '—'}{t.current?.offload ? ` · offload ${t.current.offload}` : ''}</span> },
    { id: 'bytes', header: 'Bytes (all SAs)', cell: (t) => <span title={`${formatCount(t.packets)} packets since ${new Date(t.firstSeen).toLocaleString()}`}>{formatBytes(t.bytes)}</span>, sortValue: (t) => BigInt(t.bytes), align: 'right' },
    {
      id: 'rekey',
      header: 'Next rekey',
      cell: (t) => {
        const r = t.family === 'wireguard' ? lastHandshakeText(t, nowMs) : rekeyText(t.countdown, nowMs, t.state);
        return <span className={r.urgent ? 'text-amber-700 dark:text-amber-400' : ''}>{r.label === 'next rekey' ? r.value : `${r.label}: ${r.value}`}</span>;
      },
      sortValue: (t) => t.countdown?.softExpiresAt ?? Number.MAX_SAFE_INTEGER,
      align: 'right',
    },
    { id: 'seq', header: 'Seq used', cell: (t) => (t.countdown?.sequenceUsedPercent !== undefined ? `${t.countdown.sequenceUsedPercent.toFixed(2)} %` : '—'), align: 'right' },
    { id: 'rot', header: 'Rotations', cell: (t) => (t.rotations ? <>{t.rotations} · <RelTime ms={t.lastRotation} /></> : '0'), sortValue: (t) => t.rotations, align: 'right' },
    {
      id: 'alarms',
      header: 'Alarms',
      cell: (t) =>
        t.alarms.length ? (
          <span className="text-xs font-semibold text-red-700 dark:text-red-400">{t.alarms.map((a) => ALARM_WORDS[a as keyof typeof ALARM_WORDS] ?? a).join(', ')}</span>
        ) : (
          <span className="text-xs text-slate-400">none</span>
        ),
    },
  ]);

  const rotationColumns = columnsOf<R>([
    { id: 'time', header: 'When', cell: (r) => <RelTime ms={r.time} />, sortValue: (r) => r.time },
    { id: 'tunnel', header: 'Tunnel', cell: (r) => <span className="font-mono text-xs">{r.tunnelName}</span>, sortValue: (r) => r.tunnelName },
    { id: 'change', header: 'Change', cell: (r) => <span className="font-mono text-xs">{rotationText(r)}</span> },
    { id: 'fp', header: 'Key fingerprint', cell: (r) => <span className="font-mono text-xs">{r.oldFingerprint || r.newFingerprint ? `${r.oldFingerprint ?? '—'} → ${r.newFingerprint ?? '—'}` : '—'}</span> },
    { id: 'cause', header: 'Cause', cell: (r) => `${CAUSE_WORDS[r.cause] ?? r.cause}${r.by ? ` (${r.by})` : ''}`, sortValue: (r) => r.cause },
    {
      id: 'overlap',
      header: 'Overlap',
      cell: (r) =>
        r.state === 'aborted' ? (
          <span className="font-semibold text-amber-700 dark:text-amber-400" title="The new SA went while the old one stayed: the rekey failed (not counted as a rotation)">rekey failed</span>
        ) : r.state === 'overlapping' ? (
          'both alive'
        ) : r.overlapMs !== undefined ? (
          `${(r.overlapMs / 1000).toFixed(1)} s`
        ) : (
          '—'
        ),
      align: 'right',
    },
  ]);

  return (
    <div className="space-y-4">
      <Panel title={`Tunnels${tunnels ? ` (${tlist.length})` : ''}`} id="tunnels">
        <PanelBody loading={!tunnels && 'Loading tunnels…'} empty={tlist.length === 0 && 'No tunnels: no SAs, no ovpn and no WireGuard peers in this namespace.'}>
          <DataTable label="Tunnels" rows={tlist} columns={columns} rowKey={(t) => t.key} initialSort={{ id: 'name' }} selectedKey={selected} onOpen={(t) => setUrl({ tunnel: selected === t.key ? undefined : t.key })} rowTestId={(t) => `tunnel-${t.key}`} />
        </PanelBody>
      </Panel>
      <Panel
        title={selected ? `Rotations of ${tunnels?.rows.get(selected)?.name ?? selected}` : 'Rotations (all tunnels)'}
        id="rotations"
        actions={selected ? <button type="button" className="text-xs underline" onClick={() => setUrl({ tunnel: undefined })}>show all</button> : undefined}
      >
        <PanelBody loading={!rotations && 'Loading rotations…'}>
          <RotationTimeline rotations={shownRotations} label="Rotation timeline" />
          <PanelBody empty={shownRotations.length === 0 && 'No rotation seen yet.'}>
            <DataTable label="Rotations" rows={shownRotations.slice(0, 500)} columns={rotationColumns} rowKey={(r) => r.key} initialSort={{ id: 'time', desc: true }} rowTestId={(r) => `rotation-${r.key}`} />
          </PanelBody>
        </PanelBody>
      </Panel>
    </div>
  );
}

'use client';
// OpenVPN data-channel offload: devices → peers → key slots, counters with rates. Key material is never
// read: a slot shows its key-id and cipher only.
import { useMemo } from 'react';
import type { OnWire } from '@/server/wire/entities';
import type { OvpnPeer } from '@/server/wire/ovpn';
import { useEntities } from '../live/keys';
import { rates } from '../live/rates';
import { Panel, PanelBody, PanelState } from '../ui/Panel';
import { DataTable, columnsOf } from '../ui/DataTable';
import { RelTime } from '../ui/RelTime';
import { Sparkline } from '../ui/Sparkline';
import { StateBadge } from '../SourceStatusList';
import { SourceEvents } from '../SourceEvents';
import { formatBytes, formatCount } from '../format';

type Peer = OnWire<OvpnPeer>;

const PEER_TONE: Record<string, string> = {
  ok: 'text-emerald-700 dark:text-emerald-400',
  'rekey-needed': 'font-semibold text-amber-700 dark:text-amber-400',
  'no-key': 'font-semibold text-red-700 dark:text-red-400',
};

const peerColumns = columnsOf<Peer>([
  { id: 'id', header: 'Peer', cell: (p) => p.id, sortValue: (p) => p.id, align: 'right' },
  { id: 'state', header: 'State', cell: (p) => <span className={PEER_TONE[p.state] ?? ''}>{p.state === 'rekey-needed' ? 'key swap needed' : p.state}</span>, sortValue: (p) => p.state },
  { id: 'remote', header: 'Remote', cell: (p) => <span className="font-mono text-xs">{p.remoteAddress ? `${p.remoteAddress}:${p.remotePort ?? ''}` : '—'}</span>, sortValue: (p) => p.remoteAddress ?? '' },
  { id: 'vpn', header: 'VPN address', cell: (p) => <span className="font-mono text-xs">{[p.vpnIPv4, p.vpnIPv6].filter(Boolean).join(' ') || '—'}</span> },
  {
    id: 'keys',
    header: 'Key slots',
    cell: (p) =>
      p.keys.length === 0 ? (
        <span className="text-xs text-red-700 dark:text-red-400">{p.keysError ?? 'no key'}</span>
      ) : (
        <ul className="space-y-0.5 text-xs">
          {p.keys.map((k) => (
            <li key={k.slot} data-testid={`ovpn-slot-${p.key}-${k.slot}`}>
              <span className="font-medium">{k.slot}</span> key-id {k.keyId} · {k.cipher}
            </li>
          ))}
        </ul>
      ),
  },
  { id: 'rx', header: 'VPN RX', cell: (p) => <span title={`${formatCount(p.vpn.rxPackets)} packets`}>{formatBytes(p.vpn.rxBytes)}</span>, sortValue: (p) => BigInt(p.vpn.rxBytes), align: 'right' },
  { id: 'tx', header: 'VPN TX', cell: (p) => <span title={`${formatCount(p.vpn.txPackets)} packets`}>{formatBytes(p.vpn.txBytes)}</span>, sortValue: (p) => BigInt(p.vpn.txBytes), align: 'right' },
  {
    id: 'rate',
    header: 'Rate (rx+tx)',
    cell: (p) => (
      <span className="inline-flex items-center gap-2">
        {formatBytes(Math.round(rates.peerRx.rate(p.key) + rates.peerTx.rate(p.key)))}/s
        <Sparkline values={rates.peerRx.series(p.key).map((v, i) => v + (rates.peerTx.series(p.key)[i] ?? 0))} width={60} height={18} label="peer traffic rate" />
      </span>
    ),
    align: 'right',
  },
  { id: 'link', header: 'Transport RX/TX', cell: (p) => `${formatBytes(p.link.rxBytes)} / ${formatBytes(p.link.txBytes)}`, align: 'right' },
  { id: 'keepalive', header: 'Keepalive', cell: (p) => (p.keepaliveIntervalSeconds !== undefined ? `${p.keepaliveIntervalSeconds} s / ${p.keepaliveTimeoutSeconds ?? '—'} s` : '—') },
  { id: 'rot', header: 'Key changes', cell: (p) => (p.rotations ? <>{p.rotations} · <RelTime ms={p.lastRotation} /></> : '0'), sortValue: (p) => p.rotations, align: 'right' },
]);

export function OvpnView() {
  const devs = useEntities('ovpn-dev');
  const peers = useEntities('ovpn-peer');
  const src = useEntities('source')?.rows.get('ovpn');
  const byDev = useMemo(() => {
    const m = new Map<number, Peer[]>();
    for (const p of peers?.rows.values() ?? []) {
      const l = m.get(p.ifindex) ?? [];
      l.push(p);
      m.set(p.ifindex, l);
    }
    return m;
  }, [peers, peers?.version]);

  if (!devs) return <PanelState kind="loading">Loading OpenVPN devices…</PanelState>;
  const list = [...devs.rows.values()];
  return (
    <div className="space-y-4">
      {src && src.state !== 'ok' && (
        <div role="status" className="flex items-center gap-2 rounded border border-slate-200 bg-white px-4 py-3 text-sm dark:border-slate-800 dark:bg-slate-900">
          <StateBadge state={src.state} /> OpenVPN offload: {src.reason ?? src.state}
        </div>
      )}
      {list.length === 0 ? (
        <Panel title="OpenVPN devices">
          <PanelState kind="empty">No ovpn devices in this namespace{src?.state === 'not-available' ? ' (the ovpn module is not loaded)' : ''}.</PanelState>
        </Panel>
      ) : (
        list.map((d) => {
          const ps = byDev.get(d.ifindex) ?? [];
          return (
            <Panel key={d.ifindex} id={`ovpn-${d.ifindex}`} title={`${d.name} · ${d.mode ?? 'ovpn'} · ${d.operState} · ${ps.length} peer${ps.length === 1 ? '' : 's'}`}>
              {d.error && <PanelState kind="error">Peers unreadable: {d.error}</PanelState>}
              {d.lastPeerDeleted && (
                <p className="px-4 pt-2 text-xs text-amber-800 dark:text-amber-300">
                  Last peer deleted: {d.lastPeerDeleted.peerId} ({d.lastPeerDeleted.reason}) <RelTime ms={d.lastPeerDeleted.time} />
                </p>
              )}
              <PanelBody empty={ps.length === 0 && `No peers on ${d.name}.`}>
                <DataTable label={`Peers of ${d.name}`} rows={ps} columns={peerColumns} rowKey={(p) => p.key} initialSort={{ id: 'id' }} rowTestId={(p) => `ovpn-peer-${p.key}`} />
              </PanelBody>
            </Panel>
          );
        })
      )}
      <SourceEvents source="ovpn" title="OpenVPN notifications" empty="No peer deletions, key swaps or floats since the server started." />
    </div>
  );
}

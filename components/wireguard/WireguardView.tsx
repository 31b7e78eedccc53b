'use client';
// WireGuard: devices and their peers as the wireguard source polls them. Public keys only (base64, as `wg`
// prints them): the private and preshared keys never reach the browser. Handshake ages count with the live
// tick; a peer's state is its tunnel's (server/model/tunnels), read when the tunnel row is there.
import { useMemo, useState } from 'react';
import type { OnWire } from '@/server/wire/entities';
import type { WireguardDevice, WireguardPeer } from '@/server/wire/wireguard';
import type { Tunnel } from '@/server/wire/tunnels';
import { useEntities, useLiveStatus } from '../live/keys';
import { hostOf } from '../live/host-filter';
import { rates } from '../live/rates';
import { useFleet } from '../fleet/useFleet';
import { Panel, PanelBody, PanelState } from '../ui/Panel';
import { DataTable, columnsOf, type Column } from '../ui/DataTable';
import { RelTime } from '../ui/RelTime';
import { Badge, type Tone } from '../ui/Badge';
import { SourceNotice, useSource } from '../SourceNotice';
import { SourceEvents } from '../SourceEvents';
import { ALARM_WORDS } from '../tunnels/alarm-text';
import { formatBytes } from '../format';
import { shortKey, peerTunnelKey } from './wireguard-tunnels';

type Dev = OnWire<WireguardDevice>;
type Peer = OnWire<WireguardPeer>;
type T = OnWire<Tunnel>;

/** A public key, shortened or whole, with a button that copies the whole key. */
function PublicKey({ value, short }: { value: string; short?: boolean }) {
  const [copied, setCopied] = useState(false);
  const copy = () =>
    void navigator.clipboard?.writeText(value).then(
      () => (setCopied(true), setTimeout(() => setCopied(false), 1500)),
      () => undefined,
    );
  return (
    <span className="inline-flex items-center gap-1">
      <span className="font-mono text-xs" title={value}>{short ? shortKey(value) : value}</span>
      <button type="button" onClick={(e) => (e.stopPropagation(), copy())} aria-label={`Copy public key ${value}`} title="Copy the public key" className="rounded px-1 text-xs text-slate-500 hover:bg-slate-100 dark:hover:bg-slate-800">
        {copied ? 'copied' : 'copy'}
      </button>
    </span>
  );
}

/**
 * A peer's state from its tunnel (server/model/tunnels/alarm-rules.ts, wireguardPeerState): up, idle (no
 * handshake due), or down — expected up without a fresh handshake: "stale handshake", or "never" when it
 * never completed one. Without a tunnel row, and while a new peer's first handshake is not yet overdue,
 * only "never" is known.
 */
function peerState(p: Peer, t: T | undefined): { word: string; tone: Tone; title?: string } {
  const never = p.lastHandshake === undefined;
  if (t?.state === 'down') return { word: never ? 'never' : 'stale handshake', tone: 'bad', title: t.alarms.map((a) => ALARM_WORDS[a] ?? a).join(', ') || undefined };
  if (t?.state === 'idle') return { word: 'idle', tone: 'muted', title: 'No persistent keepalive and nothing sent: no handshake is due' };
  if (never) return { word: 'never', tone: 'info', title: 'No handshake completed yet' };
  if (t) return { word: t.state, tone: 'ok' };
  return { word: '—', tone: 'muted', title: 'No tunnel row for this peer (yet)' };
}

/** The Host column of a fleet console (none on a single host). */
const hostColumn = <R extends object>(fleet: boolean): Column<R>[] => (fleet ? [{ id: 'host', header: 'Host', cell: (r) => <span className="font-mono text-xs">{hostOf(r)}</span>, sortValue: (r) => hostOf(r) }] : []);

const fwmarkText = (m: number | undefined) => (m ? `0x${m.toString(16)}` : 'none');

export function WireguardView() {
  const devs = useEntities('wg-dev');
  const peers = useEntities('wg-peer');
  const tunnels = useEntities('tunnel');
  const src = useSource('wireguard');
  const fleet = useFleet();
  const { now } = useLiveStatus();
  const devList = useMemo(() => (devs ? [...devs.rows.values()] : []), [devs, devs?.version]);
  const peerList = useMemo(() => (peers ? [...peers.rows.values()] : []), [peers, peers?.version]);

  const devColumns = useMemo(
    () =>
      columnsOf<Dev>([
        ...hostColumn<Dev>(fleet),
        { id: 'name', header: 'Device', cell: (d) => <span className="font-mono">{d.name}</span>, sortValue: (d) => d.name },
        { id: 'ifindex', header: 'Ifindex', cell: (d) => d.ifindex, sortValue: (d) => d.ifindex, align: 'right' },
        { id: 'oper', header: 'Link', cell: (d) => d.operState, sortValue: (d) => d.operState },
        { id: 'port', header: 'Listen port', cell: (d) => (d.listenPort ? d.listenPort : 'none'), sortValue: (d) => d.listenPort ?? 0, align: 'right' },
        { id: 'fwmark', header: 'Fwmark', cell: (d) => <span className="font-mono text-xs">{fwmarkText(d.fwmark)}</span>, sortValue: (d) => d.fwmark ?? 0 },
        { id: 'key', header: 'Public key', cell: (d) => (d.publicKey ? <PublicKey value={d.publicKey} /> : <span className="text-xs text-slate-500">no private key set</span>) },
        { id: 'peers', header: 'Peers', cell: (d) => d.peers, sortValue: (d) => d.peers, align: 'right' },
        { id: 'error', header: 'Read', cell: (d) => (d.error ? <span className="text-xs text-red-700 dark:text-red-400">{d.error}</span> : <span className="text-xs text-slate-500">ok</span>) },
      ]),
    [fleet],
  );

  const peerColumns = useMemo(() => columnsOf<Peer>([
    ...hostColumn<Peer>(fleet),
    { id: 'device', header: 'Device', cell: (p) => <span className="font-mono text-xs">{p.device}</span>, sortValue: (p) => p.device },
    { id: 'key', header: 'Public key', cell: (p) => <PublicKey value={p.publicKey} short />, sortValue: (p) => p.publicKey },
    {
      id: 'state',
      header: 'State',
      cell: (p) => {
        const s = peerState(p, tunnels?.rows.get(peerTunnelKey(p)));
        return <Badge tone={s.tone} title={s.title} testId={`wg-state-${p.key}`}>{s.word}</Badge>;
      },
      sortValue: (p) => peerState(p, tunnels?.rows.get(peerTunnelKey(p))).word,
    },
    { id: 'endpoint', header: 'Endpoint', cell: (p) => <span className="font-mono text-xs">{p.endpoint ?? '—'}</span>, sortValue: (p) => p.endpoint ?? '' },
    { id: 'allowed', header: 'Allowed IPs', cell: (p) => <span className="font-mono text-xs">{p.allowedIps.join(', ') || 'none'}</span>, sortValue: (p) => p.allowedIps[0] ?? '' },
    { id: 'keepalive', header: 'Keepalive', cell: (p) => (p.persistentKeepaliveSeconds ? `${p.persistentKeepaliveSeconds} s` : 'off'), sortValue: (p) => p.persistentKeepaliveSeconds, align: 'right' },
    { id: 'handshake', header: 'Last handshake', cell: (p) => <RelTime ms={p.lastHandshake} />, sortValue: (p) => p.lastHandshake ?? 0, align: 'right' },
    { id: 'rx', header: 'RX', cell: (p) => <span className="whitespace-nowrap">{formatBytes(p.rxBytes)}</span>, sortValue: (p) => BigInt(p.rxBytes), align: 'right' },
    { id: 'tx', header: 'TX', cell: (p) => <span className="whitespace-nowrap">{formatBytes(p.txBytes)}</span>, sortValue: (p) => BigInt(p.txBytes), align: 'right' },
    {
      id: 'rate',
      header: 'Rate rx / tx',
      cell: (p) => <span className="whitespace-nowrap">{formatBytes(Math.round(rates.wgRx.rate(p.key)))}/s / {formatBytes(Math.round(rates.wgTx.rate(p.key)))}/s</span>,
      sortValue: (p) => rates.wgRx.rate(p.key) + rates.wgTx.rate(p.key),
      align: 'right',
    },
    { id: 'proto', header: 'Protocol', cell: (p) => (p.protocolVersion !== undefined ? `v${p.protocolVersion}` : '—'), sortValue: (p) => p.protocolVersion ?? 0, align: 'right' },
  ]), [fleet, tunnels, tunnels?.version]);

  if (!devs) return <PanelState kind="loading">Loading WireGuard devices…</PanelState>;
  const noModule = src?.state === 'not-available' ? ' (the wireguard module is not loaded)' : '';
  return (
    <div className="space-y-4">
      <SourceNotice source={src} what="WireGuard" />
      <Panel title={`WireGuard devices (${devList.length})`} id="wg-devices">
        <PanelBody empty={devList.length === 0 && `No WireGuard interfaces in this namespace${noModule}.`}>
          <DataTable label="WireGuard devices" rows={devList} columns={devColumns} rowKey={(d) => `${hostOf(d) ?? ''}/${d.ifindex}`} initialSort={{ id: 'name' }} rowTestId={(d) => `wg-dev-${d.name}`} />
        </PanelBody>
      </Panel>
      <Panel title={`WireGuard peers${peers ? ` (${peerList.length})` : ''}`} id="wg-peers">
        <PanelBody loading={!peers && 'Loading WireGuard peers…'} empty={peerList.length === 0 && (devList.length ? 'No peers on these devices.' : 'No peers: no WireGuard interface.')}>
          <DataTable
            label="WireGuard peers"
            rows={peerList}
            columns={peerColumns}
            rowKey={(p) => p.key}
            initialSort={{ id: 'device' }}
            rowTestId={(p) => `wg-peer-${p.key}`}
            {...(peerList.length > 500 ? { virtual: { height: 640 }, refresh: now } : {})}
          />
        </PanelBody>
      </Panel>
      <SourceEvents source="wireguard" title="WireGuard events" empty="No device or peer added, removed or roaming since the server started." />
    </div>
  );
}

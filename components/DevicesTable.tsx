'use client';
import type { Link as LinkEntity, OnWire } from '@/server/wire/entities';
import { useEntities } from './live/keys';
import { DataTable, type Column } from './ui/DataTable';
import { Panel, PanelState } from './ui/Panel';
import { formatBytes, formatCount } from './format';
import { StateBadge } from './SourceStatusList';

type Row = OnWire<LinkEntity>;

const columns: Column<Row>[] = [
  { id: 'index', header: '#', cell: (l) => l.index, sortValue: (l) => l.index, align: 'right' },
  { id: 'name', header: 'Name', cell: (l) => <span className="font-mono">{l.name}</span>, sortValue: (l) => l.name },
  {
    id: 'kind',
    header: 'Kind',
    cell: (l) => (
      <>
        {l.kind ?? l.type}
        {l.xfrmIfId !== undefined && <span className="ml-1 text-xs text-slate-500">if_id {l.xfrmIfId}</span>}
        {l.ovpnMode && <span className="ml-1 text-xs text-slate-500">{l.ovpnMode}</span>}
      </>
    ),
    sortValue: (l) => l.kind ?? l.type,
  },
  {
    id: 'state',
    header: 'State',
    cell: (l) => (
      <span className={l.operState === 'up' || (l.operState === 'unknown' && l.flags.includes('UP')) ? 'text-emerald-700 dark:text-emerald-400' : 'text-slate-500'}>
        {l.operState}
        {l.flags.includes('UP') ? '' : ' (admin down)'}
      </span>
    ),
    sortValue: (l) => l.operState,
  },
  { id: 'mtu', header: 'MTU', cell: (l) => l.mtu ?? '—', sortValue: (l) => l.mtu ?? 0, align: 'right' },
  { id: 'rx', header: 'RX', cell: (l) => <span title={`${formatCount(l.stats?.rxPackets)} packets`}>{formatBytes(l.stats?.rxBytes)}</span>, sortValue: (l) => BigInt(l.stats?.rxBytes ?? 0), align: 'right' },
  { id: 'tx', header: 'TX', cell: (l) => <span title={`${formatCount(l.stats?.txPackets)} packets`}>{formatBytes(l.stats?.txBytes)}</span>, sortValue: (l) => BigInt(l.stats?.txBytes ?? 0), align: 'right' },
  {
    id: 'err',
    header: 'Errors/drops',
    cell: (l) => (l.stats ? `${formatCount(BigInt(l.stats.rxErrors) + BigInt(l.stats.txErrors))} / ${formatCount(BigInt(l.stats.rxDropped) + BigInt(l.stats.txDropped))}` : '—'),
    align: 'right',
  },
  { id: 'mac', header: 'Address', cell: (l) => <span className="font-mono text-xs">{l.address ?? ''}</span> },
];

export function DevicesTable() {
  const t = useEntities('link');
  const src = useEntities('source')?.rows.get('link');
  const rows = t ? [...t.rows.values()] : [];
  return (
    <Panel title={`Devices${t ? ` (${rows.length})` : ''}`} id="devices" actions={src && src.state !== 'ok' ? <StateBadge state={src.state} /> : undefined}>
      {!t ? (
        <PanelState kind="loading">Loading devices…</PanelState>
      ) : src && src.state !== 'ok' && rows.length === 0 ? (
        <PanelState kind="error">Devices unavailable: {src.reason ?? src.state}</PanelState>
      ) : rows.length === 0 ? (
        <PanelState kind="empty">No network devices in this namespace.</PanelState>
      ) : (
        <DataTable label="Network devices" rows={rows} columns={columns} rowKey={(l) => String(l.index)} initialSort={{ id: 'index' }} rowTestId={(l) => `link-${l.name}`} />
      )}
    </Panel>
  );
}

'use client';
import { useMemo } from 'react';
import type { Link as LinkEntity, OnWire } from '@/server/wire/entities';
import type { EthtoolDevice } from '@/server/wire/ethtool';
import { useEntities } from './live/keys';
import { rates } from './live/rates';
import { DataTable, columnsOf } from './ui/DataTable';
import { Panel, PanelBody } from './ui/Panel';
import { Badge } from './ui/Badge';
import { formatBytes, formatCount } from './format';
import { StateBadge } from './SourceStatusList';

type Row = OnWire<LinkEntity>;

/** Up, or up as far as the kernel can tell (operstate unknown on an UP device: dummy, lo …). */
export function linkIsUp(l: Row): boolean {
  return l.operState === 'up' || (l.operState === 'unknown' && l.flags.includes('UP'));
}

export function linkKind(l: Row): string {
  return l.kind ?? l.type;
}

const rate = (v: number) => `${formatBytes(Math.round(v))}/s`;

function offloadCell(e: OnWire<EthtoolDevice> | undefined, ethtoolKnown: boolean) {
  if (!e) return <span className="text-xs text-slate-400">{ethtoolKnown ? '—' : 'unknown'}</span>;
  if (e.error) return <span className="text-xs text-slate-500" title={e.error}>no features</span>;
  const f = e.ipsec.espHwOffload;
  if (!f) return <span className="text-xs text-slate-400">—</span>;
  if (f.active) return <Badge tone="accent">ESP offload</Badge>;
  if (f.requested) return <Badge tone="warn" title="requested but not active">ESP requested, off</Badge>;
  return <span className="text-xs text-slate-500">{f.changeable ? 'ESP off' : 'no ESP offload'}</span>;
}

export function DevicesTable({ selectedKey, onOpen }: { selectedKey?: string; onOpen?: (l: Row) => void } = {}) {
  const t = useEntities('link');
  const eth = useEntities('ethtool-dev');
  const src = useEntities('source')?.rows.get('link');
  const ethSrc = useEntities('source')?.rows.get('ethtool');
  const rows = useMemo(() => (t ? [...t.rows.values()] : []), [t, t?.version]);

  const columns = useMemo(
    () => columnsOf<Row>([
      { id: 'index', header: '#', cell: (l) => l.index, sortValue: (l) => l.index, align: 'right' },
      { id: 'name', header: 'Name', cell: (l) => <span className="font-mono">{l.name}</span>, sortValue: (l) => l.name },
      {
        id: 'kind',
        header: 'Kind',
        cell: (l) => (
          <>
            {linkKind(l)}
            {l.xfrmIfId !== undefined && <span className="ml-1 text-xs text-slate-500">if_id {l.xfrmIfId}</span>}
            {l.ovpnMode && <span className="ml-1 text-xs text-slate-500">{l.ovpnMode}</span>}
          </>
        ),
        sortValue: (l) => linkKind(l),
      },
      {
        id: 'state',
        header: 'State',
        cell: (l) => (
          <span className={linkIsUp(l) ? 'text-emerald-700 dark:text-emerald-400' : 'text-slate-500'}>
            {l.operState}
            {l.flags.includes('UP') ? '' : ' (admin down)'}
          </span>
        ),
        sortValue: (l) => l.operState,
      },
      { id: 'mtu', header: 'MTU', cell: (l) => (l.mtu !== undefined ? `${l.mtu} B` : '—'), sortValue: (l) => l.mtu ?? 0, align: 'right' },
      { id: 'rx', header: 'RX', cell: (l) => <span title={`${formatCount(l.stats?.rxPackets)} packets`}>{formatBytes(l.stats?.rxBytes)}</span>, sortValue: (l) => BigInt(l.stats?.rxBytes ?? 0), align: 'right' },
      { id: 'tx', header: 'TX', cell: (l) => <span title={`${formatCount(l.stats?.txPackets)} packets`}>{formatBytes(l.stats?.txBytes)}</span>, sortValue: (l) => BigInt(l.stats?.txBytes ?? 0), align: 'right' },
      {
        id: 'rate',
        header: 'Rate RX / TX',
        cell: (l) => (l.stats ? `${rate(rates.linkRx.rate(String(l.index)))} / ${rate(rates.linkTx.rate(String(l.index)))}` : '—'),
        sortValue: (l) => rates.linkRx.rate(String(l.index)) + rates.linkTx.rate(String(l.index)),
        align: 'right',
      },
      {
        id: 'err',
        header: 'Errors / drops',
        cell: (l) => (l.stats ? `${formatCount(BigInt(l.stats.rxErrors) + BigInt(l.stats.txErrors))} / ${formatCount(BigInt(l.stats.rxDropped) + BigInt(l.stats.txDropped))} pkt` : '—'),
        align: 'right',
      },
      { id: 'offload', header: 'IPsec offload', cell: (l) => offloadCell(eth?.rows.get(String(l.index)), !!ethSrc && ethSrc.state === 'ok') },
      { id: 'mac', header: 'Address', cell: (l) => <span className="font-mono text-xs">{l.address ?? ''}</span> },
    ]),
    // rates are read at render; the table re-renders with each link delta
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [eth, eth?.version, ethSrc?.state, t?.version],
  );

  return (
    <Panel title={`Devices${t ? ` (${rows.length})` : ''}`} id="devices" actions={src && src.state !== 'ok' ? <StateBadge state={src.state} /> : undefined}>
      <PanelBody
        loading={!t && 'Loading devices…'}
        error={src && src.state !== 'ok' && rows.length === 0 && `Devices unavailable: ${src.reason ?? src.state}`}
        empty={rows.length === 0 && 'No network devices in this namespace.'}
      >
        <DataTable
          label="Network devices"
          rows={rows}
          columns={columns}
          rowKey={(l) => String(l.index)}
          initialSort={{ id: 'index' }}
          rowTestId={(l) => `link-${l.name}`}
          selectedKey={selectedKey}
          onOpen={onOpen}
        />
      </PanelBody>
    </Panel>
  );
}

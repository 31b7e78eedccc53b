'use client';
import type { OnWire, XfrmPolicy } from '@/server/wire/entities';
import { useEntities } from './live/keys';
import { DataTable, columnsOf } from './ui/DataTable';
import { Panel, PanelBody } from './ui/Panel';
import { StateBadge } from './SourceStatusList';
import { formatBytes, formatSpi } from './format';

type Row = OnWire<XfrmPolicy>;

function selectorText(p: Row): string {
  const s = p.selector;
  const ports = (port: number, mask: number) => (mask ? `:${port}` : '');
  return `${s.src}${ports(s.sport, s.sportMask)} → ${s.dst}${ports(s.dport, s.dportMask)}${s.proto !== 'any' ? ` ${s.proto}` : ''}`;
}

const columns = columnsOf<Row>([
  { id: 'dir', header: 'Dir', cell: (p) => p.dir, sortValue: (p) => String(p.dir) },
  { id: 'sel', header: 'Selector', cell: (p) => <span className="font-mono text-xs">{selectorText(p)}</span>, sortValue: selectorText },
  {
    id: 'action',
    header: 'Action',
    cell: (p) => <span className={p.action === 'block' ? 'font-medium text-red-700 dark:text-red-400' : ''}>{p.action}</span>,
    sortValue: (p) => String(p.action),
  },
  { id: 'prio', header: 'Priority', cell: (p) => p.priority, sortValue: (p) => p.priority, align: 'right' },
  {
    id: 'tmpl',
    header: 'Templates',
    cell: (p) =>
      p.templates.length === 0 ? (
        <span className="text-slate-400">none</span>
      ) : (
        <ul className="space-y-0.5 font-mono text-xs">
          {p.templates.map((t, i) => (
            <li key={i}>
              {t.proto} {t.mode} {t.src && t.src !== '0.0.0.0' ? `${t.src} → ${t.dst}` : ''}
              {t.reqid ? ` reqid ${t.reqid}` : ''}
              {t.spi ? ` spi ${formatSpi(t.spi)}` : ''}
              {t.optional ? ' (optional)' : ''}
            </li>
          ))}
        </ul>
      ),
  },
  {
    id: 'mark',
    header: 'Mark / if_id',
    cell: (p) => (
      <span className="font-mono text-xs">
        {p.mark ? `0x${p.mark.value.toString(16)}/0x${p.mark.mask.toString(16)}` : ''}
        {p.ifId !== undefined ? ` if_id ${p.ifId}` : ''}
      </span>
    ),
  },
  { id: 'bytes', header: 'Bytes', cell: (p) => formatBytes(p.lifetime.current.bytes), sortValue: (p) => BigInt(p.lifetime.current.bytes), align: 'right' },
  { id: 'index', header: 'Index', cell: (p) => p.index, sortValue: (p) => p.index, align: 'right' },
  { id: 'type', header: 'Type', cell: (p) => String(p.type) },
]);

export function PoliciesTable() {
  const t = useEntities('policy');
  const src = useEntities('source')?.rows.get('xfrm-policy');
  const rows = t ? [...t.rows.values()] : [];
  return (
    <Panel title={`XFRM policies${t ? ` (${rows.length})` : ''}`} id="policies" actions={src && src.state !== 'ok' ? <StateBadge state={src.state} /> : undefined}>
      <PanelBody
        loading={!t && 'Loading policies…'}
        error={
          src &&
          src.state !== 'ok' &&
          src.state !== 'starting' &&
          rows.length === 0 &&
          `XFRM policies unavailable: ${src.state === 'no-permission' ? 'no permission' : src.state}${src.reason ? ` — ${src.reason}` : ''}`
        }
        empty={rows.length === 0 && 'No XFRM policies: nothing is protected by IPsec in this namespace.'}
      >
        <DataTable label="XFRM policies" rows={rows} columns={columns} rowKey={(p) => p.key} initialSort={{ id: 'prio' }} rowTestId={(p) => `policy-${p.key}`} />
      </PanelBody>
    </Panel>
  );
}

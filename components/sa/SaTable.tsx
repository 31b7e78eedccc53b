'use client';
import { useEffect, useMemo } from 'react';
import type { ColumnDef, SortingState } from '@tanstack/react-table';
import { useEntities, useLiveStatus } from '../live/keys';
import { rates } from '../live/rates';
import { Panel, PanelBody } from '../ui/Panel';
import { DataTable, ColumnChooser } from '../ui/DataTable';
import { useUrlState } from '../ui/useUrlState';
import { SearchBox, useUrlSearch } from '../ui/SearchBox';
import { useThrottled } from '../ui/useThrottled';
import { formatBytes, formatCount, formatSpi } from '../format';
import { StateBadge } from '../SourceStatusList';
import { algorithmText, formatDuration, searchText, secondsLeft, sequenceUsedPercent, type Sa } from './sa-text';
import { SaDrawer } from './SaDrawer';
import { CheckBadge, differencesText } from '../pfkey/CheckBadge';

const COLS: Array<{ id: string; label: string }> = [
  { id: 'spi', label: 'SPI' },
  { id: 'proto', label: 'Proto' },
  { id: 'src', label: 'Source' },
  { id: 'dst', label: 'Destination' },
  { id: 'dir', label: 'Dir' },
  { id: 'mode', label: 'Mode' },
  { id: 'reqid', label: 'Reqid' },
  { id: 'alg', label: 'Algorithm' },
  { id: 'bytes', label: 'Bytes' },
  { id: 'packets', label: 'Packets' },
  { id: 'rate', label: 'Rate' },
  { id: 'soft', label: 'Soft expiry' },
  { id: 'seq', label: 'Seq used' },
  { id: 'offload', label: 'Offload' },
  { id: 'mark', label: 'Mark / if_id' },
  { id: 'pfkey', label: 'PF_KEY' },
];
const DEFAULT_HIDDEN = 'mark,packets';

export function SaTable() {
  const t = useEntities('sa');
  const links = useEntities('link');
  const checks = useEntities('pfkey-check');
  const src = useEntities('source')?.rows.get('xfrm-sa');
  const [url, setUrl] = useUrlState();
  const search = useUrlSearch();
  const deferredQuery = search.needle;
  const sorting: SortingState = useMemo(() => {
    const s = url.get('sort');
    if (!s) return [{ id: 'spi', desc: false }];
    const desc = s.startsWith('-');
    return [{ id: desc ? s.slice(1) : s, desc }];
  }, [url]);
  const hidden = useMemo(() => new Set((url.get('hide') ?? DEFAULT_HIDDEN).split(',').filter(Boolean)), [url]);
  const selected = url.get('sa') ?? undefined;
  const devName = (ifindex: number) => links?.rows.get(String(ifindex))?.name ?? `if${ifindex}`;

  // Large tables refresh at most a few times a second (the first rows at once): one render per interval,
  // not per delta batch or snapshot part.
  const size = t?.rows.size ?? 0;
  const shown = useThrottled(t, size > 20_000 ? 1000 : size > 2000 ? 250 : 0);
  const all = useMemo(() => (shown ? [...shown.rows.values()] : []), [shown, shown?.version]);
  const live = useLiveStatus(); // also re-renders each second: countdown cells read the clock when they render
  const receiving = live.receiving?.sa;
  const rows = useMemo(() => (deferredQuery ? all.filter((sa) => searchText(sa, sa.offload ? devName(sa.offload.ifindex) : undefined).includes(deferredQuery)) : all), [all, deferredQuery]);

  const columns = useMemo<ColumnDef<Sa, any>[]>(
    () => [
      { id: 'spi', header: 'SPI', accessorFn: (s) => s.spi >>> 0, cell: (c) => <span className="font-mono">{formatSpi(c.row.original.spi)}</span>, size: 116 }, // the primary key, whole: 10 monospace characters and the cell's padding
      { id: 'proto', header: 'Proto', accessorFn: (s) => String(s.proto), size: 50 },
      { id: 'src', header: 'Source', accessorFn: (s) => s.src, cell: (c) => <span className="font-mono text-xs">{c.getValue()}</span>, size: 120, meta: { grow: 2 } },
      { id: 'dst', header: 'Destination', accessorFn: (s) => s.dst, cell: (c) => <span className="font-mono text-xs">{c.getValue()}</span>, size: 120, meta: { grow: 2 } },
      { id: 'dir', header: 'Dir', accessorFn: (s) => String(s.dir ?? ''), size: 40 },
      { id: 'mode', header: 'Mode', accessorFn: (s) => String(s.mode), size: 70 },
      { id: 'reqid', header: 'Reqid', accessorFn: (s) => s.reqid, size: 60, meta: { align: 'right' } },
      { id: 'alg', header: 'Algorithm', accessorFn: algorithmText, cell: (c) => <span className="text-xs">{c.getValue()}</span>, size: 160, meta: { grow: 3 } },
      { id: 'bytes', header: 'Bytes', accessorFn: (s) => Number(s.lifetime.current.bytes), cell: (c) => formatBytes(c.row.original.lifetime.current.bytes), size: 80, meta: { align: 'right' } },
      { id: 'packets', header: 'Packets', accessorFn: (s) => Number(s.lifetime.current.packets), cell: (c) => formatCount(c.row.original.lifetime.current.packets), size: 80, meta: { align: 'right' } },
      { id: 'rate', header: 'Rate', accessorFn: (s) => rates.saBytes.rate(s.key), cell: (c) => `${formatBytes(Math.round(c.getValue() as number))}/s`, size: 80, meta: { align: 'right' } },
      {
        id: 'soft',
        header: 'Soft expiry',
        // Sorted by the absolute expiry time (same order as time left, and stable: the columns and the
        // sorted rows do not change every second, so a 100k table is not re-sorted each tick).
        accessorFn: (s) => secondsLeft(s, 'soft', 0) ?? Infinity,
        cell: (c) => {
          const s = secondsLeft(c.row.original, 'soft');
          return <span className={s !== undefined && s < 30 ? 'text-amber-700 dark:text-amber-400' : ''}>{formatDuration(s)}</span>;
        },
        size: 90,
        meta: { align: 'right' },
      },
      {
        id: 'seq',
        header: 'Seq used',
        accessorFn: (s) => sequenceUsedPercent(s) ?? -1,
        cell: (c) => {
          const p = sequenceUsedPercent(c.row.original);
          return p === undefined ? '—' : `${p < 0.01 && p > 0 ? '<0.01' : p.toFixed(2)} %`;
        },
        size: 70,
        meta: { align: 'right' },
      },
      {
        id: 'offload',
        header: 'Offload',
        accessorFn: (s) => (s.offload ? `${devName(s.offload.ifindex)} ${s.offload.type}` : ''),
        cell: (c) => {
          const o = c.row.original.offload;
          return o ? <span className="rounded bg-violet-100 px-1 text-xs text-violet-900 dark:bg-violet-900/40 dark:text-violet-200">{devName(o.ifindex)} {o.type} {o.dir}</span> : <span className="text-xs text-slate-400">software</span>;
        },
        size: 110,
      },
      {
        id: 'mark',
        header: 'Mark / if_id',
        accessorFn: (s) => `${s.mark ? s.mark.value : ''} ${s.ifId ?? ''}`,
        cell: (c) => {
          const s = c.row.original;
          return <span className="font-mono text-xs">{s.mark ? `0x${s.mark.value.toString(16)}/0x${s.mark.mask.toString(16)}` : ''}{s.ifId !== undefined ? ` if_id ${s.ifId}` : ''}</span>;
        },
        size: 110,
      },
      {
        id: 'pfkey',
        header: 'PF_KEY',
        accessorFn: (s) => checks?.rows.get(s.key)?.status ?? '',
        cell: (c) => {
          const ck = checks?.rows.get(c.row.original.key);
          if (!ck) return <span className="text-xs text-slate-400">—</span>;
          return <CheckBadge status={ck.status} differences={ck.differences.length} title={ck.differences.length ? differencesText(ck.differences) : ck.reason} testId={`pfkey-badge-${ck.key}`} />;
        },
        size: 130,
      },
    ],
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [links?.version, checks],
  );
  const columnVisibility = useMemo(() => Object.fromEntries([...hidden].map((h) => [h, false])), [hidden]);
  // The first render and commit with rows, in the page's User Timing (the UI bench reads them).
  const firstRows = all.length > 0;
  if (firstRows && typeof performance !== 'undefined' && !performance.getEntriesByName('sascope:sa-table-render').length) performance.mark('sascope:sa-table-render');
  useEffect(() => {
    if (firstRows && !performance.getEntriesByName('sascope:sa-table-commit').length) performance.mark('sascope:sa-table-commit');
  }, [firstRows]);
  const selectedSa = selected ? t?.rows.get(selected) : undefined;

  return (
    <>
      <Panel
        title={`Security associations${t ? ` (${rows.length}${rows.length !== all.length ? ` of ${all.length}` : ''}${receiving !== undefined ? `; receiving ${formatCount(t.rows.size)} of ${formatCount(receiving)}` : ''})` : ''}`}
        id="sas"
        actions={
          <div className="flex items-center gap-2">
            {src && src.state !== 'ok' && <StateBadge state={src.state} />}
            <SearchBox search={search} label="Search SAs by SPI, address, reqid, algorithm or device" placeholder="SPI, address, reqid, algorithm, device" className="w-72 text-sm" />
            <ColumnChooser columns={COLS} hidden={hidden} onChange={(h) => setUrl({ hide: [...h].join(',') || ',' })} />
          </div>
        }
      >
        <PanelBody
          loading={!t && 'Loading security associations…'}
          error={src && (src.state === 'no-permission' || src.state === 'not-available' || src.state === 'error') && all.length === 0 && `SAs unavailable: ${src.reason ?? src.state}`}
          empty={all.length === 0 ? 'No security associations in this namespace.' : rows.length === 0 && `No SA matches “${search.text}”.`}
        >
          <DataTable
            label="Security associations"
            rows={rows}
            columns={columns}
            rowKey={(s) => s.key}
            sorting={sorting}
            onSortingChange={(s) => setUrl({ sort: s[0] ? `${s[0].desc ? '-' : ''}${s[0].id}` : undefined })}
            columnVisibility={columnVisibility}
            selectedKey={selected}
            onOpen={(s) => setUrl({ sa: s.key })}
            virtual={{ height: Math.max(300, Math.min(720, rows.length * 32 + 8)) }}
            refresh={live.now}
          />
        </PanelBody>
      </Panel>
      {selected && <SaDrawer sa={selectedSa} saKey={selected} onClose={() => setUrl({ sa: undefined })} />}
    </>
  );
}

'use client';
// The fleet overview (serve --fleet): one row per host with its state and when it was last heard from,
// its SA, tunnel and alarm counts and the sources that are not ok. Worst hosts first; Enter or a click
// shows the console filtered to that host.
import { useMemo } from 'react';
import { useRouter } from 'next/navigation';
import type { OnWire } from '@/server/wire/entities';
import type { FleetHost } from '@/server/wire/fleet';
import { useEntitiesOfAllHosts, useHostFilter } from '../live/keys';
import { Panel, PanelBody } from '../ui/Panel';
import { Badge } from '../ui/Badge';
import { RelTime } from '../ui/RelTime';
import { DataTable, columnsOf } from '../ui/DataTable';
import { HOST_STATE_RANK, HOST_STATE_TONE, HOST_STATE_WORDS } from './host-text';

type H = OnWire<FleetHost>;

const count = (n: number, bad = false) => <span className={bad && n > 0 ? 'font-semibold text-red-700 dark:text-red-400' : ''}>{n.toLocaleString('en-US')}</span>;

const COLUMNS = columnsOf<H>([
  { id: 'host', header: 'Host', cell: (h) => <span className="font-mono">{h.host}</span>, sortValue: (h) => h.host },
  {
    id: 'state',
    header: 'State',
    cell: (h) => <Badge tone={HOST_STATE_TONE[h.state]} title={h.reason} testId={`host-state-${h.host}`}>{HOST_STATE_WORDS[h.state] ?? h.state}</Badge>,
    sortValue: (h) => HOST_STATE_RANK[h.state] ?? -1,
  },
  { id: 'seen', header: 'Last seen', cell: (h) => <RelTime ms={h.lastSeen} />, sortValue: (h) => h.lastSeen },
  { id: 'sa', header: 'SAs', cell: (h) => count(h.counts.sa), sortValue: (h) => h.counts.sa, align: 'right' },
  { id: 'tunnel', header: 'Tunnels', cell: (h) => count(h.counts.tunnel), sortValue: (h) => h.counts.tunnel, align: 'right' },
  { id: 'alarm', header: 'Alarms', cell: (h) => count(h.counts.alarm, true), sortValue: (h) => h.counts.alarm, align: 'right' },
  {
    id: 'sources',
    header: 'Sources not ok',
    cell: (h) => (h.sourcesNotOk.length ? <span className="text-xs text-amber-800 dark:text-amber-300">{h.sourcesNotOk.join(', ')}</span> : <span className="text-xs text-slate-400">none</span>),
    sortValue: (h) => h.sourcesNotOk.length,
  },
  {
    id: 'agent',
    header: 'Agent',
    cell: (h) => <span className="text-xs text-slate-600 dark:text-slate-400" title={`boot ${h.boot}, seq ${h.seq}`}>{h.agentVersion} · proto {h.proto}{h.dropped ? ` · ${h.dropped} dropped` : ''}</span>,
    sortValue: (h) => h.agentVersion,
  },
]);

export function FleetView() {
  const hosts = useEntitiesOfAllHosts('host');
  const chosen = useHostFilter();
  const router = useRouter();
  const rows = useMemo(() => (hosts ? [...hosts.rows.values()] : []), [hosts]);
  const down = rows.filter((h) => h.state !== 'up').length;
  return (
    <Panel title={`Hosts${hosts ? ` (${rows.length}${down ? `, ${down} not up` : ''})` : ''}`} id="hosts">
      <PanelBody loading={!hosts && 'Loading the fleet…'} empty={rows.length === 0 && 'No host has reported yet: start an agent (sascope agent --nats URL --host NAME) on each gateway.'}>
        <DataTable
          label="Hosts"
          rows={rows}
          columns={COLUMNS}
          rowKey={(h) => h.key}
          initialSort={{ id: 'state' }}
          selectedKey={chosen}
          onOpen={(h) => router.push(`/?host=${encodeURIComponent(h.host)}`)}
          rowTestId={(h) => `host-${h.host}`}
        />
      </PanelBody>
    </Panel>
  );
}

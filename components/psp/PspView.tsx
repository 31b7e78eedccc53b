'use client';
import type { OnWire } from '@/server/wire/entities';
import type { PspDevice } from '@/server/wire/psp';
import { useEntities } from '../live/keys';
import { Panel, PanelBody } from '../ui/Panel';
import { DataTable, columnsOf } from '../ui/DataTable';
import { RelTime } from '../ui/RelTime';
import { StateBadge } from '../SourceStatusList';
import { SourceEvents } from '../SourceEvents';
import { formatBytes, formatCount } from '../format';

type Dev = OnWire<PspDevice>;

const columns = columnsOf<Dev>([
  { id: 'id', header: 'PSP dev', cell: (d) => d.id, sortValue: (d) => d.id, align: 'right' },
  { id: 'if', header: 'Device', cell: (d) => <span className="font-mono">{d.ifname ?? `ifindex ${d.ifindex}`}{d.byAssociation ? ' (seen by association)' : ''}</span> },
  {
    id: 'assoc',
    header: 'Associated devices',
    cell: (d) =>
      d.associated && d.associated.length ? (
        <span className="text-xs" title="Devices in other network namespaces that use this PSP device (dev-assoc)">
          {d.associated.length}: <span className="font-mono">{d.associated.map((a) => `ifindex ${a.ifindex}${a.nsid !== undefined ? ` (nsid ${a.nsid})` : ''}`).join(', ')}</span>
        </span>
      ) : (
        <span className="text-xs text-slate-500">none</span>
      ),
    sortValue: (d) => d.associated?.length ?? 0,
    align: 'right',
  },
  { id: 'cap', header: 'Versions capable', cell: (d) => <span className="text-xs">{d.versionsCapable.join(', ') || '—'}</span> },
  { id: 'ena', header: 'Enabled', cell: (d) => <span className="text-xs">{d.versionsEnabled.join(', ') || 'none'}</span> },
  { id: 'rot', header: 'Key rotations', cell: (d) => (d.rotations ? <>{d.rotations} · last <RelTime ms={d.lastRotation} /></> : 'none seen'), sortValue: (d) => d.rotations, align: 'right' },
  {
    id: 'stats',
    header: 'Statistics',
    cell: (d) =>
      d.stats ? (
        <span className="text-xs">
          rx {formatBytes(d.stats.rxBytes)} ({formatCount(d.stats.rxPackets)} pkt, {formatCount(d.stats.rxAuthFail)} auth fail, {formatCount(d.stats.rxError)} error, {formatCount(d.stats.rxBad)} bad) · tx {formatBytes(d.stats.txBytes)} ({formatCount(d.stats.txPackets)} pkt, {formatCount(d.stats.txError)} error) · rotations {formatCount(d.stats.keyRotations)} · stale {formatCount(d.stats.staleEvents)}
        </span>
      ) : (
        <span className="text-xs text-slate-500">{d.statsNote ?? '—'}</span>
      ),
  },
]);

export function PspView() {
  const devs = useEntities('psp-dev');
  const src = useEntities('source')?.rows.get('psp');
  const list = devs ? [...devs.rows.values()] : [];
  return (
    <div className="space-y-4">
      <Panel title={`PSP devices${devs ? ` (${list.length})` : ''}`} id="psp" actions={src && src.state !== 'ok' ? <StateBadge state={src.state} /> : undefined}>
        <PanelBody
          loading={!devs && 'Loading PSP devices…'}
          error={list.length === 0 && src && src.state !== 'ok' && `PSP: ${src.reason ?? src.state}`}
          empty={list.length === 0 && 'No PSP device in this namespace.'}
        >
          <DataTable label="PSP devices" rows={list} columns={columns} rowKey={(d) => String(d.id)} rowTestId={(d) => `psp-dev-${d.id}`} />
        </PanelBody>
      </Panel>
      <SourceEvents source="psp" title="PSP notifications" empty="No device changes or key rotations since the server started." />
    </div>
  );
}

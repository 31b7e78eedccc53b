'use client';
// Remote-access users: the IKE SAs whose peer got a virtual IP from charon — identity, virtual IP, since
// when, bytes through their CHILD SAs; an operator can disconnect one (terminate its IKE SA).
import { useMemo } from 'react';
import { useEntities } from '../live/keys';
import { Panel, PanelBody, PanelState } from '../ui/Panel';
import { DataTable, columnsOf } from '../ui/DataTable';
import { RelTime } from '../ui/RelTime';
import { formatBytes } from '../format';
import { ActionButton } from './ActionButton';
import { ViciSourceNotice } from './ViciView';
import { ikeRequest, remoteUsers, type Child, type RemoteUser } from './vici-rows';

export function RemoteUsers() {
  const ikes = useEntities('vici-ike');
  const children = useEntities('vici-child');
  const users = useMemo(() => remoteUsers([...(ikes?.rows.values() ?? [])], [...(children?.rows.values() ?? [])]), [ikes, ikes?.version, children, children?.version]);
  const childList = useMemo((): Child[] => [...(children?.rows.values() ?? [])], [children, children?.version]);
  const columns = useMemo(
    () =>
      columnsOf<RemoteUser>([
        { id: 'identity', header: 'Identity', cell: (u) => <span className="font-medium">{u.identity}</span>, sortValue: (u) => u.identity },
        { id: 'vip', header: 'Virtual IP', cell: (u) => <span className="font-mono text-xs">{u.vips.join(' ')}</span>, sortValue: (u) => u.vips[0] ?? '' },
        { id: 'conn', header: 'Connection', cell: (u) => u.conn, sortValue: (u) => u.conn },
        { id: 'from', header: 'From', cell: (u) => <span className="font-mono text-xs">{u.ike.remoteHost ?? '—'}</span> },
        { id: 'since', header: 'Since', cell: (u) => <RelTime ms={u.since} />, sortValue: (u) => u.since ?? 0 },
        { id: 'bytes', header: 'Bytes in/out', cell: (u) => `${formatBytes(u.bytesIn)} / ${formatBytes(u.bytesOut)}`, sortValue: (u) => u.bytesIn + u.bytesOut, align: 'right' },
        { id: 'act', header: 'Actions', cell: (u) => <ActionButton label="Disconnect" request={ikeRequest('terminate', u.ike, childList)} testId={`vici-disconnect-${u.ike.uniqueId}`} /> },
      ]),
    [childList],
  );
  if (!ikes || !children) return <PanelState kind="loading">Loading remote-access users…</PanelState>;
  return (
    <div className="space-y-4">
      <ViciSourceNotice />
      <Panel title={`Remote-access users · ${users.length}`} id="vici-users">
        <PanelBody empty={users.length === 0 && 'No remote-access user connected (no IKE SA with a virtual IP).'}>
          <DataTable label="Remote-access users" rows={users} columns={columns} rowKey={(u) => u.key} initialSort={{ id: 'identity' }} rowTestId={(u) => `vici-user-${u.ike.uniqueId}`} />
        </PanelBody>
      </Panel>
    </div>
  );
}

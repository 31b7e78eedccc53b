'use client';
// strongSwan over VICI: configured connections with their children and state (a connection without an IKE
// SA is down), IKE SAs, CHILD SAs, and the operator actions' audit list — live from the vici-* rows.
import { useMemo } from 'react';
import { useEntities } from '../live/keys';
import { Panel, PanelBody, PanelState } from '../ui/Panel';
import { DataTable, columnsOf } from '../ui/DataTable';
import { Badge } from '../ui/Badge';
import { RelTime } from '../ui/RelTime';
import { StateBadge } from '../SourceStatusList';
import { formatBytes } from '../format';
import { ActionButton } from './ActionButton';
import { VICI_FAILURE_WORDS } from '@/server/wire/vici';
import { childRequest, connState, ikeRequest, initiateRequest, peerWords, targetText, type Action, type Cert, type Child, type Conn, type ConnState, type Ike } from './vici-rows';

const CONN_TONE: Record<ConnState, 'ok' | 'info' | 'bad'> = { up: 'ok', connecting: 'info', down: 'bad' };
const mono = (s: string | undefined) => <span className="font-mono text-xs">{s || '—'}</span>;
const authClasses = (c: Conn) => [...c.local, ...c.remote].map((r) => `${r.round}: ${r.class ?? 'any'}`).join(', ');

/** The source's state when it is not ok, else nothing. */
export function ViciSourceNotice() {
  const src = useEntities('source')?.rows.get('vici');
  if (!src || src.state === 'ok') return null;
  return (
    <div role="status" className="flex items-center gap-2 rounded border border-slate-200 bg-white px-4 py-3 text-sm dark:border-slate-800 dark:bg-slate-900" data-testid="vici-source">
      <StateBadge state={src.state} /> strongSwan (VICI): {src.reason ?? src.state}
    </div>
  );
}

export function ViciView() {
  const conns = useEntities('vici-conn');
  const ikes = useEntities('vici-ike');
  const children = useEntities('vici-child');
  const actions = useEntities('vici-action');
  const certs = useEntities('vici-cert');
  const certList = useMemo(() => [...(certs?.rows.values() ?? [])], [certs, certs?.version]);
  const ikeList = useMemo(() => [...(ikes?.rows.values() ?? [])], [ikes, ikes?.version]);
  const childList = useMemo(() => [...(children?.rows.values() ?? [])], [children, children?.version]);
  const connList = useMemo(() => [...(conns?.rows.values() ?? [])], [conns, conns?.version]);
  const actionList = useMemo(() => [...(actions?.rows.values() ?? [])], [actions, actions?.version]);

  const connColumns = useMemo(
    () =>
      columnsOf<Conn>([
        { id: 'name', header: 'Connection', cell: (c) => <span className="font-medium">{c.name}</span>, sortValue: (c) => c.name },
        {
          id: 'state',
          header: 'State',
          cell: (c) => {
            const s = connState(c.name, ikeList);
            return (
              <span className="flex flex-col gap-0.5">
                <Badge tone={CONN_TONE[s]} testId={`vici-conn-state-${c.name}`}>{s}</Badge>
                {s !== 'up' && (
                  <span className="text-xs text-slate-600 dark:text-slate-300" data-testid={`vici-conn-reason-${c.name}`}>
                    {c.lastReason ? (
                      <>
                        {VICI_FAILURE_WORDS[c.lastReason.code] ?? c.lastReason.code} <RelTime ms={c.lastReason.time} />
                      </>
                    ) : (
                      'never established while watched'
                    )}
                  </span>
                )}
              </span>
            );
          },
          sortValue: (c) => connState(c.name, ikeList),
        },
        {
          id: 'children',
          header: 'Children',
          cell: (c) => (
            <ul className="space-y-0.5 text-xs">
              {c.children.map((ch) => {
                const up = childList.filter((x) => x.ikeName === c.name && x.name === ch.name);
                return (
                  <li key={ch.name} className="flex items-center gap-2">
                    <span className="font-medium">{ch.name}</span>
                    <span className={up.some((x) => x.state === 'INSTALLED') ? 'text-emerald-700 dark:text-emerald-400' : 'text-red-700 dark:text-red-400'}>{up.map((x) => x.state).join(', ') || 'down'}</span>
                    {up.length === 0 && <ActionButton label="Initiate" request={initiateRequest(c, ch.name)} testId={`vici-initiate-${c.name}-${ch.name}`} />}
                  </li>
                );
              })}
            </ul>
          ),
        },
        { id: 'addrs', header: 'Local → remote', cell: (c) => mono(`${c.localAddrs.join(' ') || '%any'} → ${c.remoteAddrs.join(' ') || '%any'}`) },
        { id: 'auth', header: 'Authentication', cell: (c) => <span className="text-xs">{authClasses(c)}</span> },
        { id: 'version', header: 'IKE', cell: (c) => c.version ?? '—' },
        { id: 'act', header: 'Actions', cell: (c) => <ActionButton label="Initiate" request={initiateRequest(c)} testId={`vici-initiate-${c.name}`} /> },
      ]),
    [ikeList, childList],
  );

  const ikeColumns = useMemo(
    () =>
      columnsOf<Ike>([
        { id: 'name', header: 'Connection', cell: (i) => <span className="font-medium">{i.name}</span>, sortValue: (i) => i.name },
        { id: 'id', header: '#', cell: (i) => i.uniqueId, sortValue: (i) => i.uniqueId, align: 'right' },
        { id: 'state', header: 'State', cell: (i) => <Badge tone={i.state === 'ESTABLISHED' ? 'ok' : 'info'}>{i.state}</Badge>, sortValue: (i) => i.state },
        { id: 'peer', header: 'Peer', cell: (i) => mono(`${peerWords(i)}${i.remotePort ? ` :${i.remotePort}` : ''}`) },
        { id: 'local', header: 'Local', cell: (i) => mono(`${i.localHost ?? ''}${i.localId ? ` (${i.localId})` : ''}`) },
        { id: 'spis', header: 'IKE SPIs', cell: (i) => mono(`${i.initiatorSpi ?? '?'}_i ${i.responderSpi ?? '?'}_r`) },
        { id: 'alg', header: 'Algorithms', cell: (i) => <span className="text-xs">{[i.encrAlg && `${i.encrAlg}${i.encrKeysize ? `-${i.encrKeysize}` : ''}`, i.integAlg, i.prfAlg, i.dhGroup].filter(Boolean).join('/') || '—'}</span> },
        { id: 'vip', header: 'Virtual IPs', cell: (i) => mono([...(i.localVips ?? []), ...(i.remoteVips ?? [])].join(' ')) },
        { id: 'est', header: 'Established', cell: (i) => <RelTime ms={i.establishedAt} />, sortValue: (i) => i.establishedAt ?? 0 },
        { id: 'rekey', header: 'Rekey', cell: (i) => <RelTime ms={i.rekeyAt} />, sortValue: (i) => i.rekeyAt ?? 0 },
        {
          id: 'act',
          header: 'Actions',
          cell: (i) => (
            <span className="flex gap-1">
              <ActionButton label="Rekey" request={ikeRequest('rekey', i, childList)} testId={`vici-rekey-ike-${i.uniqueId}`} />
              <ActionButton label="Terminate" request={ikeRequest('terminate', i, childList)} testId={`vici-terminate-ike-${i.uniqueId}`} />
            </span>
          ),
        },
      ]),
    [childList],
  );

  const childColumns = columnsOf<Child>([
    { id: 'name', header: 'Child', cell: (c) => <span className="font-medium">{c.ikeName}/{c.name}</span>, sortValue: (c) => `${c.ikeName}/${c.name}` },
    { id: 'id', header: '#', cell: (c) => c.uniqueId, sortValue: (c) => c.uniqueId, align: 'right' },
    { id: 'state', header: 'State', cell: (c) => <Badge tone={c.state === 'INSTALLED' ? 'ok' : 'info'}>{c.state}</Badge>, sortValue: (c) => c.state },
    { id: 'mode', header: 'Mode', cell: (c) => `${c.protocol ?? ''} ${c.mode ?? ''}`.trim() || '—' },
    { id: 'spis', header: 'SPIs in/out', cell: (c) => mono(`${c.spiIn ?? '?'} / ${c.spiOut ?? '?'}`) },
    { id: 'reqid', header: 'Reqid', cell: (c) => c.reqid ?? '—', sortValue: (c) => c.reqid ?? 0, align: 'right' },
    { id: 'ts', header: 'Traffic selectors', cell: (c) => mono(`${c.localTs.join(' ')} === ${c.remoteTs.join(' ')}`) },
    { id: 'bytes', header: 'Bytes in/out', cell: (c) => `${formatBytes(c.bytesIn)} / ${formatBytes(c.bytesOut)}`, sortValue: (c) => BigInt(c.bytesIn ?? 0) + BigInt(c.bytesOut ?? 0), align: 'right' },
    { id: 'rekey', header: 'Rekey', cell: (c) => <RelTime ms={c.rekeyAt} />, sortValue: (c) => c.rekeyAt ?? 0 },
    {
      id: 'act',
      header: 'Actions',
      cell: (c) => (
        <span className="flex gap-1">
          <ActionButton label="Rekey" request={childRequest('rekey', c)} testId={`vici-rekey-child-${c.uniqueId}`} />
          <ActionButton label="Terminate" request={childRequest('terminate', c)} testId={`vici-terminate-child-${c.uniqueId}`} />
        </span>
      ),
    },
  ]);

  if (!conns || !ikes || !children) return <PanelState kind="loading">Loading strongSwan's connections…</PanelState>;
  return (
    <div className="space-y-4">
      <ViciSourceNotice />
      <Panel title={`Connections · ${connList.length}`} id="vici-conns">
        <PanelBody empty={connList.length === 0 && 'charon has no connections loaded (swanctl --load-conns).'}>
          <DataTable label="Connections" rows={connList} columns={connColumns} rowKey={(c) => `${c.host ?? ''}/${c.name}`} initialSort={{ id: 'name' }} rowTestId={(c) => `vici-conn-${c.name}`} />
        </PanelBody>
      </Panel>
      <Panel title={`IKE SAs · ${ikeList.length}`} id="vici-ikes">
        <PanelBody empty={ikeList.length === 0 && 'No IKE SA: no connection is up.'}>
          <DataTable label="IKE SAs" rows={ikeList} columns={ikeColumns} rowKey={(i) => `${i.host ?? ''}/${i.uniqueId}`} initialSort={{ id: 'name' }} rowTestId={(i) => `vici-ike-${i.uniqueId}`} />
        </PanelBody>
      </Panel>
      <Panel title={`CHILD SAs · ${childList.length}`} id="vici-children">
        <PanelBody empty={childList.length === 0 && 'No CHILD SA.'}>
          <DataTable label="CHILD SAs" rows={childList} columns={childColumns} rowKey={(c) => `${c.host ?? ''}/${c.uniqueId}`} initialSort={{ id: 'name' }} rowTestId={(c) => `vici-child-${c.uniqueId}`} />
        </PanelBody>
      </Panel>
      <Panel title={`Certificates · ${certList.length}`} id="vici-certs">
        <PanelBody empty={certList.length === 0 && 'charon holds no X.509 certificate.'}>
          <DataTable label="Certificates" rows={certList} columns={certColumns} rowKey={(c) => `${c.host ?? ''}/${c.fingerprint}`} initialSort={{ id: 'expires' }} rowTestId={(c) => `vici-cert-${c.subject}`} />
        </PanelBody>
      </Panel>
      <Panel title="Operator actions" id="vici-actions">
        <PanelBody empty={actionList.length === 0 && 'No operator action since the server started (older ones: GET /api/v1/vici/actions).'}>
          <DataTable label="Operator actions" rows={actionList} columns={actionColumns} rowKey={(a) => a.key} initialSort={{ id: 'when', desc: true }} rowTestId={(a) => `vici-action-${a.key}`} />
        </PanelBody>
      </Panel>
    </div>
  );
}

const RESULT_TONE: Record<Action['result'], 'info' | 'ok' | 'bad'> = { running: 'info', ok: 'ok', failed: 'bad' };

const actionColumns = columnsOf<Action>([
  { id: 'when', header: 'When', cell: (a) => <RelTime ms={a.startedAt} />, sortValue: (a) => a.startedAt },
  { id: 'by', header: 'Who', cell: (a) => a.by, sortValue: (a) => a.by },
  { id: 'what', header: 'What', cell: (a) => `${a.action} ${targetText(a)}`, sortValue: (a) => a.action },
  { id: 'result', header: 'Result', cell: (a) => <Badge tone={RESULT_TONE[a.result]}>{a.result === 'failed' ? `failed: ${a.error ?? ''}` : a.result}</Badge>, sortValue: (a) => a.result },
  {
    id: 'log',
    header: "charon's log",
    cell: (a) =>
      a.log.length ? (
        <details>
          <summary className="cursor-pointer text-xs">{a.log.length} line{a.log.length === 1 ? '' : 's'}</summary>
          <pre className="whitespace-pre-wrap text-xs">{a.log.join('\n')}</pre>
        </details>
      ) : (
        '—'
      ),
  },
]);

const certColumns = columnsOf<Cert>([
  { id: 'subject', header: 'Subject', cell: (c) => <span className="font-mono text-xs">{c.subject}</span>, sortValue: (c) => c.subject },
  { id: 'issuer', header: 'Issuer', cell: (c) => <span className="font-mono text-xs">{c.issuer}</span>, sortValue: (c) => c.issuer },
  { id: 'expires', header: 'Expires', cell: (c) => <span className={c.notAfter < Date.now() ? 'font-semibold text-red-700 dark:text-red-400' : ''}><RelTime ms={c.notAfter} /></span>, sortValue: (c) => c.notAfter },
  { id: 'key', header: 'Private key held', cell: (c) => (c.hasPrivateKey ? 'yes' : 'no') },
]);

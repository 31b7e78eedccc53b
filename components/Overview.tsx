'use client';
import Link from 'next/link';
import type { EntityKind } from '@/server/wire/protocol';
import { useEntities } from './live/keys';
import { Panel, PanelBody } from './ui/Panel';
import { RelTime } from './ui/RelTime';
import { ALARM_WORDS, CAUSE_WORDS } from './tunnels/alarm-text';
import { rotationText } from './tunnels/TunnelsView';
import { alarmTunnelHref } from './tunnels/href';

function Count({ kind, label, href }: { kind: EntityKind; label: string; href: string }) {
  const t = useEntities(kind);
  return (
    <Link href={href} className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm hover:border-blue-400 dark:border-slate-800 dark:bg-slate-900" data-testid={`count-${kind}`}>
      <div className="tabular text-3xl font-bold">{t ? t.rows.size.toLocaleString('en-US') : '…'}</div>
      <div className="text-sm text-slate-600 dark:text-slate-400">{label}</div>
    </Link>
  );
}

export function Counts() {
  return (
    <div className="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-6">
      <Count kind="sa" label="Security associations" href="/sas" />
      <Count kind="tunnel" label="Tunnels" href="/tunnels" />
      <Count kind="policy" label="Policies" href="/policies" />
      <Count kind="ovpn-peer" label="OpenVPN peers" href="/ovpn" />
      <Count kind="link" label="Devices" href="/devices" />
      <Count kind="alarm" label="Active alarms" href="/tunnels" />
    </div>
  );
}

export function AlarmList() {
  const t = useEntities('alarm');
  const list = t ? [...t.rows.values()].sort((a, b) => (a.severity === b.severity ? b.since - a.since : a.severity === 'critical' ? -1 : 1)) : [];
  return (
    <Panel title={`Active alarms${t ? ` (${list.length})` : ''}`} id="alarms">
      <PanelBody loading={!t && 'Loading alarms…'} empty={list.length === 0 && 'No active alarm.'}>
        <ul className="divide-y divide-slate-100 text-sm dark:divide-slate-800" data-testid="alarm-list">
          {list.map((a) => (
            <li key={a.key} className="flex flex-wrap items-baseline gap-x-3 px-4 py-2">
              <span className={`rounded px-1.5 py-0.5 text-xs font-bold ${a.severity === 'critical' ? 'bg-red-600 text-white' : 'bg-amber-400 text-black'}`}>{a.severity === 'critical' ? 'CRITICAL' : 'WARNING'}</span>
              {a.host && <span className="font-mono text-xs">{a.host}</span>}
              <span className="font-medium">{alarmTunnelHref(a) ? <Link className="underline" href={alarmTunnelHref(a)!}>{ALARM_WORDS[a.type] ?? a.type}</Link> : (ALARM_WORDS[a.type] ?? a.type)}</span>
              <span className="text-slate-600 dark:text-slate-400">{a.summary}</span>
              <span className="ml-auto text-xs text-slate-500">
                since <RelTime ms={a.since} />
              </span>
            </li>
          ))}
        </ul>
      </PanelBody>
    </Panel>
  );
}

export function RecentRotations({ limit = 8 }: { limit?: number }) {
  const t = useEntities('rotation');
  const list = t ? [...t.rows.values()].sort((a, b) => b.time - a.time).slice(0, limit) : [];
  return (
    <Panel title="Recent rotations" id="recent-rotations" actions={<Link href="/tunnels" className="text-xs underline">all</Link>}>
      <PanelBody loading={!t && 'Loading rotations…'} empty={list.length === 0 && 'No rekey seen yet.'}>
        <ol className="divide-y divide-slate-100 text-sm dark:divide-slate-800" data-testid="recent-rotations">
          {list.map((r) => (
            <li key={r.key} className="flex flex-wrap gap-x-3 px-4 py-1.5">
              <RelTime ms={r.time} className="w-20 shrink-0 text-xs text-slate-500" />
              <span className="font-mono text-xs">{r.tunnelName}</span>
              <span className="font-mono text-xs">{rotationText(r)}</span>
              <span className="text-xs text-slate-500">{CAUSE_WORDS[r.cause] ?? r.cause}</span>
            </li>
          ))}
        </ol>
      </PanelBody>
    </Panel>
  );
}

'use client';
import { useMemo, useState } from 'react';
import type { KernelEvent, OnWire } from '@/server/wire/entities';
import { useEntities } from './live/keys';
import { Panel, PanelBody } from './ui/Panel';
import { RelTime } from './ui/RelTime';

export function EventLog({ limit = 50, filterable = false }: { limit?: number; filterable?: boolean }) {
  const t = useEntities('event');
  const [source, setSource] = useState('');
  const [text, setText] = useState('');
  const all = useMemo(() => (t ? [...t.rows.values()].reverse() : []), [t, t?.version]);
  const sources = useMemo(() => [...new Set(all.map((e) => e.source))].sort(), [all]);
  const shown = all.filter((e: OnWire<KernelEvent>) => (!source || e.source === source) && (!text || `${e.type} ${e.summary}`.toLowerCase().includes(text.toLowerCase()))).slice(0, limit);
  return (
    <Panel
      title="Events"
      id="events"
      actions={
        filterable ? (
          <div className="flex gap-2 text-xs">
            <label className="flex items-center gap-1">
              Source
              <select value={source} onChange={(e) => setSource(e.target.value)} className="rounded border border-slate-300 bg-transparent px-1 py-0.5 dark:border-slate-700">
                <option value="">all</option>
                {sources.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
            <input type="search" aria-label="Filter events" placeholder="filter" value={text} onChange={(e) => setText(e.target.value)} className="rounded border border-slate-300 bg-transparent px-1 py-0.5 dark:border-slate-700" />
          </div>
        ) : undefined
      }
    >
      <PanelBody loading={!t && 'Loading events…'} empty={shown.length === 0 && (all.length ? 'No event matches the filter.' : 'No kernel events since the server started.')}>
        <ol className="divide-y divide-slate-100 text-sm dark:divide-slate-800" aria-label="Kernel events, newest first" data-testid="event-log">
          {shown.map((e) => (
            <li key={e.id} className="flex gap-3 px-4 py-1.5">
              <RelTime ms={e.time} className="w-20 shrink-0 text-xs text-slate-500" />
              <span className="w-28 shrink-0 font-mono text-xs font-medium">{e.type}</span>
              <span className="w-24 shrink-0 text-xs text-slate-500">{e.source}</span>
              <span className="font-mono text-xs">{e.summary}</span>
            </li>
          ))}
        </ol>
      </PanelBody>
    </Panel>
  );
}

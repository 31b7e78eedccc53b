'use client';
import { useMemo } from 'react';
import { useEntities } from './live/keys';
import { Panel, PanelBody } from './ui/Panel';
import { RelTime } from './ui/RelTime';

/** The newest events of one source (its notifications), as a panel. */
export function SourceEvents({ source, title, empty, limit = 15 }: { source: string; title: string; empty: string; limit?: number }) {
  const events = useEntities('event');
  const recent = useMemo(() => (events ? [...events.rows.values()].filter((e) => e.source === source).slice(-limit).reverse() : []), [events, events?.version, source, limit]);
  return (
    <Panel title={title}>
      <PanelBody loading={!events && 'Loading events…'} empty={recent.length === 0 && empty}>
        <ol className="divide-y divide-slate-100 text-sm dark:divide-slate-800" data-testid={`events-${source}`}>
          {recent.map((e) => (
            <li key={e.id} className="flex gap-3 px-4 py-1.5">
              <RelTime ms={e.time} className="w-20 shrink-0 text-xs text-slate-500" />
              <span className="w-32 shrink-0 font-mono text-xs">{e.type}</span>
              <span className="text-xs">{e.summary}</span>
            </li>
          ))}
        </ol>
      </PanelBody>
    </Panel>
  );
}

'use client';
// A source's state in words, for the panels that depend on it: "PF_KEY not available (module af_key not
// loaded)". The server's reason names neither the source nor its state: the panel's name for the source is
// put before it here, once. Nothing when the source is ok.
import { sourceSentence, type OnWire, type SourceStatus } from '@/server/wire/entities';
import { useEntities } from './live/keys';
import { StateBadge } from './SourceStatusList';
import { RelTime } from './ui/RelTime';

export type Source = OnWire<SourceStatus>;

/** A source's status; undefined while loading or when this server has no such source. */
export function useSource(id: string): Source | undefined {
  return useEntities('source')?.rows.get(id);
}

/** The source cannot deliver data (as opposed to starting or briefly stale). */
export function sourceDown(s: Source | undefined): boolean {
  return !!s && (s.state === 'no-permission' || s.state === 'not-available' || s.state === 'error');
}

/** A one-line banner with the source's state, reason and last data; nothing when it is ok. */
export function SourceNotice({ source, what }: { source: Source | undefined; what?: string }) {
  if (!source || source.state === 'ok') return null;
  return (
    <div
      role={sourceDown(source) ? 'alert' : 'status'}
      data-testid={`source-notice-${source.id}`}
      className="flex flex-wrap items-center gap-2 rounded border border-slate-200 bg-white px-4 py-2 text-sm dark:border-slate-800 dark:bg-slate-900"
    >
      <StateBadge state={source.state} />
      <span>{sourceSentence(what ?? source.label, source)}</span>
      {source.lastData ? (
        <span className="ml-auto text-xs text-slate-500">
          last data <RelTime ms={source.lastData} />
        </span>
      ) : null}
    </div>
  );
}

'use client';
// Is what you see current? Connection state, time of the last change, and stale sources.
import { useLiveStatus, useEntities } from './keys';
import { formatClock, formatRelative } from '../format';

export function useStaleSources() {
  const sources = useEntities('source');
  return sources ? [...sources.rows.values()].filter((s) => s.state === 'stale' || s.state === 'error') : [];
}

export function Freshness() {
  const st = useLiveStatus();
  const stale = useStaleSources();
  const now = st.now ?? Date.now();
  const dot = !st.connected ? 'bg-red-500' : stale.length ? 'bg-amber-500' : 'bg-emerald-500';
  const label = !st.connected ? (st.everConnected ? 'Disconnected' : 'Connecting…') : stale.length ? `Live, ${stale.length} source${stale.length > 1 ? 's' : ''} stale` : 'Live';
  return (
    <div role="status" aria-live="polite" data-testid="freshness" data-connected={st.connected} className="flex items-center gap-2 text-xs text-slate-600 dark:text-slate-300">
      <span aria-hidden="true" className={`inline-block h-2.5 w-2.5 rounded-full ${dot}`} />
      <span className="font-medium">{label}</span>
      <span title="Time of the last change received from the kernel">
        last change {st.lastChangeAt ? formatRelative(st.lastChangeAt, now) : '—'}
      </span>
    </div>
  );
}

/** A banner when the connection drops or a source is stale, with the time of the last good data. */
export function ConnectionBanner() {
  const st = useLiveStatus();
  const stale = useStaleSources();
  if (st.connected && stale.length === 0) return null;
  if (!st.everConnected && !st.disconnectedAt) return null;
  return (
    <div role="alert" className="border-t border-amber-300 bg-amber-100 px-4 py-1.5 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-200">
      {!st.connected ? (
        <>
          Connection to the server lost {st.disconnectedAt ? `at ${formatClock(st.disconnectedAt)}` : ''} ({st.lastCloseReason ?? 'no answer'}); showing data as of{' '}
          {formatClock(st.lastMessageAt)}. Reconnecting…
        </>
      ) : (
        stale.map((s) => (
          <span key={s.id} className="mr-4">
            {s.label}: {s.state}
            {s.reason ? ` — ${s.reason}` : ''}; last good data {formatClock(s.lastData)}
          </span>
        ))
      )}
    </div>
  );
}

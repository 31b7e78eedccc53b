'use client';
import { SOURCE_STATE_WORDS, type OnWire, type SourceState, type SourceStatus } from '@/server/wire/entities';
import { useEntities } from './live/keys';
import { Panel, PanelBody } from './ui/Panel';
import { RelTime } from './ui/RelTime';

const TONE: Record<string, string> = {
  ok: 'bg-emerald-100 text-emerald-900 dark:bg-emerald-900/40 dark:text-emerald-200',
  starting: 'bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-200',
  stale: 'bg-amber-100 text-amber-900 dark:bg-amber-900/40 dark:text-amber-200',
  'no-permission': 'bg-orange-100 text-orange-900 dark:bg-orange-900/40 dark:text-orange-200',
  'not-available': 'bg-slate-200 text-slate-700 dark:bg-slate-800 dark:text-slate-300',
  error: 'bg-red-100 text-red-900 dark:bg-red-900/40 dark:text-red-200',
};

export function StateBadge({ state }: { state: string }) {
  return <span className={`inline-block rounded px-1.5 py-0.5 text-xs font-medium ${TONE[state] ?? TONE.error}`}>{SOURCE_STATE_WORDS[state as SourceState] ?? state}</span>;
}

export function SourceStatusList() {
  const t = useEntities('source');
  return (
    <Panel title="Sources" id="sources">
      <PanelBody loading={!t && 'Waiting for the server…'} data={t}>
        {(t) => (
          <ul className="divide-y divide-slate-100 dark:divide-slate-800" data-testid="sources">
            {[...t.rows.values()].map((s: OnWire<SourceStatus>) => (
              <li key={s.id} className="flex flex-wrap items-baseline gap-x-3 gap-y-1 px-4 py-2 text-sm" data-source={s.id} data-state={s.state}>
                <StateBadge state={s.state} />
                <span className="font-medium">{s.label}</span>
                {s.reason && <span className="text-slate-600 dark:text-slate-400">{s.reason}</span>}
                <span className="ml-auto text-xs text-slate-500">
                  data <RelTime ms={s.lastData} />
                  {s.resyncs > 0 && <> · {s.resyncs} resync{s.resyncs > 1 ? 's' : ''}</>}
                  {s.decodeErrors > 0 && <span title={s.lastDecodeError}> · {s.decodeErrors} decode error{s.decodeErrors > 1 ? 's' : ''}</span>}
                </span>
              </li>
            ))}
          </ul>
        )}
      </PanelBody>
    </Panel>
  );
}

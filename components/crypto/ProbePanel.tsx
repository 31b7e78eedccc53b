'use client';
// The AF_ALG throughput probe: an operator starts it (POST /api/v1/crypto/probe, cookie auth), the
// results arrive live in the 'crypto-probe' entity. A viewer gets 403, a second request while one runs
// gets 409: the server's message is shown as it is.
import { useMutation } from '@tanstack/react-query';
import type { OnWire } from '@/server/wire/entities';
import type { CryptoProbe, ProbeResult } from '@/server/wire/crypto';
import { useEntities } from '../live/keys';
import { Panel, PanelState } from '../ui/Panel';
import { DataTable, columnsOf } from '../ui/DataTable';
import { Badge } from '../ui/Badge';
import { RelTime } from '../ui/RelTime';
import { formatBytes } from '../format';
import { ACTION_BUTTON, ActionError, StateReason, asApiError, postApi } from '../ui/api';

type Probe = OnWire<CryptoProbe>;

const STATE_TONE: Record<Probe['state'], 'muted' | 'info' | 'ok' | 'warn' | 'bad'> = { idle: 'muted', running: 'info', done: 'ok', unavailable: 'warn', failed: 'bad' };
const STATE_WORDS: Record<Probe['state'], string> = { idle: 'not run yet', running: 'running', done: 'done', unavailable: 'not available', failed: 'failed' };

const columns = columnsOf<ProbeResult>([
  { id: 'name', header: 'Algorithm', cell: (r) => <span className="font-mono text-xs">{r.name}</span>, sortValue: (r) => r.name },
  { id: 'type', header: 'Type', cell: (r) => r.type, sortValue: (r) => r.type },
  { id: 'key', header: 'Key', cell: (r) => (r.keyBits ? `${r.keyBits} bit` : '—'), sortValue: (r) => r.keyBits, align: 'right' },
  {
    id: 'rate',
    header: 'Throughput',
    cell: (r) =>
      r.mbPerSec !== undefined ? (
        <span className="font-semibold">{r.mbPerSec >= 10 ? r.mbPerSec.toFixed(1) : r.mbPerSec > 0 ? Number(r.mbPerSec.toPrecision(3)) : 0} MB/s</span>
      ) : (
        <span className="text-xs text-red-700 dark:text-red-400">not measured: {r.error ?? 'no rate'}</span>
      ),
    sortValue: (r) => r.mbPerSec ?? -1,
    align: 'right',
  },
  { id: 'bytes', header: 'Processed', cell: (r) => (r.bytes || r.seconds ? `${formatBytes(r.bytes)} in ${r.seconds.toFixed(3)} s` : '—'), sortValue: (r) => r.bytes, align: 'right' },
  { id: 'driver', header: 'Driver', cell: (r) => <span className="font-mono text-xs">{r.driver ?? '—'}</span>, sortValue: (r) => r.driver ?? '' },
]);

export function ProbePanel() {
  const t = useEntities('crypto-probe');
  const probe = t?.rows.get('probe');
  const start = useMutation({ mutationFn: () => postApi<{ probe: Probe }>('/api/v1/crypto/probe') });
  const running = probe?.state === 'running';
  const busy = start.isPending || running;
  const err = asApiError(start.error);

  return (
    <Panel
      title="AF_ALG throughput probe"
      id="crypto-probe"
      actions={
        <button
          type="button"
          onClick={() => start.mutate()}
          disabled={busy}
          aria-describedby="probe-help"
          data-testid="probe-button"
          className={ACTION_BUTTON}
        >
          {busy ? 'Probe running…' : 'Run throughput probe'}
        </button>
      }
    >
      <div className="space-y-2 px-4 py-3 text-sm">
        <p id="probe-help" className="text-xs text-slate-500">
          Operators only. Measures each algorithm the SAs use through AF_ALG with a random throw-away key, at most{' '}
          {probe?.limits ? `${probe.limits.seconds} s and ${formatBytes(probe.limits.bytes)}` : '1 s and 64 MiB'} per algorithm. AF_ALG is deprecated from Linux 7.2: an optional probe.
        </p>
        <div role="status" aria-live="polite" className="flex flex-wrap items-center gap-2" data-testid="probe-status">
          {!t ? (
            <span className="text-slate-500">Loading the probe state…</span>
          ) : !probe ? (
            <span className="text-slate-500">The server has no probe state (crypto source not running).</span>
          ) : (
            <>
              <Badge tone={STATE_TONE[probe.state] ?? 'muted'} testId="probe-state">
                {STATE_WORDS[probe.state] ?? probe.state}
              </Badge>
              {running && probe.current && <span>measuring <span className="font-mono">{probe.current}</span>…</span>}
              {probe.startedAt && (
                <span className="text-xs text-slate-500">
                  started <RelTime ms={probe.startedAt} />
                  {probe.finishedAt ? (
                    <>
                      , finished <RelTime ms={probe.finishedAt} />
                    </>
                  ) : null}
                </span>
              )}
              {probe.basis && <span className="text-xs text-slate-500">{probe.basis === 'in-use' ? 'algorithms the SAs use' : 'a default set (no SA uses any algorithm)'}</span>}
            </>
          )}
        </div>
        {probe && <StateReason state={probe.state} reason={probe.reason} testId="probe-reason" />}
        <ActionError err={err} testId="probe-error" />
      </div>
      {probe && probe.results.length > 0 ? (
        <DataTable label="Probe results" rows={probe.results} columns={columns} rowKey={(r) => `${r.type}:${r.name}`} initialSort={{ id: 'name' }} rowTestId={(r) => `probe-${r.name}`} />
      ) : probe && probe.state !== 'unavailable' ? (
        <PanelState kind={running ? 'loading' : 'empty'}>{running ? 'Measuring… results appear here as each algorithm finishes.' : 'No results yet: run the probe.'}</PanelState>
      ) : null}
    </Panel>
  );
}

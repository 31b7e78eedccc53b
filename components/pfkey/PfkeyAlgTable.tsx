'use client';
// What SADB_REGISTER advertises: the algorithms the kernel offers PF_KEY users, per class. Sent only when
// an operator asks (POST /api/v1/pfkey/register): the kernel probes every algorithm while holding the
// XFRM configuration mutex, so IKE daemons' SA changes wait meanwhile. The state arrives live in the
// 'pfkey-register' entity; a viewer gets 403, a second request while one runs 409 (shown as the server says).
import { useMemo } from 'react';
import { useMutation } from '@tanstack/react-query';
import { sourceSentence, type OnWire } from '@/server/wire/entities';
import type { PfkeyAlgorithm, PfkeyRegister } from '@/server/wire/pfkey';
import { useEntities } from '../live/keys';
import { Panel, PanelState } from '../ui/Panel';
import { DataTable, columnsOf } from '../ui/DataTable';
import { Badge } from '../ui/Badge';
import { RelTime } from '../ui/RelTime';
import { ACTION_BUTTON, ActionError, StateReason, asApiError, postApi } from '../ui/api';
import { sourceDown, useSource } from '../SourceNotice';

type Alg = OnWire<PfkeyAlgorithm>;
type Register = OnWire<PfkeyRegister>;

const STATE_TONE: Record<Register['state'], 'muted' | 'info' | 'ok' | 'warn' | 'bad'> = { idle: 'muted', running: 'info', done: 'ok', unavailable: 'warn', failed: 'bad' };
const STATE_WORDS: Record<Register['state'], string> = { idle: 'not asked yet', running: 'kernel probing…', done: 'answered', unavailable: 'not available', failed: 'failed' };

const columns = columnsOf<Alg>([
  { id: 'class', header: 'Class', cell: (a) => (a.class === 'encrypt' ? 'cipher' : 'auth'), sortValue: (a) => a.class },
  { id: 'id', header: 'SADB id', cell: (a) => a.id, sortValue: (a) => a.id, align: 'right' },
  { id: 'name', header: 'Name', cell: (a) => <span className="font-mono text-xs">{a.name}</span>, sortValue: (a) => a.name },
  { id: 'const', header: 'pfkeyv2.h constant', cell: (a) => <span className="font-mono text-xs">{a.constant ?? '—'}</span> },
  { id: 'xfrm', header: 'Crypto API name', cell: (a) => <span className="font-mono text-xs">{a.xfrmNames.join(', ') || '—'}</span> },
  { id: 'bits', header: 'Key bits', cell: (a) => (a.minBits === a.maxBits ? `${a.minBits} bit` : `${a.minBits}–${a.maxBits} bit`), sortValue: (a) => a.maxBits, align: 'right' },
  { id: 'iv', header: 'IV length', cell: (a) => (a.class === 'encrypt' ? `${a.ivlen}` : '—'), align: 'right' },
  { id: 'satypes', header: 'SA types', cell: (a) => a.satypes.join(', ') },
]);

function RegisterControl({ reg }: { reg: Register | undefined }) {
  const start = useMutation({ mutationFn: () => postApi<{ register: Register }>('/api/v1/pfkey/register') });
  const running = reg?.state === 'running';
  const busy = start.isPending || running;
  const err = asApiError(start.error);
  return (
    <div className="space-y-2 px-4 py-3 text-sm">
      <div className="flex flex-wrap items-center gap-3">
        <button
          type="button"
          onClick={() => start.mutate()}
          disabled={busy || reg?.state === 'unavailable'}
          aria-describedby="pfkey-register-help"
          data-testid="pfkey-register-button"
          className={ACTION_BUTTON}
        >
          {busy ? 'Kernel probing…' : reg?.state === 'done' ? 'Ask again' : 'Ask the kernel (SADB_REGISTER)'}
        </button>
        <span role="status" aria-live="polite" className="flex flex-wrap items-center gap-2" data-testid="pfkey-register-status">
          {reg ? (
            <>
              <Badge tone={STATE_TONE[reg.state] ?? 'muted'} testId="pfkey-register-state">
                {STATE_WORDS[reg.state] ?? reg.state}
              </Badge>
              {reg.startedAt && (
                <span className="text-xs text-slate-500">
                  asked <RelTime ms={reg.startedAt} />
                  {reg.tookMs !== undefined ? `, answered in ${reg.tookMs >= 1000 ? `${(reg.tookMs / 1000).toFixed(1)} s` : `${reg.tookMs} ms`}` : ''}
                </span>
              )}
            </>
          ) : (
            <span className="text-xs text-slate-500">No REGISTER state from the server.</span>
          )}
        </span>
      </div>
      <p id="pfkey-register-help" className="text-xs text-slate-500">
        Operators only. Not sent at start: to answer, the kernel looks up every algorithm it knows (loading modules for those it lacks) while holding the XFRM configuration lock, so an IKE daemon&apos;s SA changes wait until it is done — up to seconds.
      </p>
        {reg && <StateReason state={reg.state} reason={reg.reason} testId="pfkey-register-reason" />}
        <ActionError err={err} testId="pfkey-register-error" />
    </div>
  );
}

export function PfkeyAlgTable() {
  const t = useEntities('pfkey-alg');
  const r = useEntities('pfkey-register');
  const reg = r?.rows.get('register');
  const src = useSource('pfkey');
  const rows = useMemo(() => (t ? [...t.rows.values()] : []), [t, t?.version]);
  return (
    <Panel title={`Algorithms PF_KEY REGISTER advertises${t && rows.length ? ` (${rows.length})` : ''}`} id="pfkey-algs">
      <RegisterControl reg={reg} />
      {!t ? (
        <PanelState kind="loading">Loading PF_KEY algorithms…</PanelState>
      ) : rows.length === 0 && sourceDown(src) ? (
        <PanelState kind="error">{sourceSentence('PF_KEY', src!)}</PanelState>
      ) : rows.length === 0 ? (
        <PanelState kind={reg?.state === 'running' ? 'loading' : 'empty'}>
          {src?.state === 'starting' ? 'PF_KEY is starting.' : reg?.state === 'running' ? 'The kernel is probing its algorithms…' : reg?.state === 'done' ? 'The kernel advertised no algorithms to SADB_REGISTER.' : 'Not asked yet: the list appears once an operator asks the kernel.'}
        </PanelState>
      ) : (
        <>
          <p className="px-4 pt-2 text-xs text-slate-500">IV length as Linux fills sadb_alg_ivlen (bytes for most ciphers; RFC 2367 says bits).</p>
          <DataTable label="Algorithms advertised by PF_KEY REGISTER" rows={rows} columns={columns} rowKey={(a) => a.key} initialSort={{ id: 'class' }} />
        </>
      )}
    </Panel>
  );
}

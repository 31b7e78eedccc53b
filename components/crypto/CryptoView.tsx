'use client';
// Which code does the crypto: FIPS mode and AF_ALG availability, the driver serving each algorithm an SA
// uses (highest-priority usable /proc/crypto entry), the AF_ALG probe, what PF_KEY REGISTER advertises,
// and /proc/crypto itself.
import { useMemo, useState } from 'react';
import Link from 'next/link';
import type { OnWire } from '@/server/wire/entities';
import type { CryptoAlgorithm, CryptoUse } from '@/server/wire/crypto';
import { useEntities } from '../live/keys';
import { Panel, PanelBody } from '../ui/Panel';
import { DataTable, columnsOf } from '../ui/DataTable';
import { Badge } from '../ui/Badge';
import { RelTime } from '../ui/RelTime';
import { SourceNotice, sourceDown, useSource } from '../SourceNotice';
import { PfkeyAlgTable } from '../pfkey/PfkeyAlgTable';
import { ProbePanel } from './ProbePanel';

type Alg = OnWire<CryptoAlgorithm>;
type Use = OnWire<CryptoUse>;

function Fact({ k, children }: { k: string; children: React.ReactNode }) {
  return (
    <div className="flex flex-wrap items-baseline gap-2 py-0.5">
      <dt className="w-44 shrink-0 text-slate-500 dark:text-slate-400">{k}</dt>
      <dd className="flex min-w-0 flex-1 flex-wrap items-center gap-1">{children}</dd>
    </div>
  );
}

function InfoPanel() {
  const t = useEntities('crypto-info');
  const src = useSource('crypto');
  const i = t?.rows.get('crypto');
  return (
    <Panel title="Kernel crypto" id="crypto-info">
      <PanelBody
        loading={!t && 'Loading kernel crypto facts…'}
        error={!i && sourceDown(src) && `Kernel crypto unavailable: ${src!.reason ?? src!.state}`}
        empty={!i && 'No crypto facts from the server yet.'}
        data={i}
      >
        {(i) => (
          <dl className="px-4 py-3 text-sm" data-testid="crypto-info">
            <Fact k="FIPS mode">
              {i.fipsEnabled === undefined ? <span className="text-slate-500">unknown{i.fipsNote ? `: ${i.fipsNote}` : ''}</span> : i.fipsEnabled ? <Badge tone="info">fips_enabled = 1</Badge> : <span>off (fips_enabled = 0)</span>}
            </Fact>
            <Fact k="AF_ALG socket">
              {i.afAlg.socket ? <Badge tone="ok">available</Badge> : <Badge tone="warn">not available</Badge>}
              {i.afAlg.socketError && <span className="text-xs text-slate-600 dark:text-slate-400">{i.afAlg.socketError}</span>}
            </Fact>
            <Fact k="AF_ALG modules">
              {i.afAlg.modules.map((m) => (
                <Badge key={m.name} tone={m.state === 'loaded' || m.state === 'built-in' ? 'ok' : m.state === 'not-loaded' ? 'warn' : 'muted'} title={m.note}>
                  {m.name}: {m.state}
                </Badge>
              ))}
              {!i.afAlg.procModules && <span className="text-xs text-slate-500">(/proc/modules not readable)</span>}
            </Fact>
            <Fact k="af_alg_restrict">{i.afAlg.restrict.present ? <span className="font-mono">{i.afAlg.restrict.value ?? '?'}</span> : <span className="text-slate-500">absent (kernel before 7.3)</span>}</Fact>
            <Fact k="/proc/crypto">
              {i.procCryptoError ? (
                <span className="text-red-700 dark:text-red-400">{i.procCryptoError}</span>
              ) : (
                <span>
                  {i.algorithms} entries, read <RelTime ms={i.readAt} />
                </span>
              )}
            </Fact>
            <p className="mt-2 text-xs text-slate-500">{i.afAlg.note}</p>
          </dl>
        )}
      </PanelBody>
    </Panel>
  );
}

const ROLE_WORDS: Record<Use['role'], string> = { aead: 'AEAD', enc: 'cipher', auth: 'integrity', comp: 'compression' };

const useColumns = columnsOf<Use>([
  { id: 'name', header: 'Algorithm', cell: (u) => <span className="font-mono text-xs">{u.name}</span>, sortValue: (u) => u.name },
  { id: 'role', header: 'Role', cell: (u) => ROLE_WORDS[u.role] ?? u.role, sortValue: (u) => u.role },
  { id: 'keys', header: 'Key sizes', cell: (u) => (u.keyBits.length ? `${u.keyBits.join(', ')} bit` : '—') + (u.icvBits ? ` · ICV ${u.icvBits} bit` : '') },
  {
    id: 'sas',
    header: 'SAs',
    cell: (u) => (u.sas[0] ? <Link href={`/sas?q=${encodeURIComponent(u.name)}`} className="text-blue-700 underline underline-offset-2 dark:text-blue-400">{u.saCount}</Link> : u.saCount),
    sortValue: (u) => u.saCount,
    align: 'right',
  },
  {
    id: 'driver',
    header: 'Served by',
    cell: (u) =>
      u.driver ? (
        <span>
          <span className="font-mono text-xs font-semibold">{u.driver}</span>
          <span className="ml-1 text-xs text-slate-500">
            priority {u.priority} · {u.module}
            {u.type ? ` · ${u.type}` : ''}
          </span>
        </span>
      ) : (
        <span className="text-xs text-amber-800 dark:text-amber-300">{u.note ?? 'no driver in /proc/crypto'}</span>
      ),
    sortValue: (u) => u.driver ?? '',
  },
  { id: 'selftest', header: 'Self-test', cell: (u) => (u.selftest ? <Badge tone={u.selftest === 'passed' ? 'ok' : 'warn'}>{u.selftest}</Badge> : '—') },
  {
    id: 'alt',
    header: 'Other drivers',
    cell: (u) => (u.alternatives.length ? <span className="text-xs">{u.alternatives.map((a) => `${a.driver} (${a.priority}, ${a.module})`).join(', ')}</span> : <span className="text-xs text-slate-400">none</span>),
  },
]);

function UsesPanel() {
  const t = useEntities('crypto-use');
  const src = useSource('crypto');
  const rows = useMemo(() => (t ? [...t.rows.values()] : []), [t, t?.version]);
  return (
    <Panel title="Algorithms in use and the driver serving each" id="crypto-use">
      <PanelBody
        loading={!t && 'Loading algorithms in use…'}
        empty={rows.length === 0 && `No SA uses an algorithm right now${sourceDown(src) ? ` (and /proc/crypto is unavailable: ${src!.reason ?? src!.state})` : ''}.`}
      >
        <DataTable label="Algorithms in use by SAs" rows={rows} columns={useColumns} rowKey={(u) => u.key} initialSort={{ id: 'name' }} rowTestId={(u) => `crypto-use-${u.name}`} />
      </PanelBody>
    </Panel>
  );
}

const algColumns = columnsOf<Alg>([
  { id: 'name', header: 'Name', cell: (a) => <span className="font-mono text-xs">{a.name}</span>, sortValue: (a) => a.name },
  { id: 'driver', header: 'Driver', cell: (a) => <span className="font-mono text-xs">{a.driver}</span>, sortValue: (a) => a.driver },
  { id: 'module', header: 'Module', cell: (a) => a.module, sortValue: (a) => a.module },
  { id: 'prio', header: 'Priority', cell: (a) => a.priority, sortValue: (a) => a.priority, align: 'right' },
  { id: 'type', header: 'Type', cell: (a) => a.type, sortValue: (a) => a.type },
  { id: 'selftest', header: 'Self-test', cell: (a) => <span className={a.selftest === 'passed' ? '' : 'font-semibold text-amber-800 dark:text-amber-300'}>{a.selftest}</span>, sortValue: (a) => a.selftest },
  { id: 'internal', header: 'Internal', cell: (a) => (a.internal ? 'yes' : 'no'), sortValue: (a) => Number(a.internal) },
  { id: 'fips', header: 'FIPS', cell: (a) => (a.fips === undefined ? '—' : a.fips ? 'yes' : 'no'), sortValue: (a) => Number(a.fips ?? -1) },
  { id: 'refcnt', header: 'Refs', cell: (a) => a.refcnt, sortValue: (a) => a.refcnt, align: 'right' },
]);

function ProcCryptoPanel() {
  const t = useEntities('crypto-alg');
  const src = useSource('crypto');
  const [q, setQ] = useState('');
  const rows = useMemo(() => (t ? [...t.rows.values()] : []), [t, t?.version]);
  const needle = q.trim().toLowerCase();
  const shown = useMemo(() => (needle ? rows.filter((a) => `${a.name} ${a.driver} ${a.module} ${a.type}`.toLowerCase().includes(needle)) : rows), [rows, needle]);
  return (
    <Panel
      title={`/proc/crypto${t ? ` (${shown.length}${shown.length !== rows.length ? ` of ${rows.length}` : ''})` : ''}`}
      id="proc-crypto"
      actions={
        <input
          type="search"
          value={q}
          onChange={(e) => setQ(e.target.value)}
          aria-label="Filter /proc/crypto by name, driver, module or type"
          placeholder="name, driver, module, type"
          className="w-64 rounded border border-slate-300 bg-transparent px-2 py-1 text-sm dark:border-slate-700"
        />
      }
    >
      <PanelBody
        loading={!t && 'Loading /proc/crypto…'}
        error={rows.length === 0 && sourceDown(src) && `/proc/crypto unavailable: ${src!.reason ?? src!.state}`}
        empty={rows.length === 0 ? '/proc/crypto lists no algorithms.' : shown.length === 0 && `Nothing in /proc/crypto matches “${q}”.`}
      >
        <DataTable label="Kernel crypto algorithms (/proc/crypto)" rows={shown} columns={algColumns} rowKey={(a) => a.key} initialSort={{ id: 'name' }} />
      </PanelBody>
    </Panel>
  );
}

export function CryptoView() {
  const src = useSource('crypto');
  return (
    <div className="space-y-4">
      <SourceNotice source={src} what="Kernel crypto" />
      <div className="grid items-start gap-4 xl:grid-cols-[2fr_3fr]">
        <InfoPanel />
        <ProbePanel />
      </div>
      <UsesPanel />
      <PfkeyAlgTable />
      <ProcCryptoPanel />
    </div>
  );
}

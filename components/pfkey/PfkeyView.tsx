'use client';
// The PF_KEY view of the SAD and SPD beside the XFRM view, and where the two disagree. A mismatch links
// to the SA drawer (/sas?sa=<key>); SAs PF_KEY cannot represent are listed with the reason.
import { useMemo } from 'react';
import Link from 'next/link';
import type { ColumnDef } from '@tanstack/react-table';
import { sourceSentence, type OnWire } from '@/server/wire/entities';
import { pfkeySaIdentity, type PfkeyCheck, type PfkeyCheckStatus, type PfkeyPolicy, type PfkeySa, type UnrepresentableCause } from '@/server/wire/pfkey';
import { markText, type SaIdentity } from '@/server/wire/xfrm';
import { useEntities } from '../live/keys';
import { useUrlState } from '../ui/useUrlState';
import { Panel, PanelBody } from '../ui/Panel';
import { DataTable, columnsOf } from '../ui/DataTable';
import { formatBytes, formatCount, formatSpi } from '../format';
import { SourceNotice, sourceDown, useSource } from '../SourceNotice';
import { CHECK_WORDS, CheckBadge, differencesText } from './CheckBadge';
import { PfkeyAlgTable } from './PfkeyAlgTable';

type Check = OnWire<PfkeyCheck>;
type Psa = OnWire<PfkeySa>;
type Ppol = OnWire<PfkeyPolicy>;

const STATUSES: PfkeyCheckStatus[] = ['mismatch', 'not-representable', 'missing', 'agree'];

const saHref = (key: string) => `/sas?sa=${encodeURIComponent(key)}`;

/** A cause of "not representable" in words, made from its code and what it names (never from the check's reason text). */
const UNREPRESENTABLE_WORDS: Record<UnrepresentableCause, (subject?: string) => string> = {
  protocol: (s) => `protocol ${s}: a PF_KEY dump walks only ESP, AH and IPComp`,
  family: (s) => `family ${s}`,
  mode: (s) => `mode ${s} has no IPSEC_MODE_* value (a PF_KEY dump stops at it)`,
  aead: (s) => `AEAD ${s}: PF_KEY shows encrypt=0, auth=0 and no key`,
  mark: () => 'mark: no PF_KEY extension (SADB_GET looks up with mark 0)',
  'if-id': () => 'if_id: no PF_KEY extension',
  'output-mark': () => 'output mark: no PF_KEY extension',
  esn: () => 'ESN: PF_KEY has no 64-bit sequence numbers',
  'replay-window': () => 'replay window above 255: sadb_sa_replay has 8 bits',
  offload: (s) => `${s} offload: not in PF_KEY`,
  'tfc-padding': () => 'TFC padding: not in PF_KEY',
  iptfs: () => 'IP-TFS parameters: not in PF_KEY',
  'nat-t-oa': () => 'NAT-T original address: af_key.c never sends SADB_X_EXT_NAT_T_OA',
  'auth-no-sadb-id': (s) => `auth ${s} has no SADB id`,
  'cipher-no-sadb-id': (s) => `cipher ${s} has no SADB id`,
  'comp-no-sadb-id': (s) => `compression ${s} has no SADB id`,
  'auth-truncation': (s) => `${s} truncated otherwise than PF_KEY implies`,
};

/** The SA a check is about in words ("esp 0x00001000 → 10.0.0.2 mark=0x10/0xff"), from the typed fields of
 * its XFRM row, or of its PF_KEY row when XFRM lacks it; the key itself until either row is here. */
function CheckedSa({ check }: { check: Check }) {
  const xsa = useEntities('sa')?.rows.get(check.xfrmKey ?? '');
  const psa = useEntities('pfkey-sa')?.rows.get(check.pfkeyKey ?? '');
  const id: SaIdentity | undefined = xsa ?? (psa ? pfkeySaIdentity(psa) : undefined);
  const mark = id?.mark && (id.mark.value || id.mark.mask) ? ` mark=${markText(id.mark)}` : '';
  return <span className="font-mono text-xs">{id ? `${id.proto} ${formatSpi(id.spi)} → ${id.dst}${mark}` : check.key}</span>;
}

function OpenSaLink({ saKey, children }: { saKey: string; children?: React.ReactNode }) {
  return (
    <Link href={saHref(saKey)} onClick={(e) => e.stopPropagation()} className="text-blue-700 underline underline-offset-2 dark:text-blue-400" data-testid={`open-sa-${saKey}`}>
      {children ?? 'open SA'}
    </Link>
  );
}

function Summary({ checks, psas, xsas, ppols, xpols, status, setStatus }: { checks: Check[]; psas: number; xsas: number | undefined; ppols: number; xpols: number | undefined; status?: string; setStatus: (s?: string) => void }) {
  const counts = useMemo(() => {
    const c: Record<string, number> = {};
    for (const k of checks) c[k.status] = (c[k.status] ?? 0) + 1;
    return c;
  }, [checks]);
  const reasons = useMemo(() => {
    const m = new Map<string, { n: number; words: string; example: string }>();
    for (const k of checks) {
      if (k.status !== 'not-representable') continue;
      for (const c of k.causes ?? []) {
        const cat = `${c.code}\0${c.subject ?? ''}`;
        const e = m.get(cat) ?? { n: 0, words: UNREPRESENTABLE_WORDS[c.code](c.subject), example: k.reason ?? '' };
        e.n++;
        m.set(cat, e);
      }
    }
    return [...m.entries()].sort((a, b) => b[1].n - a[1].n);
  }, [checks]);
  return (
    <div className="space-y-3 px-4 py-3 text-sm" data-testid="pfkey-summary">
      <p className="tabular">
        PF_KEY sees <strong>{formatCount(psas)}</strong> SA{psas === 1 ? '' : 's'} and <strong>{formatCount(ppols)}</strong> polic{ppols === 1 ? 'y' : 'ies'}; XFRM sees{' '}
        <strong>{xsas === undefined ? '…' : formatCount(xsas)}</strong> SA{xsas === 1 ? '' : 's'} and <strong>{xpols === undefined ? '…' : formatCount(xpols)}</strong> polic{xpols === 1 ? 'y' : 'ies'}.
      </p>
      <div role="group" aria-label="Filter the cross-check by result" className="flex flex-wrap gap-2">
        {STATUSES.map((s) => (
          <button
            key={s}
            type="button"
            aria-pressed={status === s}
            onClick={() => setStatus(status === s ? undefined : s)}
            data-testid={`pfkey-count-${s}`}
            className={`flex items-center gap-2 rounded border px-2 py-1 ${status === s ? 'border-blue-500 ring-1 ring-blue-500' : 'border-slate-300 dark:border-slate-700'}`}
          >
            <CheckBadge status={s} />
            <span className="tabular font-semibold">{formatCount(counts[s] ?? 0)}</span>
          </button>
        ))}
        {status && (
          <button type="button" className="text-xs underline" onClick={() => setStatus(undefined)}>
            show all
          </button>
        )}
      </div>
      {reasons.length > 0 && (
        <div>
          <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Why PF_KEY cannot represent some SAs</h3>
          <ul className="mt-1 space-y-0.5 text-xs" data-testid="pfkey-reasons">
            {reasons.map(([cat, { n, words, example }]) => (
              <li key={cat} title={example}>
                <span className="tabular font-semibold">{n}</span> × {words}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

function CheckDetail({ check, onClose }: { check: Check; onClose: () => void }) {
  return (
    <div className="border-t border-slate-200 px-4 py-3 text-sm dark:border-slate-800" data-testid="pfkey-check-detail" aria-live="polite">
      <div className="flex flex-wrap items-center gap-2">
        <CheckBadge status={check.status} differences={check.differences.length} />
        <CheckedSa check={check} />
        {check.xfrmKey && <OpenSaLink saKey={check.xfrmKey}>Open the SA’s details</OpenSaLink>}
        <button type="button" onClick={onClose} className="ml-auto rounded border border-slate-300 px-2 py-0.5 text-xs dark:border-slate-700">
          Close
        </button>
      </div>
      {check.reason && <p className="mt-2 text-slate-600 dark:text-slate-400">{check.reason}</p>}
      {check.differences.length > 0 && (
        <table className="mt-2 w-full max-w-3xl text-xs" aria-label="Differences between XFRM and PF_KEY">
          <thead className="text-left text-slate-500">
            <tr>
              <th scope="col" className="py-1 pr-4 font-medium">Field</th>
              <th scope="col" className="py-1 pr-4 font-medium">XFRM</th>
              <th scope="col" className="py-1 font-medium">PF_KEY</th>
            </tr>
          </thead>
          <tbody className="font-mono">
            {check.differences.map((d, i) => (
              <tr key={i} className="border-t border-slate-100 dark:border-slate-800">
                <td className="py-1 pr-4 font-sans">{d.field}</td>
                <td className="py-1 pr-4">{d.xfrm}</td>
                <td className="py-1">{d.pfkey}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

const checkColumns: ColumnDef<Check, any>[] = [
  { id: 'status', header: 'Result', accessorFn: (c) => STATUSES.indexOf(c.status), cell: (c) => <CheckBadge status={c.row.original.status} differences={c.row.original.differences.length} testId={`check-${c.row.original.key}`} />, size: 130 },
  { id: 'sa', header: 'SA', accessorFn: (c) => c.key, cell: (c) => <CheckedSa check={c.row.original} />, size: 220, meta: { grow: 2 } },
  {
    id: 'detail',
    header: 'Differences / reason',
    accessorFn: (c) => (c.differences.length ? differencesText(c.differences) : c.reason ?? ''),
    cell: (c) => <span className="text-xs" title={String(c.getValue())}>{String(c.getValue()) || '—'}</span>,
    size: 300,
    meta: { grow: 5 },
  },
  { id: 'open', header: 'SA details', enableSorting: false, cell: (c) => (c.row.original.xfrmKey ? <OpenSaLink saKey={c.row.original.xfrmKey} /> : <span className="text-xs text-slate-400">PF_KEY only</span>), size: 90 },
];

function lifetimeText(p: Psa): string {
  const c = p.lifetime.current;
  return c ? `${formatBytes(c.bytes)} · ${formatCount(c.allocations)} pkt` : '—';
}

function PfkeySad({ psas, checkByPfkey }: { psas: Psa[]; checkByPfkey: Map<string, Check> }) {
  const columns = useMemo<ColumnDef<Psa, any>[]>(
    () => [
      { id: 'satype', header: 'Type', accessorFn: (p) => String(p.satype), size: 50 },
      { id: 'spi', header: 'SPI', accessorFn: (p) => p.spi >>> 0, cell: (c) => <span className="font-mono">{c.row.original.spiHex}</span>, size: 100 },
      { id: 'addr', header: 'Source → destination', accessorFn: (p) => `${p.src.address} → ${p.dst.address}`, cell: (c) => <span className="font-mono text-xs">{c.getValue()}</span>, size: 200, meta: { grow: 2 } },
      { id: 'mode', header: 'Mode', accessorFn: (p) => String(p.mode ?? '—'), size: 70 },
      { id: 'reqid', header: 'Reqid', accessorFn: (p) => p.reqid ?? 0, size: 60, meta: { align: 'right' } },
      {
        id: 'alg',
        header: 'Algorithms',
        accessorFn: (p) =>
          [p.encrypt.id ? `${p.encrypt.name}${p.encryptKey ? ` ${p.encryptKey.bits}b` : ''}` : '', p.auth.id ? `${p.auth.name}${p.authKey ? ` ${p.authKey.bits}b` : ''}` : '', p.compression ? p.compression.name : '']
            .filter(Boolean)
            .join(' + ') || 'none',
        cell: (c) => <span className="text-xs">{c.getValue()}</span>,
        size: 170,
        meta: { grow: 2 },
      },
      { id: 'state', header: 'State', accessorFn: (p) => String(p.state), size: 70 },
      { id: 'replay', header: 'Replay', accessorFn: (p) => p.replayWindow, size: 60, meta: { align: 'right' } },
      { id: 'cur', header: 'Current', accessorFn: (p) => Number(p.lifetime.current?.bytes ?? 0), cell: (c) => <span className="text-xs">{lifetimeText(c.row.original)}</span>, size: 130, meta: { align: 'right' } },
      { id: 'natt', header: 'NAT-T', accessorFn: (p) => (p.natT ? `${p.natT.type} ${p.natT.sport ?? '?'}→${p.natT.dport ?? '?'}` : ''), size: 100 },
      {
        id: 'xfrm',
        header: 'vs XFRM',
        accessorFn: (p) => checkByPfkey.get(p.key)?.status ?? '',
        cell: (c) => {
          const ck = checkByPfkey.get(c.row.original.key);
          if (!ck) return <span className="text-xs text-slate-400">not compared</span>;
          return (
            <span className="flex items-center gap-1">
              <CheckBadge status={ck.status} differences={ck.differences.length} title={ck.differences.length ? differencesText(ck.differences) : ck.reason} />
              {ck.xfrmKey && <OpenSaLink saKey={ck.xfrmKey}>SA</OpenSaLink>}
            </span>
          );
        },
        size: 150,
      },
    ],
    [checkByPfkey],
  );
  return <DataTable virtual={{}} label="SAD as PF_KEY sees it" rows={psas} columns={columns} rowKey={(p) => p.key} initialSort={{ id: 'spi' }} />;
}

const policyColumns = (xfrmIndexes: Set<number>) => columnsOf<Ppol>([
  { id: 'id', header: 'Id', cell: (p) => p.id, sortValue: (p) => p.id, align: 'right' },
  { id: 'dir', header: 'Dir', cell: (p) => String(p.dir), sortValue: (p) => String(p.dir) },
  { id: 'sel', header: 'Selector', cell: (p) => <span className="font-mono text-xs">{p.src.address}/{p.src.prefixlen} → {p.dst.address}/{p.dst.prefixlen} {String(p.src.proto)}</span> },
  { id: 'type', header: 'Action', cell: (p) => String(p.type), sortValue: (p) => String(p.type) },
  { id: 'prio', header: 'Priority', cell: (p) => p.priority, sortValue: (p) => p.priority, align: 'right' },
  {
    id: 'tmpl',
    header: 'IPsec requests',
    cell: (p) =>
      p.requests.length === 0 ? (
        '—'
      ) : (
        <ul className="space-y-0.5 text-xs">
          {p.requests.map((r, i) => (
            <li key={i}>
              {String(r.proto)} {String(r.mode)} {String(r.level)}
              {r.reqid ? ` reqid ${r.reqid}` : ''}
              {r.tunnelSrc ? ` ${r.tunnelSrc} → ${r.tunnelDst}` : ''}
            </li>
          ))}
        </ul>
      ),
  },
  { id: 'ref', header: 'Refs', cell: (p) => p.refcount, align: 'right' },
  {
    id: 'xfrm',
    header: 'In XFRM',
    cell: (p) => (xfrmIndexes.has(p.id) ? <span className="text-xs">index {p.id}</span> : <span className="text-xs font-semibold text-amber-800 dark:text-amber-300">not in the XFRM SPD</span>),
    sortValue: (p) => Number(xfrmIndexes.has(p.id)),
  },
]);

export function PfkeyView() {
  const [url, setUrl] = useUrlState();
  const src = useSource('pfkey');
  const xsrc = useSource('xfrm-sa');
  const checksT = useEntities('pfkey-check');
  const psaT = useEntities('pfkey-sa');
  const ppolT = useEntities('pfkey-policy');
  const xsaT = useEntities('sa');
  const xpolT = useEntities('policy');
  const status = url.get('status') ?? undefined;
  const selected = url.get('check') ?? undefined;

  const checks = useMemo(() => (checksT ? [...checksT.rows.values()] : []), [checksT, checksT?.version]);
  const shownChecks = useMemo(() => (status ? checks.filter((c) => c.status === status) : checks), [checks, status]);
  const checkByPfkey = useMemo(() => new Map(checks.filter((c) => c.pfkeyKey).map((c) => [c.pfkeyKey!, c])), [checks]);
  const psas = useMemo(() => (psaT ? [...psaT.rows.values()] : []), [psaT, psaT?.version]);
  const ppols = useMemo(() => (ppolT ? [...ppolT.rows.values()] : []), [ppolT, ppolT?.version]);
  const xfrmIndexes = useMemo(() => new Set(xpolT ? [...xpolT.rows.values()].map((p) => p.index) : []), [xpolT, xpolT?.version]);
  const polCols = useMemo(() => policyColumns(xfrmIndexes), [xfrmIndexes]);
  const selectedCheck = selected ? checksT?.rows.get(selected) : undefined;
  const down = sourceDown(src);
  const loading = !checksT || !psaT;

  return (
    <div className="space-y-4">
      <SourceNotice source={src} what="PF_KEY" />
      <SourceNotice source={xsrc} what="XFRM SAs (the other side of the cross-check)" />
      <Panel title="PF_KEY ⇄ XFRM cross-check" id="pfkey-check">
        <PanelBody loading={loading && 'Loading the PF_KEY view…'} error={down && `${sourceSentence('PF_KEY', src!)}: no cross-check.`}>
          <Summary checks={checks} psas={psas.length} xsas={xsaT?.rows.size} ppols={ppols.length} xpols={xpolT?.rows.size} status={status} setStatus={(s) => setUrl({ status: s })} />
          <PanelBody
            empty={
              checks.length === 0
                ? src?.state !== 'ok' || (xsrc && xsrc.state !== 'ok')
                  ? 'The cross-check runs once both PF_KEY and XFRM are read.'
                  : 'No SAs to compare: neither PF_KEY nor XFRM has any.'
                : shownChecks.length === 0 && `No SA is “${CHECK_WORDS[status as PfkeyCheckStatus] ?? status}”.`
            }
          >
            <DataTable
              virtual={{}}
              label="Cross-check results"
              rows={shownChecks}
              columns={checkColumns}
              rowKey={(c) => c.key}
              initialSort={{ id: 'status' }}
              selectedKey={selected}
              onOpen={(c) => setUrl({ check: c.key })}
            />
          </PanelBody>
          {selected && !selectedCheck && (
            <p role="status" className="px-4 py-2 text-sm text-slate-500">
              That SA is no longer compared (gone from both views).
            </p>
          )}
          {selectedCheck && <CheckDetail check={selectedCheck} onClose={() => setUrl({ check: undefined })} />}
        </PanelBody>
      </Panel>
      <div className="grid gap-4 2xl:grid-cols-2">
        <Panel title={`SAD as PF_KEY sees it${psaT && psas.length ? ` (${psas.length})` : ''}`} id="pfkey-sad">
          <PanelBody loading={!psaT && 'Loading the PF_KEY SAD…'} error={psas.length === 0 && down && sourceSentence('PF_KEY', src!)} empty={psas.length === 0 && 'The PF_KEY dump (SADB_DUMP) has no SAs.'}>
            <PfkeySad psas={psas} checkByPfkey={checkByPfkey} />
          </PanelBody>
        </Panel>
        <Panel title={`SPD as PF_KEY sees it${ppolT && ppols.length ? ` (${ppols.length})` : ''}`} id="pfkey-spd">
          <PanelBody loading={!ppolT && 'Loading the PF_KEY SPD…'} error={ppols.length === 0 && down && sourceSentence('PF_KEY', src!)} empty={ppols.length === 0 && 'The PF_KEY dump (SADB_X_SPDDUMP) has no policies.'}>
            <DataTable label="SPD as PF_KEY sees it" rows={ppols} columns={polCols} rowKey={(p) => p.key} initialSort={{ id: 'id' }} />
          </PanelBody>
        </Panel>
      </div>
      <PfkeyAlgTable />
    </div>
  );
}

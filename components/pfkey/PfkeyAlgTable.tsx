'use client';
// What SADB_REGISTER advertises: the algorithms the kernel offers PF_KEY users, per class.
import { useMemo } from 'react';
import type { OnWire } from '@/server/wire/entities';
import type { PfkeyAlgorithm } from '@/server/wire/pfkey';
import { useEntities } from '../live/keys';
import { Panel, PanelState } from '../ui/Panel';
import { DataTable, type Column } from '../ui/DataTable';
import { sourceDown, useSource } from '../SourceNotice';

type Alg = OnWire<PfkeyAlgorithm>;

const columns: Column<Alg>[] = [
  { id: 'class', header: 'Class', cell: (a) => (a.class === 'encrypt' ? 'cipher' : 'auth'), sortValue: (a) => a.class },
  { id: 'id', header: 'SADB id', cell: (a) => a.id, sortValue: (a) => a.id, align: 'right' },
  { id: 'name', header: 'Name', cell: (a) => <span className="font-mono text-xs">{a.name}</span>, sortValue: (a) => a.name },
  { id: 'const', header: 'pfkeyv2.h constant', cell: (a) => <span className="font-mono text-xs">{a.constant ?? '—'}</span> },
  { id: 'xfrm', header: 'Crypto API name', cell: (a) => <span className="font-mono text-xs">{a.xfrmNames.join(', ') || '—'}</span> },
  { id: 'bits', header: 'Key bits', cell: (a) => (a.minBits === a.maxBits ? `${a.minBits} bit` : `${a.minBits}–${a.maxBits} bit`), sortValue: (a) => a.maxBits, align: 'right' },
  { id: 'iv', header: 'IV length', cell: (a) => (a.class === 'encrypt' ? `${a.ivlen}` : '—'), align: 'right' },
  { id: 'satypes', header: 'SA types', cell: (a) => a.satypes.join(', ') },
];

export function PfkeyAlgTable() {
  const t = useEntities('pfkey-alg');
  const src = useSource('pfkey');
  const rows = useMemo(() => (t ? [...t.rows.values()] : []), [t, t?.version]);
  return (
    <Panel title={`Algorithms PF_KEY REGISTER advertises${t && rows.length ? ` (${rows.length})` : ''}`} id="pfkey-algs">
      {!t ? (
        <PanelState kind="loading">Loading PF_KEY algorithms…</PanelState>
      ) : rows.length === 0 && sourceDown(src) ? (
        <PanelState kind="error">{src!.reason ?? `PF_KEY ${src!.state}`}</PanelState>
      ) : rows.length === 0 ? (
        <PanelState kind="empty">{src?.state === 'starting' ? 'PF_KEY is starting: no REGISTER reply yet.' : 'The kernel advertised no algorithms to SADB_REGISTER.'}</PanelState>
      ) : (
        <>
          <p className="px-4 pt-2 text-xs text-slate-500">IV length as Linux fills sadb_alg_ivlen (bytes for most ciphers; RFC 2367 says bits).</p>
          <DataTable label="Algorithms advertised by PF_KEY REGISTER" rows={rows} columns={columns} rowKey={(a) => a.key} initialSort={{ id: 'class' }} />
        </>
      )}
    </Panel>
  );
}

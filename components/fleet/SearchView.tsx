'use client';
// Search across the fleet (every host, or the one the host filter names): hosts by name, tunnels by name,
// address, SPI or host, SAs by SPI, address, reqid, algorithm or host. A result opens where it lives.
import { useMemo } from 'react';
import { useRouter } from 'next/navigation';
import type { OnWire } from '@/server/wire/entities';
import type { FleetHost } from '@/server/wire/fleet';
import type { Tunnel } from '@/server/wire/tunnels';
import { useEntities } from '../live/keys';
import { hostOf } from '../live/host-filter';
import { Panel, PanelBody } from '../ui/Panel';
import { Badge } from '../ui/Badge';
import { DataTable, columnsOf } from '../ui/DataTable';
import { SearchBox, useUrlSearch } from '../ui/SearchBox';
import { formatSpi } from '../format';
import { searchText, type Sa } from '../sa/sa-text';
import { HOST_STATE_TONE, HOST_STATE_WORDS } from './host-text';

/** Results shown per kind: a search is for finding, the pages are for browsing. */
const MAX_SHOWN = 200;

export function tunnelSearchText(t: OnWire<Tunnel>): string {
  const spi = t.current?.spi;
  return [t.name, t.src, t.dst, spi !== undefined ? `${formatSpi(spi)} ${spi.toString(16)} ${spi}` : '', hostOf(t) ?? ''].join(' ').toLowerCase();
}

/** Where a row opens: its page, filtered to its host. */
function hrefOf(path: string, row: object, select: Record<string, string>): string {
  const host = hostOf(row);
  return `${path}?${new URLSearchParams({ ...(host ? { host } : {}), ...select })}`;
}

const hostCell = (r: object) => <span className="font-mono text-xs">{hostOf(r) ?? '—'}</span>;

const HOST_COLUMNS = columnsOf<OnWire<FleetHost>>([
  { id: 'host', header: 'Host', cell: (h) => <span className="font-mono">{h.host}</span>, sortValue: (h) => h.host },
  { id: 'state', header: 'State', cell: (h) => <Badge tone={HOST_STATE_TONE[h.state]}>{HOST_STATE_WORDS[h.state] ?? h.state}</Badge>, sortValue: (h) => h.state },
]);
const TUNNEL_COLUMNS = columnsOf<OnWire<Tunnel>>([
  { id: 'host', header: 'Host', cell: hostCell, sortValue: (t) => hostOf(t) },
  { id: 'name', header: 'Tunnel', cell: (t) => <span className="font-mono text-xs">{t.name}</span>, sortValue: (t) => t.name },
  { id: 'state', header: 'State', cell: (t) => t.state, sortValue: (t) => t.state },
  { id: 'spi', header: 'Current SPI', cell: (t) => <span className="font-mono text-xs">{t.current ? formatSpi(t.current.spi) : '—'}</span> },
]);
const SA_COLUMNS = columnsOf<Sa>([
  { id: 'host', header: 'Host', cell: hostCell, sortValue: (s) => hostOf(s) },
  { id: 'spi', header: 'SPI', cell: (s) => <span className="font-mono">{formatSpi(s.spi)}</span>, sortValue: (s) => s.spi >>> 0 },
  { id: 'src', header: 'Source', cell: (s) => <span className="font-mono text-xs">{s.src}</span>, sortValue: (s) => s.src },
  { id: 'dst', header: 'Destination', cell: (s) => <span className="font-mono text-xs">{s.dst}</span>, sortValue: (s) => s.dst },
  { id: 'reqid', header: 'Reqid', cell: (s) => s.reqid, sortValue: (s) => s.reqid, align: 'right' },
]);

function Results<T>({ title, id, found, children }: { title: string; id: string; found: T[]; children: (shown: T[]) => React.ReactNode }) {
  return (
    <Panel title={`${title} (${found.length > MAX_SHOWN ? `first ${MAX_SHOWN} of ${found.length}` : found.length})`} id={id}>
      <PanelBody empty={found.length === 0 && 'Nothing matches.'}>{children(found.slice(0, MAX_SHOWN))}</PanelBody>
    </Panel>
  );
}

export function SearchView() {
  const router = useRouter();
  const search = useUrlSearch();
  const needle = search.needle;
  const hosts = useEntities('host');
  const tunnels = useEntities('tunnel');
  const sas = useEntities('sa');
  const found = useMemo(() => {
    if (!needle) return { hosts: [], tunnels: [], sas: [] };
    return {
      hosts: [...(hosts?.rows.values() ?? [])].filter((h) => h.host.toLowerCase().includes(needle)),
      tunnels: [...(tunnels?.rows.values() ?? [])].filter((t) => tunnelSearchText(t).includes(needle)),
      sas: [...(sas?.rows.values() ?? [])].filter((s) => searchText(s).includes(needle)),
    };
  }, [needle, hosts, tunnels, sas]);
  return (
    <div className="space-y-4">
      <SearchBox search={search} label="Search the fleet by SPI, address, tunnel name or host" placeholder="SPI, address, tunnel name or host" className="w-full max-w-xl" />
      {!needle ? (
        <p className="text-sm text-slate-500">Type an SPI (0xc0ffee01 or c0ffee01), an address, part of a tunnel's name or a host.</p>
      ) : (
        <>
          <Results title="Hosts" id="found-hosts" found={found.hosts}>
            {(shown) => <DataTable label="Hosts found" rows={shown} columns={HOST_COLUMNS} rowKey={(h) => h.key} onOpen={(h) => router.push(`/?host=${encodeURIComponent(h.host)}`)} />}
          </Results>
          <Results title="Tunnels" id="found-tunnels" found={found.tunnels}>
            {(shown) => <DataTable label="Tunnels found" rows={shown} columns={TUNNEL_COLUMNS} rowKey={(t) => t.key} onOpen={(t) => router.push(hrefOf('/tunnels', t, { tunnel: t.key }))} />}
          </Results>
          <Results title="Security associations" id="found-sas" found={found.sas}>
            {(shown) => <DataTable label="SAs found" rows={shown} columns={SA_COLUMNS} rowKey={(s) => s.key} onOpen={(s) => router.push(hrefOf('/sas', s, { sa: s.key }))} />}
          </Results>
        </>
      )}
    </div>
  );
}

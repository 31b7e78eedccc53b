'use client';
// The host filter (fleet console only): a select in the header bound to ?host=. HostFilterFromUrl keeps the
// URL's choice in the query cache, where useEntities reads it, so every table of every page (and the wall)
// shows only that host, and carries it to the next page. Beside it, the fleet-wide search.
import { useEffect, useMemo, useRef, useState } from 'react';
import { usePathname, useRouter } from 'next/navigation';
import { useQueryClient } from '@tanstack/react-query';
import { hostFilterKey, useEntitiesOfAllHosts, useHostFilter } from '../live/keys';
import { useUrlState } from '../ui/useUrlState';

export function HostFilterFromUrl() {
  const qc = useQueryClient();
  const path = usePathname();
  const [url, setUrl] = useUrlState();
  const host = url.get('host') ?? '';
  const chosen = useHostFilter();
  const lastPath = useRef(path);
  useEffect(() => {
    const moved = lastPath.current !== path;
    lastPath.current = path;
    // A link to another page that does not name a host (the overview's counts, the logo) keeps the
    // chosen one; only the select (same page, no host) shows all hosts again.
    if (moved && !host && chosen) return setUrl({ host: chosen });
    qc.setQueryData(hostFilterKey, host || null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [qc, path, host]);
  return null;
}

export function HostFilter() {
  const [url, setUrl] = useUrlState();
  const host = url.get('host') ?? '';
  const hosts = useEntitiesOfAllHosts('host');
  const names = useMemo(() => (hosts ? [...hosts.rows.values()].map((h) => h.host).sort((a, b) => a.localeCompare(b, undefined, { numeric: true })) : []), [hosts]);
  return (
    <label className="flex items-center gap-1 text-sm">
      <span className="text-slate-500">Host</span>
      <select
        aria-label="Show one host"
        data-testid="host-filter"
        value={host}
        onChange={(e) => setUrl({ host: e.target.value || undefined })}
        className="rounded border border-slate-300 bg-transparent px-1 py-0.5 dark:border-slate-700 dark:bg-slate-900"
      >
        <option value="">all hosts ({names.length})</option>
        {host && !names.includes(host) && <option value={host}>{host} (not reporting)</option>}
        {names.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The header's search box: Enter opens /search with the text (the host filter, if any, goes along). */
export function FleetSearch() {
  const router = useRouter();
  const path = usePathname();
  const [url] = useUrlState();
  const [text, setText] = useState('');
  if (path === '/search') return null; // the page has its own box
  return (
    <form
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        const q = new URLSearchParams({ q: text.trim() });
        const host = url.get('host');
        if (host) q.set('host', host);
        router.push(`/search?${q}`);
      }}
    >
      <input
        type="search"
        aria-label="Search the fleet"
        placeholder="SPI, address, tunnel, host"
        value={text}
        onChange={(e) => setText(e.target.value)}
        className="w-56 rounded border border-slate-300 bg-transparent px-2 py-0.5 text-sm dark:border-slate-700"
      />
    </form>
  );
}

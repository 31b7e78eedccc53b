'use client';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { Suspense, type ReactNode } from 'react';
import { Freshness, ConnectionBanner } from './live/Freshness';
import { useEntities, useHostFilter } from './live/keys';
import { ThemeToggle } from './ui/ThemeToggle';
import { FleetSearch, HostFilter, HostFilterFromUrl } from './fleet/HostFilter';
import { useFleet } from './fleet/useFleet';

const NAV = [
  { href: '/fleet', label: 'Fleet', fleet: true },
  { href: '/', label: 'Overview' },
  { href: '/sas', label: 'SAs' },
  { href: '/tunnels', label: 'Tunnels' },
  { href: '/policies', label: 'Policies' },
  { href: '/devices', label: 'Devices' },
  { href: '/ovpn', label: 'OpenVPN' },
  { href: '/wireguard', label: 'WireGuard' },
  { href: '/psp', label: 'PSP' },
  { href: '/crypto', label: 'Crypto' },
  { href: '/pfkey', label: 'PF_KEY' },
  { href: '/vici/users', label: 'VPN users', vici: true },
  { href: '/vici', label: 'strongSwan', vici: true },
  { href: '/events', label: 'Events' },
  { href: '/wall', label: 'Wall' },
];

export function Shell({ children }: { children: ReactNode }) {
  const path = usePathname();
  const fleet = useFleet();
  const host = useHostFilter();
  // strongSwan's pages when its source works (or the page is open anyway).
  const vici = useEntities('source')?.rows.get('vici')?.state === 'ok' || path.startsWith('/vici');
  // The host filter goes along to every page (and the wall).
  const withHost = (href: string) => (host ? `${href}?host=${encodeURIComponent(host)}` : href);
  const fromUrl = (
    <Suspense>
      <HostFilterFromUrl />
    </Suspense>
  );
  if (path.startsWith('/wall'))
    return (
      <>
        {fromUrl}
        {children}
      </>
    );
  return (
    <div className="flex min-h-screen flex-col">
      <header className="sticky top-0 z-10 border-b border-slate-200 bg-white/90 backdrop-blur dark:border-slate-800 dark:bg-slate-900/90">
        <div className="mx-auto flex max-w-screen-2xl flex-wrap items-center gap-4 px-4 py-2">
          <Link href="/" className="text-lg font-bold tracking-tight">
            sascope
          </Link>
          <nav aria-label="Main" className="flex flex-wrap gap-1">
            {NAV.filter((n) => (fleet || !n.fleet) && (vici || !n.vici)).map((n) => {
              const active = n.href === '/' ? path === '/' : n.href === '/vici' ? path === '/vici' : path.startsWith(n.href);
              return (
                <Link
                  key={n.href}
                  href={withHost(n.href)}
                  aria-current={active ? 'page' : undefined}
                  className={`rounded px-2 py-1 text-sm ${active ? 'bg-slate-900 text-white dark:bg-slate-100 dark:text-slate-900' : 'text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800'}`}
                >
                  {n.label}
                </Link>
              );
            })}
          </nav>
          <div className="ml-auto flex items-center gap-3">
            {fromUrl}
            {fleet && (
              <Suspense>
                <HostFilter />
                <FleetSearch />
              </Suspense>
            )}
            <Freshness />
            <ThemeToggle />
          </div>
        </div>
        <ConnectionBanner />
      </header>
      <main className="mx-auto w-full max-w-screen-2xl flex-1 space-y-4 p-4">{children}</main>
    </div>
  );
}

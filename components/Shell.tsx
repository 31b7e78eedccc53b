'use client';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import type { ReactNode } from 'react';
import { Freshness, ConnectionBanner } from './live/Freshness';
import { ThemeToggle } from './ui/ThemeToggle';

const NAV = [
  { href: '/', label: 'Overview' },
  { href: '/sas', label: 'SAs' },
  { href: '/tunnels', label: 'Tunnels' },
  { href: '/policies', label: 'Policies' },
  { href: '/devices', label: 'Devices' },
  { href: '/ovpn', label: 'OpenVPN' },
  { href: '/psp', label: 'PSP' },
  { href: '/crypto', label: 'Crypto' },
  { href: '/pfkey', label: 'PF_KEY' },
  { href: '/events', label: 'Events' },
  { href: '/wall', label: 'Wall' },
];

export function Shell({ children }: { children: ReactNode }) {
  const path = usePathname();
  if (path.startsWith('/wall')) return <>{children}</>;
  return (
    <div className="flex min-h-screen flex-col">
      <header className="sticky top-0 z-10 border-b border-slate-200 bg-white/90 backdrop-blur dark:border-slate-800 dark:bg-slate-900/90">
        <div className="mx-auto flex max-w-screen-2xl flex-wrap items-center gap-4 px-4 py-2">
          <Link href="/" className="text-lg font-bold tracking-tight">
            sascope
          </Link>
          <nav aria-label="Main" className="flex flex-wrap gap-1">
            {NAV.map((n) => {
              const active = n.href === '/' ? path === '/' : path.startsWith(n.href);
              return (
                <Link
                  key={n.href}
                  href={n.href}
                  aria-current={active ? 'page' : undefined}
                  className={`rounded px-2 py-1 text-sm ${active ? 'bg-slate-900 text-white dark:bg-slate-100 dark:text-slate-900' : 'text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800'}`}
                >
                  {n.label}
                </Link>
              );
            })}
          </nav>
          <div className="ml-auto flex items-center gap-3">
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

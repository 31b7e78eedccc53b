'use client';
import { Suspense, useEffect, useState } from 'react';
import { useParams } from 'next/navigation';
import Link from 'next/link';
import { TunnelDetail } from '@/components/tunnels/TunnelDetail';

export default function TunnelPage() {
  const raw = useParams<{ key: string }>().key;
  // A tunnel key has ':' '>' '/' in it: the link encodes it; decoded here whether or not the router did.
  const key = raw.includes('%') ? decodeURIComponent(raw) : raw;
  // Drawn in the browser only: the page is made of the browser's clock, time zone and canvas.
  const [mounted, setMounted] = useState(false);
  useEffect(() => setMounted(true), []);
  if (!mounted) return <p className="text-sm text-slate-500">Loading tunnel…</p>;
  return (
    <>
      <h1 className="text-xl font-semibold">
        <Link href="/tunnels" className="text-slate-500 hover:underline">Tunnels</Link> / <span className="font-mono text-base">{key}</span>
      </h1>
      <Suspense>
        <TunnelDetail tunnelKey={key} />
      </Suspense>
    </>
  );
}

'use client';
// Filters, sort, columns and selection live in the query string, so every view is a shareable URL.
import { useCallback } from 'react';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';

export function useUrlState(): [URLSearchParams, (patch: Record<string, string | undefined>) => void] {
  const params = useSearchParams();
  const router = useRouter();
  const path = usePathname();
  const set = useCallback(
    (patch: Record<string, string | undefined>) => {
      const next = new URLSearchParams(window.location.search);
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined || v === '') next.delete(k);
        else next.set(k, v);
      }
      const qs = next.toString();
      router.replace(`${path}${qs ? `?${qs}` : ''}`, { scroll: false });
    },
    [router, path],
  );
  return [new URLSearchParams(params.toString()), set];
}

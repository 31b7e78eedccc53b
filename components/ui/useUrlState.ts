'use client';
// Filters, sort, columns and selection live in the query string, so every view is a shareable URL.
import { useCallback, useMemo } from 'react';
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
  // One object per URL (not per render): callers memoize on it (sorting, hidden columns), and a new one
  // each render would re-sort a 100k-row table every second.
  const qs = params.toString();
  const url = useMemo(() => new URLSearchParams(qs), [qs]);
  return [url, set];
}

'use client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState } from 'react';
import { LiveConnection } from '@/components/live/LiveConnection';

export function Providers({ children }: { children: React.ReactNode }) {
  // The socket is the freshness signal: nothing refetches on its own.
  const [client] = useState(
    () => new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, gcTime: Infinity, retry: false, refetchOnWindowFocus: false } } }),
  );
  return (
    <QueryClientProvider client={client}>
      <LiveConnection />
      {children}
    </QueryClientProvider>
  );
}

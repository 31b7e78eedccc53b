'use client';
import { useMemo } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { EntityKind, EntityKinds, Snapshot } from '@/server/wire/protocol';
import { onHost } from './host-filter';

export interface LiveStatus {
  state: 'connecting' | 'open' | 'reconnecting';
  connected: boolean;
  everConnected?: boolean;
  seq: number;
  reconnects: number;
  connectedAt?: number;
  disconnectedAt?: number;
  lastMessageAt?: number;
  /** Last time a delta or snapshot changed something. */
  lastChangeAt?: number;
  lastCloseReason?: string;
  server?: Snapshot['server'];
  now?: number;
  /** A snapshot arriving in parts: rows of each kind in the whole snapshot, while parts are still coming. */
  receiving?: Snapshot['totals'];
}

export interface EntityTable<K extends EntityKind> {
  rows: Map<string, EntityKinds[K]>;
  /** Bumped on every change: the rows Map is mutated in place, memoize on this. */
  version: number;
}

export const liveKey = ['live'] as const;
export const entitiesKey = (kind: EntityKind) => ['entities', kind] as const;

// Data arrives through the socket into the cache (LiveConnection); these queries never fetch.
const never = (): Promise<never> => new Promise<never>(() => undefined);

export function useLiveStatus(): LiveStatus {
  const q = useQuery<LiveStatus>({ queryKey: liveKey, queryFn: never, enabled: false });
  return q.data ?? { state: 'connecting', connected: false, seq: -1, reconnects: 0 };
}

/** Rows of one entity kind; undefined until the first snapshot (the loading state). Only the chosen host's (?host=). */
export function useEntities<K extends EntityKind>(kind: K): EntityTable<K> | undefined {
  const all = useEntitiesOfAllHosts(kind);
  const host = useHostFilter();
  return useMemo(() => (all && host ? onHost(all, host) : all), [all, host]);
}

/** Rows of one entity kind from every host, whatever the host filter says (the fleet overview, the filter's own list). */
export function useEntitiesOfAllHosts<K extends EntityKind>(kind: K): EntityTable<K> | undefined {
  const q = useQuery<EntityTable<K>>({ queryKey: entitiesKey(kind), queryFn: never, enabled: false });
  return q.data;
}

export const hostFilterKey = ['host-filter'] as const;

/** The host every page shows (?host=, kept in the cache by HostFilter); undefined: all of them. */
export function useHostFilter(): string | undefined {
  const q = useQuery<string | null>({ queryKey: hostFilterKey, queryFn: never, enabled: false });
  return q.data ?? undefined;
}

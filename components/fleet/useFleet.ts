'use client';
import { useEntitiesOfAllHosts, useLiveStatus } from '../live/keys';

/** Whether this console shows a fleet (serve --fleet: the snapshot says so, or host rows have arrived). */
export function useFleet(): boolean {
  const server = useLiveStatus().server;
  const hosts = useEntitiesOfAllHosts('host');
  return (server !== undefined && 'fleet' in server && !!server.fleet) || (hosts?.rows.size ?? 0) > 0;
}

// Where a tunnel's detail page is (app/tunnels/[key]): linked from tunnel rows, wall tiles and alarms.
import { refOnHost } from '@/server/wire/fleet';

export const tunnelHref = (key: string) => `/tunnels/${encodeURIComponent(key)}`;

/** The tunnel an alarm is about ("tunnel:<key>"), if it is about one. */
export const tunnelOfAlarm = (ref: string): string | undefined => (ref.startsWith('tunnel:') ? ref.slice('tunnel:'.length) : undefined);

/** An alarm's tunnel page, if it is about a tunnel (on a fleet console the row key has its host in front). */
export function alarmTunnelHref(a: { ref: string; host?: string }): string | undefined {
  const key = tunnelOfAlarm(refOnHost(a, a.ref));
  return key === undefined ? undefined : tunnelHref(key);
}

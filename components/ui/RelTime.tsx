'use client';
import { formatAbsolute, formatRelative } from '../format';
import { useLiveStatus } from '../live/keys';

/** "12 s ago", with the absolute time on hover; re-renders with the live tick. */
export function RelTime({ ms, className }: { ms: number | undefined; className?: string }) {
  const { now } = useLiveStatus();
  return (
    <time className={className} dateTime={ms ? new Date(ms).toISOString() : undefined} title={formatAbsolute(ms)}>
      {formatRelative(ms, now ?? Date.now())}
    </time>
  );
}

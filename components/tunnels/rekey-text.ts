// What a tunnel's rekey countdown says, in words. After the soft expiry the SA lives on until the hard
// one while a rekey is negotiated — usually the peer's, when this side is the responder — so "expired"
// there would be wrong: the tunnel is up, waiting, with a known deadline. A down tunnel has no SA to rekey:
// no countdown at all (a countdown kept from its last SA beside "Hard expiry reached" reads as a contradiction).
import type { Countdown, TunnelState } from '@/server/wire/tunnels';
import { formatDuration } from '../sa/sa-text';

export interface RekeyText {
  /** What the value is: "next rekey", "waiting for the peer's rekey", "hard expiry". */
  label: string;
  value: string;
  /** The deadline is near or passed. */
  urgent: boolean;
}

export function rekeyText(c: Pick<Countdown, 'softExpiresAt' | 'hardExpiresAt' | 'useLimitPending'> | undefined, now: number, state?: TunnelState): RekeyText {
  if (state === 'down') return { label: 'no current SA', value: '—', urgent: false };
  const soft = c?.softExpiresAt;
  const hard = c?.hardExpiresAt;
  if (hard !== undefined && hard <= now) return { label: 'hard expiry', value: 'passed', urgent: true };
  if (soft === undefined) return { label: 'next rekey', value: c?.useLimitPending ? 'after first use' : '—', urgent: false };
  if (soft > now) return { label: 'next rekey', value: formatDuration((soft - now) / 1000), urgent: soft - now < 30_000 };
  return {
    label: "waiting for the peer's rekey",
    value: hard !== undefined ? `hard expiry in ${formatDuration((hard - now) / 1000)}` : `soft expiry ${formatDuration((now - soft) / 1000)} ago`,
    urgent: true,
  };
}

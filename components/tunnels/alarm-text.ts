import type { AlarmType } from '@/server/wire/tunnels';

/** Alarm types in words an operator reads from across the room. */
export const ALARM_WORDS: Record<AlarmType, string> = {
  'expiring-soon': 'Expiring soon',
  'rekey-overdue': 'Rekey overdue',
  'hard-expired': 'Hard expiry reached',
  'tunnel-down': 'Tunnel down',
  'sequence-space': 'Sequence space nearly used',
  'integrity-failures': 'Integrity failures rising',
  'replay-failures': 'Replay failures rising',
  'offload-fallback': 'Offload fell back to software',
  'ovpn-key-swap-needed': 'OpenVPN key swap needed',
  'peer-deleted': 'Peer deleted',
  'source-stale': 'Source stale',
  'host-stale': 'Host stale',
  'host-unreachable': 'Host unreachable',
  'ike-down': 'IKE SA down',
  'ike-auth-failed': 'IKE authentication failed',
  'cert-expiring': 'Certificate expiring',
  'cert-expired': 'Certificate expired',
  'wg-handshake-stale': 'WireGuard handshake stale',
};

export const CAUSE_WORDS: Record<string, string> = {
  'soft-expire': 'soft expire',
  'daemon-rekey': 'daemon rekey',
  'hard-expire': 'hard expire',
  manual: 'manual',
  'key-swap': 'key swap',
  'new-key': 'new key',
  'key-rotate': 'key rotate',
  handshake: 'handshake',
  operator: 'operator rekey',
};

export const CAUSE_TONE: Record<string, string> = {
  'soft-expire': 'bg-emerald-500',
  'daemon-rekey': 'bg-sky-500',
  'hard-expire': 'bg-red-500',
  manual: 'bg-amber-500',
  'key-swap': 'bg-violet-500',
  'new-key': 'bg-violet-500',
  'key-rotate': 'bg-fuchsia-500',
  handshake: 'bg-teal-500',
  operator: 'bg-orange-500',
};

import type { HostState } from '@/server/wire/fleet';
import type { Tone } from '../ui/Badge';

/** A host's state in words an operator reads (the fleet overview and the wall). */
export const HOST_STATE_WORDS: Record<HostState, string> = {
  up: 'up',
  stale: 'stale',
  unreachable: 'unreachable',
  mismatch: 'version mismatch',
};

export const HOST_STATE_TONE: Record<HostState, Tone> = { up: 'ok', stale: 'warn', unreachable: 'bad', mismatch: 'bad' };

/** Worst first: the order the overview and the wall put hosts in. */
export const HOST_STATE_RANK: Record<HostState, number> = { unreachable: 0, mismatch: 1, stale: 2, up: 3 };


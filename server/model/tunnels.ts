// The tunnel tracker's public entry: tunnels, rotations and alarms derived from the model (see tunnels/tracker.ts).
export { TunnelTracker, type TunnelTrackerOptions } from './tunnels/tracker.ts';
export type { TunnelState } from './tunnels/continuity.ts';

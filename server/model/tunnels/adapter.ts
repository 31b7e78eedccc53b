// What a family that feeds tunnels writes: one adapter (adapters/<family>.ts), registered in adapters/index.ts.
// The tracker owns the tunnels, the passes and the alarm book; an adapter turns its family's model changes
// into tunnels and rotations, and says how its tunnels' rows, alarms and lifetimes follow.
import type { Model, ModelChange } from '../model.ts';
import type { AlarmWanted } from '../alarms.ts';
import type { AlarmThresholds } from '../../config.ts';
import type { OnWire } from '../../wire/entities.ts';
import type { EntityKind } from '../../wire/protocol.ts';
import type { Tunnel, TunnelFamily } from '../../wire/tunnels.ts';
import type { Continuity } from './continuity.ts';
import type { RotationLog } from './rotations.ts';
import type { TunnelTrack } from './track.ts';

/** What the tracker hands an adapter. */
export interface TunnelHost {
  readonly model: Model;
  readonly now: () => number;
  readonly thresholds: AlarmThresholds;
  /** Every tunnel, by key; an adapter adds its own and changes them only through the calls below or in place before touch(). */
  readonly tunnels: Map<string, TunnelTrack>;
  readonly rotations: RotationLog;
  readonly continuity: Continuity;
  /** Rebuild this tunnel in the next pass (scheduling one). */
  touch(tunnel: string): void;
  /** Rebuild this tunnel in the pass the current change schedules. */
  mark(tunnel: string): void;
  /** Gone now: out of the model, its alarms cleared. */
  drop(t: TunnelTrack): void;
}

export interface TunnelAdapter {
  /** The model kinds it reads; each change of one comes to onChange. */
  readonly kinds: readonly EntityKind[];
  onChange(c: ModelChange): void;
  /** The tunnels it makes (absent for a family that only reports rotations, such as PSP). */
  readonly family?: TunnelFamily;
  /** Its tunnels' counters go to history, continuous across restarts (restore, exportState). */
  readonly continuous?: boolean;
  /** Work held for the next pass (e.g. removals, whose cause the kernel says right after them), and whether there is some. */
  beforePass?(): void;
  pending?(): boolean;
  /** Its own parts of a tunnel's row: policies and direction first, then state, counters and current key (in place). */
  placement?(t: TunnelTrack): { direction?: string; policies: string[] };
  fill?(t: TunnelTrack, row: Tunnel): void;
  /** Its alarm rules (alarm-rules.ts): pure functions of the tunnel and the clock. */
  alarms?(t: TunnelTrack, row: Tunnel, now: number, th: AlarmThresholds): AlarmWanted[];
  /** Whether the clock alone may change the tunnel's row now (the tick rebuilds only those). */
  followsClock?(t: TunnelTrack, row: OnWire<Tunnel>, now: number, lingerMs: number): boolean;
  /** Whether the tunnel is to be dropped now (down for its linger time). */
  expired?(t: TunnelTrack, now: number, lingerMs: number): boolean;
  /** The tunnel is being dropped: out of the adapter's indexes. */
  dropped?(t: TunnelTrack): void;
}

export type TunnelAdapterFactory = (host: TunnelHost) => TunnelAdapter;

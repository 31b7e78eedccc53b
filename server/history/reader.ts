// What the HTTP API reads from the history database (implemented by server/history/history.ts).
import type { OnWire, KernelEvent } from '../wire/entities.ts';
import type { HistoryAlarm, HistoryGap, Rotation, TunnelSample } from '../wire/tunnels.ts';
import type { ViciAction } from '../wire/vici.ts';

export interface Window {
  since?: number;
  until?: number;
  limit: number;
}

export type { HistoryAlarm, TunnelSample };


export interface HistoryInfo {
  available: boolean;
  /** The database file. */
  file?: string;
  /** Why it is unavailable or failing (unwritable, disk full …). */
  problem?: string;
  retentionDays: number;
  sampleSeconds: number;
  sizeBytes?: number;
  rows?: { events: number; rotations: number; alarms: number; samples: number };
  /** When this run of sascope started, and the gaps (sascope not running) within retention, newest first. */
  startedAt?: number;
  gaps: HistoryGap[];
}

export interface HistoryReader {
  /** False when the database could not be opened: callers fall back to memory. */
  readonly available: boolean;
  events(q: Window & { source?: string; type?: string; ref?: string }): { events: Array<OnWire<KernelEvent> & { historyId: number }>; truncated: boolean };
  rotations(q: Window & { tunnel?: string; family?: string }): { rotations: Array<OnWire<Rotation>>; truncated: boolean };
  alarms(q: Window & { type?: string; ref?: string }): { history: HistoryAlarm[]; truncated: boolean };
  /** Operator actions on charon (the audit list), newest first. */
  viciActions(q: Window): { actions: ViciAction[]; truncated: boolean };
  samples(q: Window & { tunnel: string }): { samples: TunnelSample[]; gaps: HistoryGap[]; truncated: boolean };
  info(): HistoryInfo;
}

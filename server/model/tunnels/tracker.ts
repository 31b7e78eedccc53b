// From raw SAs to what an operator asks: tunnels, rotations, countdowns and alarms, derived by listening
// to the model (Model.onChange) and kept as kinds of their own ('tunnel', 'rotation', 'alarm').
//
// Each family that feeds tunnels is an adapter (adapters/: XFRM SAs, ovpn peers, PSP devices); the
// tracker holds the tunnels, runs the passes and keeps the alarm book. Alarm rules are pure functions
// (alarm-rules.ts), SA grouping is grouping.ts, rotations rotations.ts, restart continuity continuity.ts.
//
// Work is batched: changes mark tunnels dirty and one pass shortly after (setImmediate) rebuilds them, so
// an SA storm costs one tunnel upsert per tunnel per pass. A 1 s timer re-evaluates the tunnels whose row
// the clock changes (expiring soon, rekey overdue, failures rising, peer deleted, linger time up).
import type { Model, ModelChange } from '../model.ts';
import { AlarmBook, type AlarmListener } from '../alarms.ts';
import type { AlarmThresholds } from '../../config.ts';
import type { OnWire, SourceStatus } from '../../wire/entities.ts';
import type { EntityKind } from '../../wire/protocol.ts';
import type { Rotation, Tunnel, TunnelFamily } from '../../wire/tunnels.ts';
import type { TunnelAdapter, TunnelHost } from './adapter.ts';
import { TUNNEL_ADAPTERS } from './adapters/index.ts';
import { CLOCK_ALARMS, markFailures, sourceAlarms } from './alarm-rules.ts';
import { Continuity, stateOf, type TunnelState } from './continuity.ts';
import { RotationLog } from './rotations.ts';
import type { TunnelBase, TunnelTrack } from './track.ts';

export interface TunnelTrackerOptions {
  thresholds: AlarmThresholds;
  now?: () => number;
  /** Clock alarms re-evaluated this often (0 = never; tests call tick()). Default 1000. */
  tickMs?: number;
  /** A tunnel with no SA for this long is dropped (a later SA makes a new tunnel). Default 600 s. */
  lingerSeconds?: number;
  /** Rotation rows kept in memory (history keeps them all within retention). Default 2000. */
  maxRotations?: number;
  /** Told about rotations and alarms (history). */
  onRotation?: (r: Rotation) => void;
  alarms?: AlarmListener;
}

export class TunnelTracker {
  private readonly tunnels = new Map<string, TunnelTrack>();
  private readonly dirty = new Set<string>();
  private readonly adapters: TunnelAdapter[];
  /** The adapters that read each model kind. */
  private readonly byKind = new Map<EntityKind, TunnelAdapter[]>();
  /** The adapter of each tunnel family. */
  private readonly byFamily = new Map<TunnelFamily, TunnelAdapter>();
  private readonly continuity = new Continuity();
  readonly alarms: AlarmBook;
  private scheduled = false;
  private readonly settledWaiters: Array<() => void> = [];
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly off: () => void;
  private readonly now: () => number;

  constructor(private readonly model: Model, private readonly opts: TunnelTrackerOptions) {
    this.now = opts.now ?? Date.now;
    this.alarms = new AlarmBook(model, this.now, opts.alarms);
    const host: TunnelHost = {
      model,
      now: this.now,
      thresholds: opts.thresholds,
      tunnels: this.tunnels,
      rotations: new RotationLog(model, opts.maxRotations ?? 2000, opts.onRotation),
      continuity: this.continuity,
      touch: (k) => this.touch(k),
      mark: (k) => void this.dirty.add(k),
      drop: (t) => this.dropTunnel(t),
    };
    this.adapters = TUNNEL_ADAPTERS.map((make) => make(host));
    for (const a of this.adapters) {
      for (const kind of a.kinds) this.byKind.set(kind, [...(this.byKind.get(kind) ?? []), a]);
      if (a.family) this.byFamily.set(a.family, a);
    }
    this.off = model.onChange((c) => this.onChange(c));
    const every = opts.tickMs ?? 1000;
    if (every > 0) {
      this.timer = setInterval(() => this.tick(), every);
      this.timer.unref();
    }
  }

  /** Counters and rotation counts from history, before the sources start (see Continuity.restore). */
  restore(states: TunnelState[]): void {
    this.continuity.restore(states);
  }

  /** After the first dumps: SAs that were live at the last stop and are not now stay retired (they died while sascope was down). */
  settle(): void {
    this.continuity.settle();
  }

  /** Every change seen so far is published: no pass pending (flush() spreads a big batch over turns of the event loop). */
  get settled(): boolean {
    return !this.scheduled && this.dirty.size === 0 && !this.adapters.some((a) => a.pending?.());
  }

  /** Resolves when settled: a reader right after the dumps (`sascope snapshot`) gets every tunnel and alarm, not the first passes' share. */
  whenSettled(): Promise<void> {
    return this.settled ? Promise.resolve() : new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /** The state history keeps (continuity across restarts). */
  exportState(): TunnelState[] {
    return [...this.tunnels.values()].filter((t) => this.byFamily.get(t.family)?.continuous).map(stateOf);
  }

  tunnelList(): Tunnel[] {
    return [...this.tunnels.keys()].map((k) => this.model.get('tunnel', k) as Tunnel).filter(Boolean);
  }

  // ---- input

  private onChange(c: ModelChange): void {
    if (c.kind === 'source') {
      if (c.op === 'upsert') {
        const s = c.value as OnWire<SourceStatus>;
        this.alarms.set(`source:${s.id}`, sourceAlarms(s));
      }
    } else {
      const adapters = this.byKind.get(c.kind);
      if (!adapters) return;
      for (const a of adapters) a.onChange(c);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private touch(tunnel: string): void {
    this.dirty.add(tunnel);
    this.schedule();
  }

  private dropTunnel(t: TunnelTrack): void {
    this.tunnels.delete(t.key);
    this.dirty.delete(t.key);
    this.byFamily.get(t.family)?.dropped?.(t);
    this.alarms.set(`tunnel:${t.key}`, []);
    this.model.remove('tunnel', t.key);
  }

  // ---- output

  /** One pass: what the adapters held for it (removals, now that their cause is known), then every dirty tunnel rebuilt. */
  flush(): void {
    this.scheduled = false;
    for (const a of this.adapters) a.beforePass?.();
    // At most PUBLISH_BUDGET tunnels per pass: a flush of thousands of SAs (each tunnel down, an alarm,
    // an event) is spread over turns of the event loop instead of holding it (650 ms for 5,000 on the host).
    let n = 0;
    for (const key of this.dirty) {
      if (n++ === PUBLISH_BUDGET) return this.schedule();
      this.dirty.delete(key);
      this.publish(key);
    }
    if (this.settled) for (const resolve of this.settledWaiters.splice(0)) resolve();
  }

  private tunnelOf(t: TunnelTrack, adapter: TunnelAdapter | undefined): Tunnel {
    const now = this.now();
    const row: Tunnel = {
      key: t.key,
      family: t.family,
      ...stripSaDir(t.base),
      ...(adapter?.placement?.(t) ?? { policies: [] }),
      state: 'down',
      sas: t.live.map((s) => s.key),
      firstSeen: t.firstSeen,
      bytes: t.retired.bytes,
      packets: t.retired.packets,
      integrityFailed: t.retired.integrityFailed,
      replayFailed: t.retired.replay,
      replayWindowFailed: t.retired.replayWindow,
      rotations: t.rotations,
      ...(t.lastRotation !== undefined ? { lastRotation: t.lastRotation } : {}),
      alarms: [],
    };
    adapter?.fill?.(t, row);
    markFailures(t, row, now, this.opts.thresholds);
    const wanted = adapter?.alarms?.(t, row, now, this.opts.thresholds) ?? [];
    this.alarms.set(`tunnel:${t.key}`, wanted);
    row.alarms = wanted.map((w) => w.type);
    return row;
  }

  private publish(key: string): void {
    const t = this.tunnels.get(key);
    if (!t) return;
    const adapter = this.byFamily.get(t.family);
    if (adapter?.expired?.(t, this.now(), this.lingerMs())) {
      this.dropTunnel(t);
      return;
    }
    this.model.upsert('tunnel', key, this.tunnelOf(t, adapter));
  }

  private lingerMs(): number {
    return (this.opts.lingerSeconds ?? 600) * 1000;
  }

  /**
   * Clock-driven re-evaluation: countdown thresholds, alarms that change with the clock, failure windows,
   * a down tunnel when its linger time is up. Only those: a mass teardown leaves thousands of down
   * tunnels (alarm "tunnel-down", which the clock does not change) that would otherwise be rebuilt every
   * second for the whole linger time.
   */
  tick(): void {
    const now = this.now();
    const linger = this.lingerMs();
    for (const t of this.tunnels.values()) {
      const row = this.model.get('tunnel', t.key) as OnWire<Tunnel> | undefined;
      if (!row) continue;
      const near = row.alarms.some((a) => CLOCK_ALARMS.has(a)) || t.failureMarks.length > 1 || this.byFamily.get(t.family)?.followsClock?.(t, row, now, linger);
      if (near) this.dirty.add(t.key);
    }
    if (this.dirty.size) this.flush();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.off();
  }
}

/** Tunnels rebuilt in one pass of flush(); the rest wait for the next turn of the event loop. */
const PUBLISH_BUDGET = 1000;

function stripSaDir(b: TunnelBase): Omit<TunnelBase, 'saDir'> {
  const { saDir: _drop, ...rest } = b;
  return rest;
}

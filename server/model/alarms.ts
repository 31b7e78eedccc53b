// Alarm bookkeeping: each owner (a tunnel, a peer, a source) says which alarms it wants raised now; the
// book raises the new ones (kind 'alarm', with the time they started), keeps `since` for those still
// raised, and removes the ones that cleared — each change once, with an event line for the log.
import type { Model } from './model.ts';
import type { Alarm, AlarmType } from '../wire/tunnels.ts';

export type AlarmWanted = Omit<Alarm, 'key' | 'since' | 'ref'>;

export interface AlarmListener {
  raised?(a: Alarm): void;
  cleared?(a: Alarm, at: number): void;
}

export class AlarmBook {
  /** ref → (type → alarm). */
  private readonly byRef = new Map<string, Map<AlarmType, Alarm>>();

  constructor(private readonly model: Model, private readonly now: () => number, private readonly listener: AlarmListener = {}) {}

  /** Set the alarms of one ref to exactly `wanted`. */
  set(ref: string, wanted: AlarmWanted[]): void {
    const had = this.byRef.get(ref);
    if (!had && wanted.length === 0) return;
    const next = new Map<AlarmType, Alarm>();
    for (const w of wanted) {
      const old = had?.get(w.type);
      const a: Alarm = { ...w, key: `${w.type}:${ref}`, ref, since: old?.since ?? this.now() };
      next.set(w.type, a);
      this.model.upsert('alarm', a.key, a); // a no-op when unchanged
      if (!old) {
        this.model.event({ source: 'sascope', type: 'alarm', summary: `${a.severity} ${a.type}: ${a.summary}`, ref });
        this.listener.raised?.(a);
      }
    }
    for (const [type, old] of had ?? []) {
      if (next.has(type)) continue;
      this.model.remove('alarm', old.key);
      const at = this.now();
      this.model.event({ source: 'sascope', type: 'alarm cleared', summary: `${old.type}: ${old.summary}`, ref });
      this.listener.cleared?.(old, at);
    }
    if (next.size) this.byRef.set(ref, next);
    else this.byRef.delete(ref);
  }

  types(ref: string): AlarmType[] {
    return [...(this.byRef.get(ref)?.keys() ?? [])];
  }

  all(): Alarm[] {
    return [...this.byRef.values()].flatMap((m) => [...m.values()]);
  }

  /** Raised alarms by type and severity (for /metrics). */
  counts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const m of this.byRef.values()) for (const a of m.values()) out.set(`${a.type}\0${a.severity}`, (out.get(`${a.type}\0${a.severity}`) ?? 0) + 1);
    return out;
  }
}

// The browser's copy of the model: one Map per entity kind, kept current by the snapshot and the
// sequenced deltas. Pure logic (no React), so it is tested without a browser.
import type { Delta, EntityKind, EntityKinds, ServerMessage, Snapshot, SnapshotPart } from '@/server/wire/protocol';

/**
 * Called for every entity value that arrives (snapshot rows and upserts; undefined for a removal), e.g. to
 * sample counters. `before` is the value it replaces and `since` when that one arrived (for a delta: the
 * last snapshot's time unless the observer saw a later value itself); `fromSnapshot` marks snapshot rows.
 */
export type Observer = (kind: EntityKind, key: string, value: unknown | undefined, change?: { before?: unknown; since: number; fromSnapshot: boolean }) => void;

export const MAX_EVENTS = 2000;

export type Tables = { [K in EntityKind]: Map<string, EntityKinds[K]> };

export type ApplyResult = { changed: Set<EntityKind>; gap: boolean };

export class LiveStore {
  tables = {} as Tables;
  seq = -1;
  server: Snapshot['server'] | undefined;
  /** When the last snapshot was applied (ms since epoch). */
  snapshotAt = 0;
  /** A snapshot in parts: how many are still to come, and each kind's rows in the whole snapshot. */
  partsLeft = 0;
  totals: Snapshot['totals'];

  constructor(private readonly observe?: Observer) {}

  private table<K extends EntityKind>(kind: K): Map<string, EntityKinds[K]> {
    let t = this.tables[kind];
    if (!t) this.tables[kind] = t = new Map() as Tables[K];
    return t;
  }

  get<K extends EntityKind>(kind: K): Map<string, EntityKinds[K]> {
    return this.table(kind);
  }

  applySnapshot(s: Snapshot): ApplyResult {
    const changed = new Set<EntityKind>(Object.keys(this.tables) as EntityKind[]);
    this.tables = {} as Tables;
    this.snapshotAt = Date.now();
    this.addRows(s.entities, changed);
    this.trimEvents();
    this.seq = s.seq;
    this.server = s.server;
    this.partsLeft = s.parts ?? 0;
    this.totals = s.totals;
    return { changed, gap: false };
  }

  /** More rows of the snapshot in parts (a part of another snapshot than the current one is ignored). */
  applySnapshotPart(p: SnapshotPart): ApplyResult {
    const changed = new Set<EntityKind>();
    if (p.seq !== this.seq || this.partsLeft <= 0) return { changed, gap: false };
    this.addRows(p.entities, changed);
    this.partsLeft--;
    if (changed.has('event')) this.trimEvents();
    return { changed, gap: false };
  }

  /** A snapshot's (or a part's) rows into the tables; each kind is noted in changed. */
  private addRows(entities: Partial<Snapshot['entities']>, changed: Set<EntityKind>): void {
    const change = { since: this.snapshotAt, fromSnapshot: true };
    for (const [kind, rows] of Object.entries(entities) as Array<[EntityKind, Array<EntityKinds[EntityKind]>]>) {
      const t = this.table(kind) as Map<string, unknown>;
      for (const v of rows) {
        const k = keyOf(kind, v);
        t.set(k, v);
        this.observe?.(kind, k, v, change);
      }
      changed.add(kind);
    }
  }

  /** Apply deltas in order; a hole in the sequence stops and reports a gap (the caller resumes). */
  applyDeltas(deltas: Delta[]): ApplyResult {
    const changed = new Set<EntityKind>();
    for (const d of deltas) {
      if (this.seq < 0) return { changed, gap: false }; // nothing to apply deltas to before a snapshot
      if (d.seq <= this.seq) continue; // already seen (a resume can overlap)
      if (this.seq >= 0 && d.seq !== this.seq + 1) return { changed, gap: true };
      this.seq = d.seq;
      const t = this.table(d.kind) as Map<string, unknown>;
      if (d.op === 'upsert') {
        const before = this.observe ? t.get(d.key) : undefined;
        t.set(d.key, d.value);
        this.observe?.(d.kind, d.key, d.value, { before, since: this.snapshotAt, fromSnapshot: false });
      } else if (d.op === 'remove') {
        t.delete(d.key);
        this.observe?.(d.kind, d.key, undefined);
      } else t.clear();
      changed.add(d.kind);
    }
    if (changed.has('event')) this.trimEvents();
    return { changed, gap: false };
  }

  private trimEvents(): void {
    const ev = this.table('event');
    if (ev.size <= MAX_EVENTS) return;
    const drop = ev.size - MAX_EVENTS;
    let i = 0;
    for (const k of ev.keys()) {
      if (i++ >= drop) break;
      ev.delete(k);
    }
  }

  apply(m: ServerMessage): ApplyResult | undefined {
    if (m.type === 'snapshot') return this.applySnapshot(m);
    if (m.type === 'snapshot-part') return this.applySnapshotPart(m);
    if (m.type === 'deltas') return this.applyDeltas(m.deltas);
    return undefined;
  }
}

function keyOf(_kind: EntityKind, v: unknown): string {
  // The server puts every entity's key on it (server/model/model.ts).
  return String((v as { key?: string }).key);
}

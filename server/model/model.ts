// The one in-memory model: every entity kind as a keyed table in wire form (bigint → string), kept
// once. A change that changes nothing emits nothing; every real change is one delta for the hub.
import type { ModelSink } from '../families/source.ts';
import type { KernelEvent, SourceStatus } from '../wire/entities.ts';
import { ENTITY_KINDS, type EntityKind } from '../wire/protocol.ts';

export type ModelChange =
  | { kind: EntityKind; op: 'upsert'; key: string; value: unknown }
  | { kind: EntityKind; op: 'remove'; key: string };

/** Deep copy with bigint as decimal strings, Buffers as hex, undefined dropped: the wire form. */
export function toWire(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v === null || typeof v !== 'object') return v;
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (Array.isArray(v)) return v.map(toWire);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toWire(x);
  return out;
}

interface Row {
  value: unknown;
  json: string;
}

export interface ModelOptions {
  /** Events kept in memory (the newest). */
  maxEvents?: number;
}

export class Model implements ModelSink {
  private readonly tables = new Map<EntityKind, Map<string, Row>>();
  private readonly listeners = new Set<(c: ModelChange) => void>();
  private nextEventId = 1;
  readonly maxEvents: number;

  constructor(opts: ModelOptions = {}) {
    this.maxEvents = opts.maxEvents ?? 2000;
    for (const k of ENTITY_KINDS) this.tables.set(k, new Map());
  }

  onChange(fn: (c: ModelChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(c: ModelChange): void {
    for (const fn of this.listeners) fn(c);
  }

  private table(kind: EntityKind): Map<string, Row> {
    let t = this.tables.get(kind);
    if (!t) this.tables.set(kind, (t = new Map()));
    return t;
  }

  upsert(kind: EntityKind, key: string, value: object): void {
    // Every entity on the wire carries its key, so a snapshot row and a later delta name it alike.
    const wire = toWire(value) as Record<string, unknown>;
    wire['key'] = key;
    const json = JSON.stringify(wire);
    const t = this.table(kind);
    if (t.get(key)?.json === json) return;
    t.set(key, { value: wire, json });
    this.emit({ kind, op: 'upsert', key, value: wire });
  }

  remove(kind: EntityKind, key: string): void {
    if (this.table(kind).delete(key)) this.emit({ kind, op: 'remove', key });
  }

  /** After a dump: what is gone is removed, what changed is upserted, the rest stays silent. */
  replaceAll(kind: EntityKind, items: Array<{ key: string; value: object }>, keep?: (key: string) => boolean): void {
    const t = this.table(kind);
    const seen = new Set<string>();
    for (const { key, value } of items) {
      seen.add(key);
      if (!keep?.(key)) this.upsert(kind, key, value);
    }
    for (const key of [...t.keys()]) if (!seen.has(key) && !keep?.(key)) this.remove(kind, key);
  }

  event(e: { source: string; type: string; summary: string; ref?: string }): void {
    const ev: KernelEvent = { id: this.nextEventId++, time: Date.now(), ...e };
    const t = this.table('event');
    this.upsert('event', String(ev.id), ev);
    // Oldest out without deltas: clients keep the same bound.
    if (t.size > this.maxEvents) {
      const oldest = t.keys().next().value;
      if (oldest !== undefined) t.delete(oldest);
    }
  }

  status(s: SourceStatus): void {
    this.upsert('source', s.id, s);
  }

  get(kind: EntityKind, key: string): unknown {
    return this.table(kind).get(key)?.value;
  }

  list(kind: EntityKind): unknown[] {
    return [...this.table(kind).values()].map((r) => r.value);
  }

  count(kind: EntityKind): number {
    return this.table(kind).size;
  }

  entities(): Record<EntityKind, unknown[]> {
    const out = {} as Record<EntityKind, unknown[]>;
    for (const k of ENTITY_KINDS) out[k] = this.list(k);
    return out;
  }
}

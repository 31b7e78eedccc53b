// The one in-memory model: every entity kind as a keyed table in wire form (bigint → string), kept
// once. A change that changes nothing emits nothing; every real change is one delta for the hub.
import type { ModelSink, NewEvent } from '../families/source.ts';
import type { KernelEvent, SourceStatus } from '../wire/entities.ts';
import type { EntityKind } from '../wire/protocol.ts';
import { ENTITY_KINDS, entityRef } from '../wire/kinds.ts';

export type ModelChange =
  | { kind: EntityKind; op: 'upsert'; key: string; value: unknown }
  | { kind: EntityKind; op: 'remove'; key: string };

/**
 * Decimal strings of 64-bit counters and limits repeat across rows ("0", 2^64-1 for "no limit"): one
 * shared copy each (bounded), which with the shared empty array saves ~25 % of an SA row's heap.
 */
const numberStrings = new Map<bigint, string>();
const EMPTY: readonly unknown[] = Object.freeze([]);
function bigintString(v: bigint): string {
  const hit = numberStrings.get(v);
  if (hit !== undefined) return hit;
  const s = v.toString();
  if (numberStrings.size < 4096 && (v < 1_000_000n || v === 0xffffffffffffffffn)) numberStrings.set(v, s);
  return s;
}

/**
 * Short strings that repeat across rows (addresses, algorithm names, "0.0.0.0/0") are shared: one copy
 * each. The table is bounded; when full it starts over (rows keep what they share; common strings
 * come back at once), so unique values (keys, fingerprints) cannot crowd the common ones out for good.
 */
const shortStrings = new Map<string, string>();
function sharedString(s: string): string {
  if (s.length > 40) return flat(s);
  const hit = shortStrings.get(s);
  if (hit !== undefined) return hit;
  if (shortStrings.size >= 16_384) shortStrings.clear();
  shortStrings.set(s, flat(s));
  return s;
}

/**
 * A string built by concatenation (a template literal: keys, names) is a tree of pieces in V8, ~160 B
 * for an SA key. Reading a character flattens it in place, and the garbage collector then drops the
 * tree: ~60 B. Rows keep their strings for as long as the entity lives, so they are flattened on entry.
 */
function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}

/** Deep copy with bigint as decimal strings, Buffers as hex, undefined dropped: the wire form (never mutated). */
export function toWire(v: unknown): unknown {
  if (typeof v === 'bigint') return bigintString(v);
  if (typeof v === 'string') return sharing ? sharedString(v) : v;
  if (v === null || typeof v !== 'object') return v;
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (Object.isFrozen(v)) return v; // shared already (below): wire form, never mutated
  if (Array.isArray(v)) return v.length === 0 ? EMPTY : sharedArray(v.map(toWire));
  return wireObject(v as Record<string, unknown>);
}

/**
 * Small parts whose fields are primitives or shared parts and repeat across rows (a zero selector, lifetime
 * limits, algorithm references, counters at zero, flag lists, a policy's lifetime) are kept once: one frozen
 * copy per distinct value, found by walking its fields' values down a trie of Maps (no key string is built:
 * the strings are the shared ones above, whose hashes V8 keeps). ~100 B saved each, a few per row: a third
 * of an SA row. A shape is tried for a while and left alone when its values seldom repeat (counters, a
 * peer's address), and at once when it holds a part of its own (an SA's lifetime), so it costs no time
 * there. Pools are bounded: full, one starts over (rows keep what they share).
 */
interface Pool {
  root: Map<unknown, unknown> | undefined;
  size: number;
  tries: number;
  hits: number;
}
const POOL_TRIAL = 1024;
const POOL_MAX = 4096;
const newPool = (): Pool => ({ root: new Map(), size: 0, tries: 0, hits: 0 });

/** The key an empty part sits under (its value has no field to walk by). */
const NO_FIELDS = Symbol('no fields');

/**
 * o's shared copy (o itself, frozen, when it is the first of its value), found by the values of `fields`
 * (or of the array o). Every value of a pool has as many fields: inner nodes map a field's value to the
 * next field's node, the last field's value to the part.
 */
function pooled<T extends object>(pool: Pool, o: T, fields: readonly string[] | undefined): T {
  if (!pool.root) return o;
  if (pool.size >= POOL_MAX) (pool.root = new Map()), (pool.size = 0);
  const n = fields ? fields.length : (o as unknown[]).length;
  let node = pool.root;
  let at: unknown = NO_FIELDS;
  for (let i = 0; i < n; i++) {
    const x = fields ? (o as Record<string, unknown>)[fields[i]!] : (o as unknown[])[i];
    const t = typeof x;
    // A part inside counts by identity when it is a shared (frozen) one: a policy's lifetime of shared limits
    // and a shared current is one of few. A part of its own (an SA's unique current) makes the shape's
    // values never repeat: the pool is left alone at once.
    if (t !== 'string' && t !== 'number' && t !== 'boolean' && !(t === 'object' && x !== null && Object.isFrozen(x))) {
      if (fields) pool.root = undefined;
      return o;
    }
    if (i > 0) {
      let next = node.get(at) as Map<unknown, unknown> | undefined;
      if (!next) node.set(at, (next = new Map())), pool.size++;
      node = next;
    }
    at = x;
  }
  const hit = node.get(at) as T | undefined;
  if (hit !== undefined) pool.hits++;
  else node.set(at, Object.freeze(o)), pool.size++;
  if (++pool.tries === POOL_TRIAL && pool.hits * 4 < pool.tries) pool.root = undefined;
  return hit ?? o;
}

/** A part a listener keeps beside the model's rows (a tunnel's selector): the model's shared copy, so both hold one. T is wire form already. */
export function sharedPart<T extends object>(v: T): T {
  return toWire(v) as T;
}

/**
 * Arrays by length: [] and ['x'] are different values; 1 and "1" are (Map keys are typed). Arrays of parts
 * (a check's differences, a policy's templates) have pools of their own: their trials do not end the
 * sharing of flag lists.
 */
const arrayPools: Pool[][] = [];
const partArrayPools: Pool[][] = [];
function sharedArray(a: unknown[]): unknown[] {
  if (a.length > 8 || !sharing) return a;
  const pools = ((typeof a[0] === 'object' ? partArrayPools : arrayPools)[poolsOf] ??= []);
  return pooled((pools[a.length] ??= newPool()), a, undefined);
}

/**
 * Which kind's pools the parts being made go to (0: none named). Each entity kind has pools of its own: an
 * SA's unique current and a policy's few are one shape, and the SA dump first would end the trial both
 * share (a policy's lifetime then never shared).
 */
let poolsOf = 0;
/** Whether the rows being made share their strings and parts (Model's `share`). */
let sharing = true;
const KIND_POOLS = new Map<EntityKind, number>(ENTITY_KINDS.map((k, i) => [k, i + 1]));

type WireBuilder = (v: Record<string, unknown>, key: string | undefined, tw: (x: unknown) => unknown) => Record<string, unknown>;
/** A shape (the names of an object's defined fields, in order) as a path in a trie, with its builder once compiled. */
interface Shape {
  name: string;
  parent: Shape | undefined;
  next: Map<string, Shape>;
  build?: WireBuilder;
  /** Its objects shared (plain shapes: parts of rows, not rows), found by the values of its fields; per kind (poolsOf). */
  pools: Pool[];
  fields?: string[];
}
let shapeCount = 0;
function newShape(name: string, parent?: Shape): Shape {
  shapeCount++;
  return { name, parent, next: new Map(), pools: [] };
}
const shapes = { plain: newShape(''), keyed: newShape('key') };

/**
 * An object's wire copy, made by a builder compiled once per shape: one object literal, so rows of a
 * shape share one hidden class with every field in the object, and nothing is added one store at a time
 * (V8 turns an object that gains more than about a dozen properties by keyed stores into a hash table:
 * ~1.6 KB for a tunnel row's 20 fields). `key`, when given, is the row's key field. Shapes are bounded
 * (fields named by the kernel's text, say); past that, objects are copied the slow way.
 */
function wireObject(v: Record<string, unknown>, key?: string): Record<string, unknown> {
  let shape = key === undefined ? shapes.plain : shapes.keyed;
  for (const k in v) {
    if (v[k] === undefined || (k === 'key' && key !== undefined)) continue;
    let n = shape.next.get(k);
    if (!n) {
      if (shapeCount >= 4096) return slowWireObject(v, key);
      shape.next.set(k, (n = newShape(k, shape)));
    }
    shape = n;
  }
  const o = (shape.build ??= compile(shape, key !== undefined))(v, key, toWire);
  if (key !== undefined || !sharing) return o;
  const pool = (shape.pools[poolsOf] ??= newPool());
  return pool.root ? pooled(pool, o, (shape.fields ??= fieldsOf(shape))) : o;
}

function fieldsOf(shape: Shape): string[] {
  const fields: string[] = [];
  for (let s: Shape | undefined = shape; s?.parent; s = s.parent) fields.push(s.name);
  return fields.reverse();
}

function compile(shape: Shape, keyed: boolean): WireBuilder {
  const fields: string[] = [];
  for (let s: Shape | undefined = shape; s?.parent; s = s.parent) fields.push(`${JSON.stringify(s.name)}: tw(v[${JSON.stringify(s.name)}])`);
  if (keyed) fields.push('key: key');
  return new Function('v', 'key', 'tw', `return { ${fields.reverse().join(', ')} };`) as WireBuilder;
}

function slowWireObject(v: Record<string, unknown>, key?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toWire(x);
  if (key !== undefined) out['key'] = key;
  return out;
}

/** Whether toWire(v) (with `key` as its key field) would equal the wire row w, without making it. */
function sameAsWire(v: Record<string, unknown>, w: Record<string, unknown>, key: string): boolean {
  if (w['key'] !== key) return false;
  let n = 1;
  for (const k in v) {
    if (k === 'key') continue;
    const x = v[k];
    if (x === undefined) continue;
    n++;
    if (!sameValueAsWire(x, w[k])) return false;
  }
  return n === Object.keys(w).length;
}

function sameValueAsWire(v: unknown, w: unknown): boolean {
  if (v === w) return true;
  if (typeof v === 'bigint') return typeof w === 'string' && bigintString(v) === w;
  if (v === null || typeof v !== 'object') return v === w;
  if (Buffer.isBuffer(v)) return typeof w === 'string' && v.toString('hex') === w;
  if (typeof w !== 'object' || w === null) return false;
  if (Array.isArray(v)) {
    if (!Array.isArray(w) || v.length !== w.length) return false;
    for (let i = 0; i < v.length; i++) if (!sameValueAsWire(v[i], w[i])) return false;
    return true;
  }
  if (Array.isArray(w)) return false;
  let n = 0;
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined) continue;
    n++;
    if (!sameValueAsWire(x, (w as Record<string, unknown>)[k])) return false;
  }
  return n === Object.keys(w).length;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

export interface ModelOptions {
  /** Events kept in memory (the newest). */
  maxEvents?: number;
  /**
   * Rows share repeated strings and parts (default): a third of a long-lived model's heap, for a lookup per
   * string and part. A one-shot read (`sascope snapshot`) keeps nothing and leaves it out: the same rows, made faster.
   */
  share?: boolean;
}

export class Model implements ModelSink {
  private readonly tables = new Map<EntityKind, Map<string, unknown>>();
  private readonly listeners = new Set<(c: ModelChange) => void>();
  private nextEventId = 1;
  readonly maxEvents: number;
  private readonly share: boolean;

  constructor(opts: ModelOptions = {}) {
    this.maxEvents = opts.maxEvents ?? 2000;
    this.share = opts.share ?? true;
    for (const k of ENTITY_KINDS) this.tables.set(k, new Map());
  }

  onChange(fn: (c: ModelChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(c: ModelChange): void {
    for (const fn of this.listeners) fn(c);
  }

  private table(kind: EntityKind): Map<string, unknown> {
    let t = this.tables.get(kind);
    if (!t) this.tables.set(kind, (t = new Map()));
    return t;
  }

  upsert(kind: EntityKind, key: string, value: object): void {
    // Every entity on the wire carries its key, so a snapshot row and a later delta name it alike.
    const t = this.table(kind);
    // Rows are kept as wire objects only (no JSON copy beside them: ~850 B of an SA's heap); a change is a
    // deep difference, looked for before any copy is made (a refresh dump finds most rows unchanged).
    const old = t.get(key);
    if (old !== undefined && sameAsWire(value as Record<string, unknown>, old as Record<string, unknown>, key)) return;
    poolsOf = KIND_POOLS.get(kind) ?? 0;
    sharing = this.share;
    const wire = wireObject(value as Record<string, unknown>, flat(key));
    poolsOf = 0;
    sharing = true;
    t.set(key, wire);
    this.emit({ kind, op: 'upsert', key, value: wire });
    // Events: the newest maxEvents (the fleet console's from every host together); the oldest go without
    // deltas, clients keep the same bound.
    if (kind === 'event' && t.size > this.maxEvents) t.delete(t.keys().next().value!);
  }

  patch(kind: EntityKind, key: string, fields: object, orElse?: object): boolean {
    const held = this.table(kind).get(key) as Record<string, unknown> | undefined;
    if (!held) {
      if (orElse) this.upsert(kind, key, orElse);
      return orElse !== undefined;
    }
    const next: Record<string, unknown> = { ...held };
    for (const [name, v] of Object.entries(fields)) {
      const h = held[name];
      next[name] = isPlainObject(v) && isPlainObject(h) ? { ...h, ...v } : v;
    }
    this.upsert(kind, key, next);
    return true;
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

  event(e: NewEvent): void {
    const ev: KernelEvent = { id: this.nextEventId++, time: Date.now(), ...e };
    if (e.subject && !e.ref) ev.ref = entityRef(e.subject.kind, e.subject.key);
    this.upsert('event', String(ev.id), ev);
  }

  status(s: SourceStatus): void {
    this.upsert('source', s.id, s);
  }

  get(kind: EntityKind, key: string): unknown {
    return this.table(kind).get(key);
  }

  list(kind: EntityKind): unknown[] {
    return [...this.table(kind).values()];
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

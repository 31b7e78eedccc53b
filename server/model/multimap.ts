// A multimap of keys (strings unless told) → string keys, for the model layer's indexes (tunnels by addresses, cross-check
// identities). Most entries have one value, many two (an SA in and out, a policy in and fwd): a lone value
// is kept as itself, a few in a small array, a Set only past that (an empty Set is ~150 B; at 100k SAs that
// was most of an index's heap). Arrays are replaced, never changed, so a reader iterating one is safe.
export class MultiMap<K = string> {
  private readonly m = new Map<K, string | string[] | Set<string>>();

  add(k: K, v: string): void {
    const s = this.m.get(k);
    if (s === undefined) this.m.set(k, v);
    else if (typeof s === 'string') {
      if (s !== v) this.m.set(k, [s, v]);
    } else if (Array.isArray(s)) {
      if (!s.includes(v)) this.m.set(k, s.length < SMALL ? [...s, v] : new Set([...s, v]));
    } else s.add(v);
  }

  delete(k: K, v: string): void {
    const s = this.m.get(k);
    if (s === v) this.m.delete(k);
    else if (Array.isArray(s)) {
      if (!s.includes(v)) return;
      const rest = s.filter((x) => x !== v);
      this.m.set(k, rest.length === 1 ? rest[0]! : rest);
    } else if (typeof s === 'object' && s.delete(v) && s.size === 1) this.m.set(k, s.values().next().value!);
  }

  /** The values of k (none: empty). */
  get(k: K): Iterable<string> {
    const s = this.m.get(k);
    return s === undefined ? NONE : typeof s === 'string' ? [s] : s;
  }

  /** One value of k, the first added still there (undefined: none). */
  first(k: K): string | undefined {
    const s = this.m.get(k);
    return s === undefined || typeof s === 'string' ? s : Array.isArray(s) ? s[0] : s.values().next().value;
  }

  /** Every value of every key. */
  *values(): Iterable<string> {
    for (const s of this.m.values()) {
      if (typeof s === 'string') yield s;
      else yield* s;
    }
  }

  clear(): void {
    this.m.clear();
  }

  /** Replace the values of k (none: k is dropped). */
  set(k: K, values: Iterable<string>): void {
    this.m.delete(k);
    for (const v of values) this.add(k, v);
  }
}

/** Values kept in an array up to this many; a Set past it (includes() on a longer array costs more than it saves). */
const SMALL = 8;
const NONE: readonly string[] = [];

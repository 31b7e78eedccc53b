// Client-side counter history: a short ring of (time, value) samples per entity for rates and
// sparklines. Bounded: SAMPLES per key, and only keys whose counters actually change take memory.
export const SAMPLES = 30;

export class RateTracker {
  private readonly rings = new Map<string, { t: number[]; v: number[] }>();
  /** A key's first sample, kept as two numbers (no per-key objects: a 100k-SA snapshot stays cheap). */
  private readonly firstV = new Map<string, number>();
  private readonly firstT = new Map<string, number>();

  constructor(private readonly maxKeys = 200_000) {}

  /**
   * A sample. `before` is the value the caller held until now and since when, for a key this tracker has
   * not seen: a snapshot's rows need not be recorded one by one (100k SAs), the first change brings both.
   */
  record(key: string, value: number, t = Date.now(), before?: { v: number; t: number }): void {
    let r = this.rings.get(key);
    if (!r) {
      const v0 = this.firstV.get(key) ?? before?.v;
      if (v0 === undefined) {
        if (this.firstV.size < this.maxKeys) this.firstV.set(key, value), this.firstT.set(key, t);
        return;
      }
      if (v0 === value) return; // unchanged since it was first seen: still no ring
      if (this.rings.size >= this.maxKeys) return;
      this.rings.set(key, (r = { t: [this.firstT.get(key) ?? before!.t], v: [v0] }));
      this.firstV.delete(key);
      this.firstT.delete(key);
    }
    const last = r.v.length - 1;
    if (last >= 0 && r.v[last] === value && t - r.t[last]! < 60_000) return;
    r.t.push(t);
    r.v.push(value);
    if (r.t.length > SAMPLES) {
      r.t.shift();
      r.v.shift();
    }
  }

  /** Whether key has samples here (a ring or its first sample). */
  has(key: string): boolean {
    return this.rings.has(key) || this.firstV.has(key);
  }

  forget(key: string): void {
    this.rings.delete(key);
    this.firstV.delete(key);
    this.firstT.delete(key);
  }

  /** Per second over the last two samples (0 with fewer). */
  rate(key: string): number {
    const r = this.rings.get(key);
    if (!r || r.v.length < 2) return 0;
    const n = r.v.length;
    const dt = (r.t[n - 1]! - r.t[n - 2]!) / 1000;
    return dt > 0 ? Math.max(0, (r.v[n - 1]! - r.v[n - 2]!) / dt) : 0;
  }

  /** Rates between consecutive samples, for a sparkline. */
  series(key: string): number[] {
    const r = this.rings.get(key);
    if (!r) return [];
    const out: number[] = [];
    for (let i = 1; i < r.v.length; i++) {
      const dt = (r.t[i]! - r.t[i - 1]!) / 1000;
      out.push(dt > 0 ? Math.max(0, (r.v[i]! - r.v[i - 1]!) / dt) : 0);
    }
    return out;
  }
}

/** One tracker per counter, shared by the whole app (LiveConnection feeds it). */
export const rates = {
  saBytes: new RateTracker(),
  saPackets: new RateTracker(),
  linkRx: new RateTracker(),
  linkTx: new RateTracker(),
  peerRx: new RateTracker(),
  peerTx: new RateTracker(),
  wgRx: new RateTracker(),
  wgTx: new RateTracker(),
};

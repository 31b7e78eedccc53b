// The latest change per entity, for a consumer that is behind: the WebSocket hub's backed-up clients and
// the fleet agent while NATS is away or slow get one change per entity instead of every change.
import type { EntityKind } from './protocol.ts';

type Change = { kind: EntityKind; op: string; key?: string };

/** Changes from seq `from` on, the latest per entity, in the order of their latest change (= seq order). */
export class LatestPerEntity<C extends Change> {
  private readonly latest = new Map<string, C>();

  constructor(readonly from: number) {}

  add(c: C): void {
    // a reset replaces what is pending of its kind
    if (c.op === 'reset') for (const k of [...this.latest.keys()]) if (k.startsWith(`${c.kind}\0`)) this.latest.delete(k);
    const k = c.op === 'reset' ? `${c.kind}\0\0reset` : `${c.kind}\0${c.key}`;
    this.latest.delete(k); // re-insert: arrival order = seq order
    this.latest.set(k, c);
  }

  get size(): number {
    return this.latest.size;
  }

  list(): C[] {
    return [...this.latest.values()];
  }
}

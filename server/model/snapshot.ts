// The snapshot as people and scripts read it (`sascope snapshot --json`, GET /api/v1/snapshot): every entity
// kind under a plural name. Rows are the model's own wire rows, not copies: a writer streams them one by one.
import type { EntityKind, EntityKinds } from '../wire/protocol.ts';

/**
 * An SA as the snapshot JSON shows it: like the wire form, except lifetime.current.bytes and .packets are
 * JSON numbers (scripts compare them with iproute2's). They are exact up to 2^53 (8 PiB, 9e15 packets); past
 * that the number is the nearest double. Every other 64-bit value stays a decimal string, as on the wire.
 */
export function friendlySa(sa: EntityKinds['sa']): unknown {
  const cur = sa.lifetime.current;
  return { ...sa, lifetime: { ...sa.lifetime, current: { ...cur, bytes: Number(cur.bytes), packets: Number(cur.packets) } } };
}

/** Rows shown through a mapping, made one at a time as a streaming writer reaches them (JSON.stringify makes them all). */
export class MappedRows<T> {
  constructor(readonly rows: readonly T[], readonly map: (row: T) => unknown) {}
  toJSON(): unknown[] {
    return this.rows.map(this.map);
  }
}

export interface SnapshotHead {
  time: number;
  /** The hub's sequence number (the API's snapshot; a one-shot document has no delta stream to resume). */
  seq?: number;
  server: { version: string; hostname: string; netns: string; fleet?: { hosts: number } };
}

/** A kind's rows: Model.list, or a hub snapshot's entities. */
export type RowsOf = (kind: EntityKind) => readonly unknown[];

/** The crypto panel's data: header facts, algorithms in use with their drivers, the probe, /proc/crypto. */
export function cryptoDocument(list: RowsOf): Record<string, unknown> {
  return { info: list('crypto-info')[0] ?? null, uses: list('crypto-use'), probe: list('crypto-probe')[0] ?? null, algorithms: list('crypto-alg') };
}

export function snapshotDocument(list: RowsOf, head: SnapshotHead): Record<string, unknown> {
  const rows = <K extends EntityKind>(kind: K) => list(kind) as Array<EntityKinds[K]>;
  const one = (kind: EntityKind) => list(kind)[0] ?? null;
  return {
    time: new Date(head.time).toISOString(),
    ...(head.seq !== undefined ? { seq: head.seq } : {}),
    server: head.server,
    sources: rows('source'),
    links: rows('link'),
    policies: rows('policy'),
    sas: new MappedRows(rows('sa'), friendlySa),
    xfrmTotals: one('xfrm-totals'),
    ovpnDevices: rows('ovpn-dev'),
    ovpnPeers: rows('ovpn-peer'),
    pspDevices: rows('psp-dev'),
    pfkey: { sas: rows('pfkey-sa'), policies: rows('pfkey-policy'), algorithms: rows('pfkey-alg'), register: one('pfkey-register'), checks: rows('pfkey-check') },
    ethtoolDevices: rows('ethtool-dev'),
    offloadDevices: rows('offload-dev'),
    offload: one('offload-info'),
    crypto: cryptoDocument(list),
    tunnels: rows('tunnel'),
    rotations: rows('rotation'),
    alarms: rows('alarm'),
    events: rows('event'),
    hosts: rows('host'),
  };
}

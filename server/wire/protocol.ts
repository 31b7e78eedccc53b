// The WebSocket protocol between the hub and a browser. Written down in docs/websocket.md.
import { z } from 'zod';
import type { KernelEvent, Link, OnWire, SourceStatus, XfrmPolicy } from './entities.ts';
import type { SecurityAssociation, XfrmTotals } from './xfrm.ts';
import type { OvpnDevice, OvpnPeer } from './ovpn.ts';
import type { PspDevice } from './psp.ts';
import type { WireguardDevice, WireguardPeer } from './wireguard.ts';
import type { Alarm, Rotation, Tunnel } from './tunnels.ts';
import type { PfkeyAlgorithm, PfkeyCheck, PfkeyPolicy, PfkeyRegister, PfkeySa } from './pfkey.ts';
import type { EthtoolDevice, OffloadDevice, OffloadInfo } from './ethtool.ts';
import type { CryptoAlgorithm, CryptoInfo, CryptoProbe, CryptoUse } from './crypto.ts';
import type { FleetHost, OnHost } from './fleet.ts';
import type { ViciAction, ViciCertificate, ViciChildSa, ViciConnection, ViciIkeSa } from './vici.ts';

/** Every kind of entity a host's model holds, with its wire type. */
interface HostKinds {
  source: OnWire<SourceStatus>;
  link: OnWire<Link>;
  policy: OnWire<XfrmPolicy>;
  sa: OnWire<SecurityAssociation>;
  'xfrm-totals': OnWire<XfrmTotals>;
  'ovpn-dev': OnWire<OvpnDevice>;
  'ovpn-peer': OnWire<OvpnPeer>;
  'psp-dev': OnWire<PspDevice>;
  'pfkey-sa': OnWire<PfkeySa>;
  'pfkey-policy': OnWire<PfkeyPolicy>;
  'pfkey-alg': OnWire<PfkeyAlgorithm>;
  'pfkey-register': OnWire<PfkeyRegister>;
  'pfkey-check': OnWire<PfkeyCheck>;
  'ethtool-dev': OnWire<EthtoolDevice>;
  'offload-dev': OnWire<OffloadDevice>;
  'offload-info': OnWire<OffloadInfo>;
  'crypto-alg': OnWire<CryptoAlgorithm>;
  'crypto-info': OnWire<CryptoInfo>;
  'crypto-use': OnWire<CryptoUse>;
  'crypto-probe': OnWire<CryptoProbe>;
  tunnel: OnWire<Tunnel>;
  rotation: OnWire<Rotation>;
  alarm: OnWire<Alarm>;
  event: OnWire<KernelEvent>;
  /** The fleet console's agents (server/wire/fleet.ts); none in a single-host serve. */
  host: FleetHost;
  'vici-conn': OnWire<ViciConnection>;
  'vici-ike': OnWire<ViciIkeSa>;
  'vici-child': OnWire<ViciChildSa>;
  /** Operator actions on charon (initiate, terminate, rekey): the audit list. */
  'vici-action': ViciAction;
  /** charon's X.509 certificates (list-certs): subject, issuer, validity. */
  'vici-cert': ViciCertificate;
  'wg-dev': OnWire<WireguardDevice>;
  'wg-peer': OnWire<WireguardPeer>;
}
/** Every kind of entity the model holds, with its wire type; in the fleet console each row names its host. */
export type EntityKinds = { [K in keyof HostKinds]: HostKinds[K] & OnHost };
export type EntityKind = keyof EntityKinds;
export { ENTITY_KINDS, entityKey, entityRef } from './kinds.ts';
import { ENTITY_KINDS } from './kinds.ts';
/** A kind added to EntityKinds but not to ENTITY_KINDS fails the type check here (the model would have no table for it). */
const everyKindListed: Exclude<EntityKind, (typeof ENTITY_KINDS)[number]> extends never ? true : never = true;
void everyKindListed;

export type Delta =
  | { [K in EntityKind]: { seq: number; kind: K; op: 'upsert'; key: string; value: EntityKinds[K] } }[EntityKind]
  | { seq: number; kind: EntityKind; op: 'remove'; key: string }
  | { seq: number; kind: EntityKind; op: 'reset' };

export type Snapshot = {
  type: 'snapshot';
  /** The sequence number this snapshot is current at; deltas follow from seq+1. */
  seq: number;
  time: number;
  /** `fleet`: a console (`serve --fleet`) and how many hosts it knows. */
  server: { version: string; hostname: string; netns: string; fleet?: { hosts: number } };
  /** Every entity carries its `key` (the same key deltas use). */
  entities: { [K in EntityKind]: Array<EntityKinds[K] & { key: string }> };
  /** Present after `subscribe` (or ?topics=): only these kinds are in `entities`. */
  topics?: EntityKind[];
  /**
   * With `?parts=1` on the URL, a big snapshot comes in pieces: this message has every kind's first rows,
   * and `parts` more `snapshot-part` messages follow (before any delta), each adding rows. The whole
   * snapshot is current at `seq` once the last part is in; the first rows can be shown at once.
   */
  parts?: number;
  /** With `parts`: how many rows each kind has in the whole snapshot. */
  totals?: Partial<Record<EntityKind, number>>;
};

/** One more piece of a snapshot sent in parts: rows to add (`part` counts from 1 to the snapshot's `parts`). */
export type SnapshotPart = {
  type: 'snapshot-part';
  seq: number;
  part: number;
  entities: Partial<Snapshot['entities']>;
};

/** A snapshot as one message, or (rowsPerPart) split into a head with every kind's first rows and parts. */
export function splitSnapshot(s: Snapshot, rowsPerPart: number): Array<Snapshot | SnapshotPart> {
  const kinds = Object.keys(s.entities) as EntityKind[];
  if (!kinds.some((k) => s.entities[k].length > rowsPerPart)) return [s];
  const head: Snapshot = { ...s, entities: {} as Snapshot['entities'], totals: {} };
  const parts: SnapshotPart[] = [];
  let part: SnapshotPart | undefined;
  let inPart = 0;
  for (const k of kinds) {
    const rows = s.entities[k] as unknown[];
    head.totals![k] = rows.length;
    (head.entities as Record<string, unknown[]>)[k] = rows.slice(0, rowsPerPart);
    for (let i = rowsPerPart; i < rows.length; ) {
      if (!part || inPart >= rowsPerPart) {
        parts.push((part = { type: 'snapshot-part', seq: s.seq, part: parts.length + 1, entities: {} }));
        inPart = 0;
      }
      const take = rows.slice(i, i + rowsPerPart - inPart);
      ((part.entities as Record<string, unknown[]>)[k] ??= []).push(...take);
      inPart += take.length;
      i += take.length;
    }
  }
  head.parts = parts.length;
  return [head, ...parts];
}

export type ServerMessage =
  | Snapshot
  | SnapshotPart
  | {
      type: 'deltas';
      time: number;
      deltas: Delta[];
      /** The hub sequence range this message brings the client through (a topic filter leaves holes in deltas' seq). */
      from?: number;
      through?: number;
      /** Deltas of a backed-up client merged to the latest per entity: seq has holes; apply and set seq = through. */
      coalesced?: true;
    }
  | { type: 'subscribed'; topics: Array<EntityKind | '*'>; seq: number }
  | { type: 'heartbeat'; time: number; seq: number }
  | { type: 'pong'; time: number; echo?: number }
  | { type: 'error'; code: string; message: string };

export const ClientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ping'), echo: z.number().optional() }).strict(),
  z.object({ type: z.literal('resume'), seq: z.number().int().nonnegative() }).strict(),
  /** Entity kinds to receive ('*' or [] for all). Answered by `subscribed` and a snapshot of those kinds. */
  z.object({ type: z.literal('subscribe'), topics: z.array(z.string().max(64)).max(64) }).strict(),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;


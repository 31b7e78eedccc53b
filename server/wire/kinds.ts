// Entity kinds as values (protocol.ts has their types and re-exports these): a file without the protocol's
// validator (zod), so the model and the sources load without it — the one-shot `sascope snapshot` never does.
import type { EntityKind } from './protocol.ts';

/** Every entity kind, in the order the model creates its tables. */
export const ENTITY_KINDS = ['source', 'link', 'policy', 'sa', 'xfrm-totals', 'ovpn-dev', 'ovpn-peer', 'psp-dev', 'pfkey-sa', 'pfkey-policy', 'pfkey-alg', 'pfkey-register', 'pfkey-check', 'ethtool-dev', 'offload-dev', 'offload-info', 'crypto-alg', 'crypto-info', 'crypto-use', 'crypto-probe', 'tunnel', 'rotation', 'alarm', 'event', 'host', 'vici-conn', 'vici-ike', 'vici-child', 'vici-action', 'vici-cert', 'wg-dev', 'wg-peer'] as const satisfies readonly EntityKind[];

/** An entity named in one string, as events and alarms carry it in `ref`: "sa:<key>". */
export function entityRef(kind: EntityKind, key: string): string {
  return `${kind}:${key}`;
}

/** Key of an entity within its kind: its `key` when it has one (every model row does; the console's carry their host). */
export function entityKey(kind: EntityKind, v: { key?: string; id?: string | number; index?: number; ifindex?: number }): string {
  if (v.key !== undefined) return v.key;
  if (kind === 'link') return String(v.index);
  if (kind === 'ovpn-dev' || kind === 'ethtool-dev' || kind === 'wg-dev') return String(v.ifindex);
  if (kind === 'source' || kind === 'event' || kind === 'psp-dev') return String(v.id);
  return String(v.key);
}

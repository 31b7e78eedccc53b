// What the VICI pages show, derived from the live rows (pure, no React): a connection's state from its IKE
// SAs, the remote-access users (IKE SAs that gave the peer a virtual IP), and each action's words for the
// confirmation — exactly what will happen, named by connection, SA number and peer.
import type { EntityKinds } from '@/server/wire/protocol';

export type Conn = EntityKinds['vici-conn'];
export type Ike = EntityKinds['vici-ike'];
export type Child = EntityKinds['vici-child'];
export type Action = EntityKinds['vici-action'];
export type Cert = EntityKinds['vici-cert'];

export type ConnState = 'up' | 'connecting' | 'down';


/** A configured connection is up with an ESTABLISHED IKE SA, connecting with any other, down with none. */
export function connState(name: string, ikes: readonly Ike[]): ConnState {
  const mine = ikes.filter((i) => i.name === name);
  return mine.some((i) => i.state === 'ESTABLISHED') ? 'up' : mine.length ? 'connecting' : 'down';
}

export const peerWords = (i: Ike): string => `${i.remoteHost ?? 'peer'}${i.remoteId && i.remoteId !== i.remoteHost ? ` (${i.remoteId})` : ''}`;

export interface RemoteUser {
  key: string;
  identity: string;
  vips: string[];
  conn: string;
  ike: Ike;
  since?: number;
  bytesIn: bigint;
  bytesOut: bigint;
}

/** IKE SAs whose peer got a virtual IP from us: remote-access users; identity is EAP/XAuth's when given, else the IKE identity. */
export function remoteUsers(ikes: readonly Ike[], children: readonly Child[]): RemoteUser[] {
  return ikes
    .filter((i) => (i.remoteVips?.length ?? 0) > 0)
    .map((i) => {
      const mine = children.filter((c) => c.ikeUniqueId === i.uniqueId);
      return {
        key: `${i.host ?? ''}/${i.uniqueId}`,
        identity: i.remoteEapId ?? i.remoteXauthId ?? i.remoteId ?? i.remoteHost ?? `IKE SA #${i.uniqueId}`,
        vips: i.remoteVips ?? [],
        conn: i.name,
        ike: i,
        since: i.establishedAt,
        bytesIn: mine.reduce((s, c) => s + BigInt(c.bytesIn ?? 0), 0n),
        bytesOut: mine.reduce((s, c) => s + BigInt(c.bytesOut ?? 0), 0n),
      };
    });
}

export type ActionRequest = { path: string; title: string; words: string };

const q = encodeURIComponent;

export function initiateRequest(c: Conn, child?: string): ActionRequest {
  const children = c.children.map((x) => x.name);
  return {
    path: `/api/v1/vici/initiate?conn=${q(c.name)}${child ? `&child=${q(child)}` : ''}`,
    title: `Initiate ${child ? `${c.name}/${child}` : c.name}`,
    words: `charon initiates connection "${c.name}" to ${c.remoteAddrs.join(', ') || 'its configured peer'}: an IKE SA, then ${child ? `CHILD SA "${child}"` : children.length ? `its CHILD SAs ${children.map((n) => `"${n}"`).join(', ')}` : 'no CHILD SA (none configured)'} in the kernel.`,
  };
}

export function ikeRequest(action: 'terminate' | 'rekey', i: Ike, children: readonly Child[]): ActionRequest {
  const mine = children.filter((c) => c.ikeUniqueId === i.uniqueId).map((c) => `"${c.name}" #${c.uniqueId}`);
  return {
    path: `/api/v1/vici/${action}?ike-id=${i.uniqueId}`,
    title: `${action === 'terminate' ? 'Terminate' : 'Rekey'} IKE SA #${i.uniqueId} of ${i.name}`,
    words:
      action === 'terminate'
        ? `charon deletes IKE SA #${i.uniqueId} of "${i.name}" with ${peerWords(i)}${mine.length ? ` and its CHILD SAs ${mine.join(', ')}` : ''}: traffic through them stops until the connection is initiated again.`
        : `charon negotiates new keys for IKE SA #${i.uniqueId} of "${i.name}" with ${peerWords(i)}; its CHILD SAs stay.`,
  };
}

export function childRequest(action: 'terminate' | 'rekey', c: Child): ActionRequest {
  return {
    path: `/api/v1/vici/${action}?child-id=${c.uniqueId}`,
    title: `${action === 'terminate' ? 'Terminate' : 'Rekey'} CHILD SA ${c.name} #${c.uniqueId}`,
    words:
      action === 'terminate'
        ? `charon deletes CHILD SA "${c.name}" #${c.uniqueId} of "${c.ikeName}" (SPIs ${c.spiIn ?? '?'} in, ${c.spiOut ?? '?'} out) and its kernel SAs: traffic through it stops; the IKE SA stays.`
        : `charon negotiates new SAs for CHILD SA "${c.name}" #${c.uniqueId} of "${c.ikeName}": the kernel gets new SPIs (a rotation) and the old ones go.`,
  };
}

export function targetText(a: Action): string {
  const t = a.target;
  return 'conn' in t ? `${t.conn}${t.child ? `/${t.child}` : ''}` : 'ikeId' in t ? `IKE SA #${t.ikeId}` : `CHILD SA #${t.childId}`;
}

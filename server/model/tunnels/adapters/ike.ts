// strongSwan's configured CHILD_SAs that have no SA, as tunnels of their own family 'ike' (key "ike:<conn>/<child>",
// state down, with why: never established, went down, or the last failure charon gave since it was last up; a
// responder-only template — remote %any, e.g. remote access — is idle, waiting for a peer, not down).
// A family of its own, not 'xfrm': the row is charon's configuration, not kernel state — no SA, no reqid, no
// counters to keep across restarts, and it must not be mistaken for an XFRM tunnel that lost its SAs (that one
// lingers with its own alarm). When charon has a CHILD SA of it installed, its XFRM SAs are a tunnel carrying
// its name (the IKE join, ../ike-join.ts) and this row goes: one child is never two rows.
// No alarm of its own: the connection's ike-down and ike-auth-failed (server/model/vici-alarms.ts) say it.
import type { OnWire } from '../../../wire/entities.ts';
import { ikeTunnelKey, ikeTunnelName, namesItsPeer, type IkeDownReason, type TunnelIke, type ViciChildSa, type ViciConnection } from '../../../wire/vici.ts';
import type { TunnelAdapterFactory } from '../adapter.ts';
import { newTunnel } from '../track.ts';

/** charon's CHILD_SA states in which it has SAs in the kernel (CREATED, ROUTED and the deleting ones have none that carry traffic). */
const WITH_SAS = new Set(['INSTALLED', 'UPDATING', 'REKEYING', 'REKEYED']);

interface ChildState {
  /** vici-child keys of its CHILD SAs with SAs now. */
  installed: Set<string>;
  /** When it last came up (ms), while sascope watched. */
  upSince?: number;
}

export const ikeAdapter: TunnelAdapterFactory = (host) => {
  const conns = new Map<string, OnWire<ViciConnection>>();
  /** By tunnel key ("ike:<conn>/<child>"): configured or not, what charon has of it. */
  const states = new Map<string, ChildState>();
  /** The pair each vici-child row counts for. */
  const rowPair = new Map<string, string>();
  const pairs = new Map<string, { conn: string; child: string }>();

  const stateOf = (conn: string, child: string): ChildState => {
    const key = ikeTunnelKey(conn, child);
    let s = states.get(key);
    if (!s) {
      states.set(key, (s = { installed: new Set() }));
      pairs.set(key, { conn, child });
    }
    return s;
  };

  /** The 'ike' tunnel of one configured child: there while it is configured and has no SA, gone otherwise. */
  const settle = (key: string) => {
    const { conn, child } = pairs.get(key)!;
    const c = conns.get(conn);
    const configured = c?.children.some((ch) => ch.name === child) ?? false;
    const s = states.get(key)!;
    const t = host.tunnels.get(key);
    if (configured && s.installed.size === 0) {
      if (!t) host.tunnels.set(key, newTunnel(key, 'ike', { name: `${conn}/${child}`, src: c!.localAddrs.join(', ') || '%any', dst: c!.remoteAddrs.join(', ') || '%any' }, host.now()));
      host.touch(key);
    } else if (t) host.drop(t);
    if (!configured && s.installed.size === 0) {
      states.delete(key);
      pairs.delete(key);
    }
  };

  const childRow = (key: string, row: OnWire<ViciChildSa> | undefined) => {
    const before = rowPair.get(key);
    const pair = row && ikeTunnelKey(row.ikeName, row.name);
    const has = row !== undefined && WITH_SAS.has(row.state);
    if (before !== undefined && (before !== pair || !has)) {
      const s = states.get(before);
      if (s?.installed.delete(key)) settle(before);
    }
    if (!row || !has) return void rowPair.delete(key);
    rowPair.set(key, pair!);
    const s = stateOf(row.ikeName, row.name);
    if (s.installed.has(key)) return;
    if (s.installed.size === 0) s.upSince = host.now();
    s.installed.add(key);
    settle(pair!);
  };

  const connRow = (name: string, c: OnWire<ViciConnection> | undefined) => {
    const before = conns.get(name);
    if (c) conns.set(name, c);
    else conns.delete(name);
    for (const ch of [...(before?.children ?? []), ...(c?.children ?? [])]) {
      stateOf(name, ch.name);
      settle(ikeTunnelKey(name, ch.name));
    }
  };

  return {
    kinds: ['vici-conn', 'vici-child'],
    family: 'ike',
    onChange(c) {
      const value = c.op === 'upsert' ? c.value : undefined;
      if (c.kind === 'vici-conn') connRow(c.key, value as OnWire<ViciConnection> | undefined);
      else childRow(c.key, value as OnWire<ViciChildSa> | undefined);
    },
    fill(t, row) {
      const pair = pairs.get(t.key);
      const c = pair && conns.get(pair.conn);
      if (!pair || !c) return;
      const s = states.get(t.key);
      // charon's last failure counts when it came after the child was last up (an old one is not why it is down now).
      const failed = c.lastReason && (s?.upSince === undefined || c.lastReason.time > s.upSince) ? c.lastReason.code : undefined;
      const waits = !namesItsPeer(c);
      const downReason: IkeDownReason = waits ? 'waiting-for-peer' : failed ?? (s?.upSince !== undefined ? 'went-down' : 'never-established');
      const peerId = c.remote.find((r) => r.id && r.id !== '%any')?.id;
      const ike: TunnelIke = { conn: pair.conn, child: pair.child, ...(peerId ? { peerId } : {}), downReason };
      row.ike = ike;
      row.name = ikeTunnelName(ike);
      row.state = waits ? 'idle' : 'down';
    },
  };
};

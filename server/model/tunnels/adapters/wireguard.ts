// wireguard peers as tunnels: a peer is one tunnel, keyed by its interface's name and public key (so an
// interface made again under its name keeps them). Its session keys rotate at each handshake: a
// last-handshake time that moved between reads is a rotation. rx + tx bytes are the tunnel's bytes,
// continuous when the kernel's counters start again (the peer or its interface made anew) and across
// sascope restarts (history: `counting`, kept as an SA's counters are). State and alarm: alarm-rules.ts.
import type { OnWire } from '../../../wire/entities.ts';
import { wireguardTunnelKey, type WireguardPeer } from '../../../wire/wireguard.ts';
import type { TunnelAdapterFactory } from '../adapter.ts';
import { wireguardPeerAlarms, wireguardPeerState } from '../alarm-rules.ts';
import { addCounters, newTunnel, type TunnelTrack } from '../track.ts';

/** WireGuard's REKEY_AFTER_TIME (drivers/net/wireguard/messages.h): while traffic flows, a handshake at least this often. */
export const WG_REKEY_AFTER_MS = 120_000;

const bytesOf = (p: OnWire<WireguardPeer>) => BigInt(p.rxBytes) + BigInt(p.txBytes);

export const wireguardAdapter: TunnelAdapterFactory = (host) => {
  /** Tunnel key by peer entity key (removals name the entity only). */
  const byPeer = new Map<string, string>();

  /** The kernel's counters of t's peer are gone (peer or interface deleted, or started again): they stay in the tunnel's total. */
  const retire = (t: TunnelTrack) => {
    if (t.counting) t.retired = addCounters(t.retired, { bytes: t.counting.bytes, packets: 0n, integrityFailed: 0, replay: 0, replayWindow: 0 });
    t.counting = undefined;
  };

  const peerSeen = (p: OnWire<WireguardPeer>) => {
    const key = wireguardTunnelKey(p);
    const now = host.now();
    let t = host.tunnels.get(key);
    if (!t) {
      t = newTunnel(key, 'wireguard', { name: `${p.device} peer ${p.publicKey.slice(0, 8)}…`, src: p.device, dst: p.endpoint ?? '' }, now);
      host.continuity.resumeTunnel(t);
      host.tunnels.set(key, t);
    }
    const before = t.wg?.deletedAt === undefined ? t.wg : undefined;
    const counterKey = `wg-peer:${p.key}`;
    const bytes = bytesOf(p);
    if (t.counting && (t.counting.key !== counterKey || bytes < t.counting.bytes)) retire(t);
    // The first read of this peer's counters after a restart: the ones history kept are live again (or retired, if they went down).
    if (!t.counting) host.continuity.resumeSa(counterKey, t, { bytes, packets: 0n, integrityFailed: 0, replay: 0, replayWindow: 0 });
    t.counting = { key: counterKey, bytes };

    const hs = p.lastHandshake;
    const previousHs = before?.peer.lastHandshake ?? t.lastRotation;
    if (hs !== undefined && hs !== previousHs && (previousHs === undefined || hs > previousHs)) {
      if (before || t.lastRotation !== undefined) {
        // Handshakes come REKEY_AFTER_TIME apart at the closest: one between the two reads is possible only when this one came that long after both.
        const skipped = hs - Math.max(previousHs ?? 0, before?.readAt ?? 0) > WG_REKEY_AFTER_MS && previousHs !== undefined;
        host.rotations.start(t, { time: hs, cause: 'handshake', state: 'done', ...(skipped ? { skippedHandshakes: true } : {}) });
      } else {
        t.lastRotation = hs; // first seen: its handshake happened before sascope looked
      }
    }
    const rose = before && before.peer.key === p.key && BigInt(p.txBytes) > BigInt(before.peer.txBytes);
    t.wg = { peer: p, readAt: now, txRoseAt: rose ? now : before?.txRoseAt };
    t.downSince = undefined;
    byPeer.set(p.key, key);
    host.touch(key);
  };

  const peerGone = (peerKey: string) => {
    const key = byPeer.get(peerKey);
    byPeer.delete(peerKey);
    const t = key === undefined ? undefined : host.tunnels.get(key);
    if (!t?.wg || t.wg.peer.key !== peerKey) return; // the tunnel has a newer peer already (its interface made again)
    retire(t);
    t.wg = { ...t.wg, deletedAt: host.now() };
    t.downSince = t.wg.deletedAt;
    host.touch(t.key);
  };

  return {
    kinds: ['wg-peer'],
    family: 'wireguard',
    continuous: true,
    onChange(c) {
      if (c.op === 'upsert') peerSeen(c.value as OnWire<WireguardPeer>);
      else peerGone(c.key);
    },
    fill(t, row) {
      const p = t.wg?.peer;
      if (!p) return;
      if (t.counting) row.bytes += t.counting.bytes;
      row.dst = p.endpoint ?? '';
      row.state = wireguardPeerState(t, host.now(), host.thresholds);
    },
    alarms: wireguardPeerAlarms,
    followsClock: (t, row, now, lingerMs) =>
      t.wg?.deletedAt !== undefined ? now - t.wg.deletedAt >= lingerMs : wireguardPeerState(t, now, host.thresholds) !== row.state,
    expired: (t, now, lingerMs) => t.wg?.deletedAt !== undefined && now - t.wg.deletedAt >= lingerMs,
    dropped(t) {
      if (t.wg && byPeer.get(t.wg.peer.key) === t.key) byPeer.delete(t.wg.peer.key);
    },
  };
};

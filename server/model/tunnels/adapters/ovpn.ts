// ovpn peers as tunnels: a peer is one tunnel, its key slots rotate inside it (a new primary key id is a
// rotation: a swap when it was the secondary, else a new key). A deleted peer stays, down, for its hold time.
import type { OnWire } from '../../../wire/entities.ts';
import type { OvpnPeer } from '../../../wire/ovpn.ts';
import type { TunnelAdapterFactory } from '../adapter.ts';
import { ovpnPeerAlarms } from '../alarm-rules.ts';
import { newTunnel } from '../track.ts';

export const ovpnAdapter: TunnelAdapterFactory = (host) => {
  const peerSeen = (p: OnWire<OvpnPeer>) => {
    const key = `ovpn:${p.key}`;
    let t = host.tunnels.get(key);
    const primary = p.keys.find((k) => k.slot === 'primary');
    if (!t) {
      t = newTunnel(key, 'ovpn', { name: `${p.device} peer ${p.id}${p.remoteAddress ? ` (${p.remoteAddress})` : ''}`, src: p.localAddress ?? '', dst: p.remoteAddress ?? '' }, host.now());
      host.tunnels.set(key, t);
    } else {
      const before = t.peer?.keys.find((k) => k.slot === 'primary');
      if (primary && before && primary.keyId !== before.keyId) {
        const wasSecondary = t.peer?.keys.find((k) => k.slot === 'secondary')?.keyId === primary.keyId;
        host.rotations.start(t, { time: host.now(), cause: wasSecondary ? 'key-swap' : 'new-key', oldKeyId: before.keyId, newKeyId: primary.keyId, state: 'done' });
      }
    }
    t.peer = p;
    t.peerDeletedAt = undefined;
    t.downSince = undefined;
    host.touch(key);
  };

  const peerGone = (peerKey: string) => {
    const t = host.tunnels.get(`ovpn:${peerKey}`);
    if (!t) return;
    t.peerDeletedAt = host.now();
    t.downSince = t.peerDeletedAt;
    host.touch(t.key);
  };

  return {
    kinds: ['ovpn-peer'],
    family: 'ovpn',
    onChange(c) {
      if (c.op === 'upsert') peerSeen(c.value as OnWire<OvpnPeer>);
      else peerGone(c.key);
    },
    fill(t, row) {
      const p = t.peer;
      if (!p) return;
      row.bytes = BigInt(p.vpn.rxBytes) + BigInt(p.vpn.txBytes);
      row.packets = BigInt(p.vpn.rxPackets) + BigInt(p.vpn.txPackets);
      row.state = t.peerDeletedAt !== undefined ? 'down' : 'up';
      const primary = p.keys.find((k) => k.slot === 'primary');
      if (primary) row.keyId = primary.keyId;
    },
    alarms: ovpnPeerAlarms,
    followsClock: (t) => t.downSince !== undefined,
    expired: (t, now, lingerMs) => t.peerDeletedAt !== undefined && now - t.peerDeletedAt >= Math.max(lingerMs, host.thresholds.peerDeletedHoldSeconds * 1000),
  };
};

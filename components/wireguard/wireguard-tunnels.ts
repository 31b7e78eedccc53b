'use client';
// WireGuard peers as the tunnels page and the wall show them: a peer's tunnel has no SPI and no countdown;
// its session keys rotate at each handshake, so the handshake is its rotation and its "next rekey" line
// says when the last one was. The peer row gives the tunnel its public key.
import { useMemo } from 'react';
import type { OnWire } from '@/server/wire/entities';
import { wireguardTunnelKey, type WireguardPeer } from '@/server/wire/wireguard';
import type { Rotation, Tunnel } from '@/server/wire/tunnels';
import { keyOnHost } from '@/server/wire/fleet';
import { useEntities } from '../live/keys';
import { hostOf } from '../live/host-filter';
import { formatRelative } from '../format';

type Peer = OnWire<WireguardPeer>;

/** A peer's tunnel key as the model holding the peer names it (a fleet console: with the peer's host in front). */
export const peerTunnelKey = (p: Peer) => keyOnHost({ host: hostOf(p) }, wireguardTunnelKey(p));

/** "xTcMz0Yq…": a public key's start; the whole key goes on hover. */
export const shortKey = (k: string) => `${k.slice(0, 8)}…`;

/** The wireguard peers by their tunnel's key. */
export function usePeersByTunnel(): Map<string, Peer> {
  const peers = useEntities('wg-peer');
  return useMemo(() => new Map([...(peers?.rows.values() ?? [])].map((p) => [peerTunnelKey(p), p])), [peers, peers?.version]);
}

/** A handshake rotation in words (handshakes a slow poll did not see are counted as this one). */
export const handshakeText = (r: Pick<OnWire<Rotation>, 'skippedHandshakes'>) => (r.skippedHandshakes ? 'new handshake (earlier ones between two reads unseen)' : 'new handshake');

/** The "next rekey" line of a wireguard tunnel: when its last handshake (its last rotation) was. */
export const lastHandshakeText = (t: Pick<OnWire<Tunnel>, 'lastRotation'>, now: number) => ({ label: 'last handshake', value: formatRelative(t.lastRotation, now), urgent: false });

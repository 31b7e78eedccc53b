// The alarm rules: pure functions of a tunnel (what the tracker keeps of it, and its row as built in this
// pass), the thresholds and the clock. They say which alarms a tunnel wants now; the AlarmBook raises and
// clears them. No model, no timers: a test calls them with a tunnel and a time.
import type { AlarmWanted } from '../alarms.ts';
import type { AlarmThresholds } from '../../config.ts';
import type { OnWire, SourceStatus } from '../../wire/entities.ts';
import type { AlarmType, Countdown, Tunnel, TunnelState } from '../../wire/tunnels.ts';
import { hex32, newest, NO_FAILURES, type TunnelTrack } from './track.ts';

/** Alarms whose state or text change with the clock alone (a countdown, "N s ago", a window, a hold time). */
export const CLOCK_ALARMS: ReadonlySet<AlarmType> = new Set<AlarmType>(['expiring-soon', 'rekey-overdue', 'integrity-failures', 'replay-failures', 'peer-deleted']);

/** An XFRM tunnel: expiry, rekey, teardown, sequence space, failures rising, offload lost. */
export function xfrmTunnelAlarms(t: TunnelTrack, tun: Tunnel, now: number, th: AlarmThresholds): AlarmWanted[] {
  const wanted: AlarmWanted[] = [];
  const cd = tun.countdown;
  const cur = newest(t.live);
  // Expiring soon: the hard limit is near and no rekey is under way to beat it (the soft limit passed, or there is none).
  const softPassed = cd?.softExpiresAt === undefined || cd.softExpiresAt <= now || cur?.softExpiredAt !== undefined;
  if (cur && cd?.hardExpiresAt !== undefined && cd.hardExpiresAt - now <= th.expiringSoonSeconds * 1000 && softPassed && !t.open?.size) {
    const s = Math.max(0, Math.round((cd.hardExpiresAt - now) / 1000));
    wanted.push({ type: 'expiring-soon', severity: 'warning', summary: `${tun.name}: SA ${hex32(cur.spi)} hard-expires in ${s} s`, value: s, threshold: th.expiringSoonSeconds });
  }
  const softAt = cur ? (cur.softExpiredAt ?? (cd?.softExpiresAt !== undefined && cd.softExpiresAt <= now ? cd.softExpiresAt : undefined)) : undefined;
  if (cur && softAt !== undefined && now - softAt >= th.rekeyOverdueSeconds * 1000) {
    const s = Math.round((now - softAt) / 1000);
    wanted.push({ type: 'rekey-overdue', severity: 'critical', summary: `${tun.name}: SA ${hex32(cur.spi)} soft-expired ${s} s ago and no new SA`, value: s, threshold: th.rekeyOverdueSeconds });
  }
  if (!cur && t.lastGone?.cause === 'hard-expire') {
    wanted.push({ type: 'hard-expired', severity: 'critical', summary: `${tun.name}: SA ${hex32(t.lastGone.sa.spi)} reached its hard limit and no SA replaced it` });
  } else if (!cur && t.lastGone) {
    // Torn down: the last SA was deleted (IKE delete, manual) and nothing replaced it.
    wanted.push({ type: 'tunnel-down', severity: 'critical', summary: `${tun.name}: tunnel down — SA ${hex32(t.lastGone.sa.spi)} was deleted and no SA replaced it` });
  }
  if (cd?.sequenceUsedPercent !== undefined && cd.sequenceUsedPercent >= th.sequenceUsedPercent) {
    wanted.push({ type: 'sequence-space', severity: cd.sequenceUsedPercent >= 95 ? 'critical' : 'warning', summary: `${tun.name}: ${cd.sequenceUsedPercent}% of the ${cd.sequenceBits}-bit sequence space used`, value: cd.sequenceUsedPercent, threshold: th.sequenceUsedPercent });
  }
  const base = t.failureMarks[0];
  if (base) {
    const di = tun.integrityFailed - base.integrity;
    const dr = tun.replayFailed - base.replay;
    if (di > th.failuresRisingCount) wanted.push({ type: 'integrity-failures', severity: 'warning', summary: `${tun.name}: ${di} integrity failures in the last ${th.failureWindowSeconds} s`, value: di, threshold: th.failuresRisingCount });
    if (dr > th.failuresRisingCount) wanted.push({ type: 'replay-failures', severity: 'warning', summary: `${tun.name}: ${dr} replay failures in the last ${th.failureWindowSeconds} s`, value: dr, threshold: th.failuresRisingCount });
  }
  if (cur && t.everOffloaded && !cur.offload) {
    wanted.push({ type: 'offload-fallback', severity: 'warning', summary: `${tun.name}: SA ${hex32(cur.spi)} is not offloaded; an earlier SA of this tunnel was` });
  }
  return wanted;
}

/** Whether the clock alone can change an XFRM tunnel's alarms now (its countdown is near, or a soft limit passed). */
export function xfrmAlarmsFollowClock(t: TunnelTrack, tun: { countdown?: Pick<Countdown, 'softExpiresAt' | 'hardExpiresAt'> }, now: number, th: AlarmThresholds): boolean {
  const cd = tun.countdown;
  return (cd?.hardExpiresAt !== undefined && cd.hardExpiresAt - now <= th.expiringSoonSeconds * 1000) || (cd?.softExpiresAt !== undefined && cd.softExpiresAt <= now) || newest(t.live)?.softExpiredAt !== undefined;
}

/** An ovpn peer: the kernel asked for a key swap, or deleted the peer (held for a while). */
export function ovpnPeerAlarms(t: TunnelTrack, tun: Tunnel, now: number, th: AlarmThresholds): AlarmWanted[] {
  const wanted: AlarmWanted[] = [];
  if (!t.peer) return wanted;
  if (t.peer.state === 'rekey-needed' && t.peerDeletedAt === undefined) {
    wanted.push({ type: 'ovpn-key-swap-needed', severity: 'warning', summary: `${tun.name}: the kernel asked for a key swap (IV space of the primary key used up)` });
  }
  if (t.peerDeletedAt !== undefined && now - t.peerDeletedAt < th.peerDeletedHoldSeconds * 1000) {
    wanted.push({ type: 'peer-deleted', severity: 'warning', summary: `${tun.name}: the kernel deleted this peer` });
  }
  return wanted;
}

/**
 * When a wireguard peer that had a handshake is due another at the latest: its keys are renewed only once
 * they are REKEY_AFTER_TIME (120 s) old, and one REKEY_TIMEOUT (5 s) later is the first retry
 * (drivers/net/wireguard/messages.h). A stale threshold below this does not make such a peer late.
 */
export const WG_HANDSHAKE_DUE_MS = 125_000;

/**
 * A wireguard peer's state. up: its last handshake is within wgHandshakeStaleSeconds (WireGuard's
 * REJECT_AFTER_TIME: its keys still work); down: deleted, or expected up and overdue (the alarm below);
 * idle: neither — no keepalive and nothing sent, so no handshake is missed. Overdue: never a handshake
 * for the threshold since sascope first saw it, or none for the threshold (at least WG_HANDSHAKE_DUE_MS)
 * since the last. Expected up: a persistent keepalive is set, or its tx bytes rose while it was overdue
 * and within the threshold (WireGuard counts handshake initiations as tx: it is trying and failing).
 */
export function wireguardPeerState(t: TunnelTrack, now: number, th: AlarmThresholds): TunnelState {
  const wg = t.wg;
  if (!wg || wg.deletedAt !== undefined) return 'down';
  const staleMs = th.wgHandshakeStaleSeconds * 1000;
  const hs = wg.peer.lastHandshake;
  if (now - (hs ?? t.firstSeen) <= staleMs) return 'up';
  const dueAt = hs === undefined ? t.firstSeen + staleMs : hs + Math.max(staleMs, WG_HANDSHAKE_DUE_MS);
  if (now <= dueAt) return 'idle';
  const sending = wg.txRoseAt !== undefined && now - wg.txRoseAt <= staleMs && wg.txRoseAt > dueAt;
  return wg.peer.persistentKeepaliveSeconds > 0 || sending ? 'down' : 'idle';
}

/** A wireguard peer expected up that never completed a handshake, or whose last one is stale. */
export function wireguardPeerAlarms(t: TunnelTrack, tun: Tunnel, now: number, th: AlarmThresholds): AlarmWanted[] {
  const wg = t.wg;
  if (!wg || wg.deletedAt !== undefined || wireguardPeerState(t, now, th) !== 'down') return [];
  const why = wg.peer.persistentKeepaliveSeconds > 0 ? `persistent keepalive every ${wg.peer.persistentKeepaliveSeconds} s` : 'it is sending';
  const hs = wg.peer.lastHandshake;
  const summary = hs === undefined ? `${tun.name}: no handshake ever completed (${why})` : `${tun.name}: no handshake since ${new Date(hs).toISOString()}, over ${th.wgHandshakeStaleSeconds} s (${why})`;
  return [{ type: 'wg-handshake-stale', severity: 'critical', summary, threshold: th.wgHandshakeStaleSeconds }];
}

/** A kernel source that went stale or failed. */
export function sourceAlarms(s: OnWire<SourceStatus>): AlarmWanted[] {
  if (s.state === 'stale') return [{ type: 'source-stale', severity: 'warning', summary: `${s.label} is stale${s.reason ? `: ${s.reason}` : ''}` }];
  if (s.state === 'error') return [{ type: 'source-stale', severity: 'critical', summary: `${s.label} failed${s.reason ? `: ${s.reason}` : ''}` }];
  return [];
}

/**
 * Records the tunnel's failure counters at this clock when they moved, and forgets marks older than the
 * window but one (the baseline "rising" is measured from). Mutates t: the rules above read the marks.
 */
export function markFailures(t: TunnelTrack, tun: Pick<Tunnel, 'integrityFailed' | 'replayFailed'>, now: number, th: AlarmThresholds): void {
  const last = t.failureMarks[t.failureMarks.length - 1];
  const mark = { t: now, integrity: tun.integrityFailed, replay: tun.replayFailed };
  const zero = tun.integrityFailed === 0 && tun.replayFailed === 0;
  // Not push onto an empty array (it would grow to 17 slots), nor onto the shared baseline.
  if (!last) t.failureMarks = zero ? NO_FAILURES : [mark];
  else if (last.integrity !== tun.integrityFailed || last.replay !== tun.replayFailed) {
    if (t.failureMarks === NO_FAILURES) t.failureMarks = [NO_FAILURES[0]!, mark];
    else t.failureMarks.push(mark);
  }
  const windowStart = now - th.failureWindowSeconds * 1000;
  // Keep one mark at or before the window start as the baseline.
  while (t.failureMarks.length > 1 && t.failureMarks[1]!.t <= windowStart) t.failureMarks.shift();
}

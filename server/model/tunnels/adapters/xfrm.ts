// XFRM SAs as tunnels: SAs grouped by what a rekey keeps (grouping.ts), rotations between them
// (rotations.ts), counters continuous over SAs that went and over restarts (continuity.ts). Removals wait
// for the pass, because the XFRM source says why an SA went (EXPIRE hard event) right after removing it.
// strongSwan's names come from the IKE join (ike-join.ts: vici-child rows matched by SPI and reqid), and an
// operator's rekey of a CHILD SA (a vici-action row) is the cause of its tunnels' next rotation.
import { countdownOf } from '../../countdown.ts';
import type { KernelEvent, OnWire } from '../../../wire/entities.ts';
import type { XfrmPolicy } from '../../../wire/xfrm.ts';
import { ikeTunnelName, OPERATOR_REKEY_WINDOW_MS, type TunnelIke, type ViciAction } from '../../../wire/vici.ts';
import type { TunnelAdapterFactory } from '../adapter.ts';
import { xfrmAlarmsFollowClock, xfrmTunnelAlarms } from '../alarm-rules.ts';
import { TunnelGrouping, tunnelKeyOf } from '../grouping.ts';
import { IkeJoin } from '../ike-join.ts';
import { addCounters, newest, XfrmSaTrack, XfrmTunnelTrack, type Sa, type SaTrack, type TunnelTrack } from '../track.ts';

export const xfrmAdapter: TunnelAdapterFactory = (host) => {
  const { tunnels, rotations, continuity } = host;
  const sas = new Map<string, XfrmSaTrack>();
  const grouping = new TunnelGrouping(tunnels);
  const removals: Array<{ key: string; at: number }> = [];
  const hardExpired = new Set<string>();
  let order = 0;
  /** SAs the kernel added before this (s since epoch) were there when sascope started: not rotations. */
  const startedAtSec = Math.floor(host.now() / 1000);
  const join = new IkeJoin();
  /** Each joined tunnel's join as its row last showed it. */
  const joins = new Map<string, TunnelIke>();
  /** Operators' rekeys of CHILD SAs (vici-child key) not yet older than the window, and the tunnels already rotated by each. */
  const rekeys = new Map<string, { childSa: string; by: string; at: number; rotated: Set<string> }>();

  /** The operator whose rekey of t's CHILD SA caused this rotation, if one started within the window (each of its tunnels once). */
  const operatorOf = (t: TunnelTrack): string | undefined => {
    const childSa = joins.get(t.key)?.childSa;
    const now = host.now();
    for (const [k, r] of rekeys) {
      if (now - r.at > OPERATOR_REKEY_WINDOW_MS) rekeys.delete(k);
      else if (r.childSa === childSa && !r.rotated.has(t.key)) {
        r.rotated.add(t.key);
        return r.by;
      }
    }
    return undefined;
  };

  /** What an SA carried (its counters as its row last had them) goes to its tunnel's retired counters. */
  const retire = (t: TunnelTrack, s: SaTrack) => {
    t.retired = addCounters(t.retired, s);
  };

  /** The XFRM tunnel under this key. */
  const tunnelAt = (key: string): XfrmTunnelTrack | undefined => {
    const t = tunnels.get(key);
    return t instanceof XfrmTunnelTrack ? t : undefined;
  };

  const newXfrmTunnel = (key: string, sa: Sa): XfrmTunnelTrack => {
    const t = new XfrmTunnelTrack(key, sa, host.now());
    continuity.resumeTunnel(t);
    tunnels.set(key, t);
    // The reverse direction names this one.
    for (const k of grouping.add(t)) host.mark(k);
    return t;
  };

  const saSeen = (key: string, sa: Sa) => {
    // A larval SA (ALLOCSPI's placeholder, state ACQ: no algorithm yet) is not part of a tunnel until UPDSA fills it.
    if (!sa.aead && !sa.enc && !sa.auth && !sa.comp && (sa.proto === 'esp' || sa.proto === 'ah' || sa.proto === 'comp')) return;
    let known = sas.get(key);
    if (known && known.tunnel !== tunnelKeyOf(sa)) {
      // Same SA, new identity (e.g. its selector was filled in): it leaves the old tunnel quietly.
      saGone(key, host.now(), true);
      known = undefined;
    }
    const counters = {
      bytes: BigInt(sa.lifetime.current.bytes),
      packets: BigInt(sa.lifetime.current.packets),
      integrityFailed: sa.stats.integrityFailed,
      replay: sa.stats.replay,
      replayWindow: sa.stats.replayWindow,
    };
    if (known) {
      const t = tunnelAt(known.tunnel)!;
      // A counter that went down is a new SA under the old identity: what the old one carried is kept.
      if (counters.bytes < known.bytes || counters.packets < known.packets) retire(t, known);
      known.value = sa;
      t.identity = t.live[0]!.value;
      if (sa.offload) t.everOffloaded = true;
      rotations.saCompleted(t, known);
      host.touch(t.key);
      return;
    }
    const tkey = tunnelKeyOf(sa);
    const addSec = Number(sa.lifetime.current.addTime);
    const t = tunnelAt(tkey) ?? newXfrmTunnel(tkey, sa);
    const track = new XfrmSaTrack(sa, t.key, addSec > 0 ? addSec * 1000 : host.now(), order++);
    const restored = continuity.resumeSa(key, t, counters);
    // A rotation: a new SA where the tunnel had one (or lost its last one), added after sascope started.
    const fresh = addSec === 0 || addSec >= startedAtSec;
    if (fresh && !restored) {
      const join = joins.get(t.key);
      rotations.saArrived(t, track, host.now(), { name: join ? ikeTunnelName(join) : t.base.name, by: operatorOf(t) });
    }
    t.lastGone = undefined;
    t.downSince = undefined;
    if (sa.offload) t.everOffloaded = true;
    // A new array rather than push: push grows an empty array to 17 slots, and most tunnels have one or two SAs.
    t.live = t.live.length === 0 ? [track] : [...t.live, track].sort((a, b) => b.addedAt - a.addedAt || b.order - a.order);
    t.identity = t.live[0]!.value;
    sas.set(key, track);
    host.touch(tkey);
  };

  const saGone = (key: string, at: number, moved = false) => {
    const s = sas.get(key);
    if (!s) return;
    sas.delete(key);
    const t = tunnelAt(s.tunnel);
    const hard = hardExpired.delete(key);
    if (!t) return;
    retire(t, s);
    t.live = t.live.filter((x) => x.key !== key);
    // Its identity from an SA that is there (a gone SA's row is not held for it), or the last one.
    if (t.live.length) t.identity = t.live[0]!.value;
    if (moved) {
      if (t.live.length === 0 && t.rotations === 0 && t.retired.bytes === 0n) host.drop(t);
      else host.touch(t.key);
      return;
    }
    rotations.saLeft(t, s, at, (k) => sas.has(k), hard);
    if (t.live.length === 0) t.downSince = at;
    host.touch(t.key);
  };

  return {
    kinds: ['sa', 'event', 'policy', 'vici-child', 'vici-ike', 'vici-action'],
    family: 'xfrm',
    continuous: true,
    onChange(c) {
      if (c.kind === 'sa') {
        if (c.op === 'upsert') saSeen(c.key, c.value as Sa);
        else removals.push({ key: c.key, at: host.now() });
      } else if (c.kind === 'event' && c.op === 'upsert') {
        // The event's code and typed subject, never its words: the kernel said an SA expired.
        const e = c.value as OnWire<KernelEvent>;
        if (e.subject?.kind !== 'sa') return;
        const key = e.subject.key;
        if (e.code === 'sa-soft-expire') {
          const s = sas.get(key);
          if (s && s.softExpiredAt === undefined) {
            s.softExpiredAt = host.now();
            host.touch(s.tunnel);
          }
        } else if (e.code === 'sa-hard-expire') hardExpired.add(key);
      } else if (c.kind === 'policy') {
        grouping.policy(c.key, c.op === 'upsert' ? (c.value as OnWire<XfrmPolicy>) : undefined, host.mark);
      } else if (c.kind === 'vici-action') {
        const a = c.op === 'upsert' ? (c.value as ViciAction) : undefined;
        // A rekey charon refused made no rotation: it stops waiting for one.
        if (a?.result === 'failed') rekeys.delete(c.key);
        else if (a?.action === 'rekey' && 'childId' in a.target) {
          // The window runs from charon's answer once there is one (a loaded charon may answer late), else from the start.
          const r = rekeys.get(a.key);
          if (r) r.at = Math.max(r.at, a.endedAt ?? a.startedAt);
          else rekeys.set(a.key, { childSa: String(a.target.childId), by: a.by, at: a.endedAt ?? a.startedAt, rotated: new Set() });
        }
      } else join.onChange(c);
    },
    beforePass() {
      // Rows of charon's that came, changed or went: the tunnels carrying their SPIs are rebuilt (one scan per pass).
      if (join.changed.size) {
        for (const s of sas.values()) if (join.changed.has(s.spi)) host.mark(s.tunnel);
        join.changed.clear();
      }
      for (const r of removals.splice(0)) saGone(r.key, r.at);
      hardExpired.clear();
    },
    pending: () => removals.length > 0 || join.changed.size > 0,
    placement: (t) => grouping.placement(t),
    fill(t, row) {
      for (const s of t.live) {
        row.bytes += s.bytes;
        row.packets += s.packets;
        row.integrityFailed += s.integrityFailed;
        row.replayFailed += s.replay;
        row.replayWindowFailed += s.replayWindow;
      }
      const cur = newest(t.live);
      if (cur) {
        row.state = t.open?.size ? 'rekeying' : 'up';
        row.current = { sa: cur.key, spi: cur.spi, addedAt: cur.addedAt, ...(cur.fingerprint ? { fingerprint: cur.fingerprint } : {}), ...(cur.algorithm ? { algorithm: cur.algorithm } : {}), ...(cur.offload ? { offload: cur.offload } : {}) };
        row.countdown = countdownOf(cur.value);
      }
      const reverse = grouping.reverseOf(t, tunnels);
      if (reverse !== undefined) row.reverse = reverse;
      let ike: TunnelIke | undefined;
      for (const s of t.live) if ((ike = join.of(s.spi, s.value.reqid))) break;
      if (ike) {
        joins.set(t.key, ike);
        row.ike = ike;
        row.name = ikeTunnelName(ike);
      } else joins.delete(t.key);
    },
    alarms: xfrmTunnelAlarms,
    followsClock: (t, row, now, lingerMs) => xfrmAlarmsFollowClock(t, row, now, host.thresholds) || (t.downSince !== undefined && now - t.downSince >= lingerMs),
    expired: (t, now, lingerMs) => t.live.length === 0 && t.downSince !== undefined && now - t.downSince >= lingerMs,
    dropped: (t) => {
      grouping.delete(t);
      joins.delete(t.key);
    },
  };
};

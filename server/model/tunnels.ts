// From raw SAs to what an operator asks: tunnels, rotations, countdowns and alarms, derived by listening
// to the model (Model.onChange) and kept as kinds of their own ('tunnel', 'rotation', 'alarm').
//
// A tunnel is what a rekey keeps: XFRM SAs with the same family, protocol, source and destination, reqid,
// mode, selector, mark, if_id and (when the kernel has it) XFRMA_SA_DIR — one direction each. An ovpn peer
// is a tunnel too (its key slots rotate inside it). A new SA in a tunnel that has one is a rotation; the
// cause comes from what the kernel said before (see RotationCause in server/wire/tunnels.ts). Tunnel
// counters are continuous: bytes of SAs that are gone are kept ("retired") and added to the live ones.
//
// Work is batched: changes mark tunnels dirty and one pass shortly after (setImmediate) rebuilds them, so
// an SA storm costs one tunnel upsert per tunnel per pass. Removals wait for that pass too, because the
// XFRM source says why an SA went (EXPIRE hard event) right after removing it. A 1 s timer re-evaluates
// the alarms that depend on the clock (expiring soon, rekey overdue, failures rising, peer deleted).
import type { Model, ModelChange } from './model.ts';
import { AlarmBook, type AlarmListener, type AlarmWanted } from './alarms.ts';
import { countdownOf } from './countdown.ts';
import { MultiMap } from './multimap.ts';
import type { AlarmThresholds } from '../config.ts';
import type { KernelEvent, OnWire, SourceStatus } from '../wire/entities.ts';
import type { SecurityAssociation, XfrmPolicy } from '../wire/xfrm.ts';
import type { OvpnPeer } from '../wire/ovpn.ts';
import type { PspDevice } from '../wire/psp.ts';
import type { Rotation, RotationCause, Tunnel } from '../wire/tunnels.ts';

type Sa = OnWire<SecurityAssociation>;
const hex32 = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
const zeroNet = (s: string) => s === '0.0.0.0/0' || s === '::/0' || s === '';

interface SaTrack {
  key: string;
  tunnel: string;
  spi: number;
  /** ms: the kernel's add time when it has one, else when sascope first saw the SA. */
  addedAt: number;
  /** Order of arrival, to break addedAt ties (the kernel's add time has 1 s resolution). */
  order: number;
  fingerprint?: string;
  algorithm?: string;
  offload?: string;
  bytes: bigint;
  packets: bigint;
  integrityFailed: number;
  replay: number;
  replayWindow: number;
  softExpiredAt?: number;
  value: Sa;
}

interface TunnelTrack {
  key: string;
  family: 'xfrm' | 'ovpn';
  base: Omit<Tunnel, 'key' | 'family' | 'state' | 'sas' | 'current' | 'firstSeen' | 'bytes' | 'packets' | 'integrityFailed' | 'replayFailed' | 'replayWindowFailed' | 'rotations' | 'lastRotation' | 'countdown' | 'alarms' | 'policies' | 'reverse' | 'direction'> & { saDir?: string };
  firstSeen: number;
  retired: { bytes: bigint; packets: bigint; integrityFailed: number; replay: number; replayWindow: number };
  live: SaTrack[];
  rotations: number;
  lastRotation?: number;
  /** Rotations still overlapping, by the old SA's key (absent when none: most tunnels, most of the time). */
  open?: Map<string, Rotation>;
  /** The last SA that went with none left, and how. */
  lastGone?: { sa: SaTrack; at: number; cause: 'hard-expire' | 'manual' };
  everOffloaded: boolean;
  /** Failure counters over time, for "rising" (the oldest kept is the baseline before the window). */
  failureMarks: Array<{ t: number; integrity: number; replay: number }>;
  /** Down since (ms), for lingering removal. */
  downSince?: number;
  /** ovpn: the peer as last seen, and when it was deleted. */
  peer?: OnWire<OvpnPeer>;
  peerDeletedAt?: number;
}

/** A tunnel's or an SA's counters (history keeps the 64-bit ones as decimal strings). */
interface Counters { bytes: bigint | string; packets: bigint | string; integrityFailed: number; replay: number; replayWindow: number }

/** into += sign × c, counter by counter. */
function addCounters(into: TunnelTrack['retired'], c: Counters, sign: 1 | -1 = 1): void {
  into.bytes += BigInt(sign) * BigInt(c.bytes);
  into.packets += BigInt(sign) * BigInt(c.packets);
  into.integrityFailed += sign * c.integrityFailed;
  into.replay += sign * c.replay;
  into.replayWindow += sign * c.replayWindow;
}

/** What history keeps of a tunnel so its counters stay continuous across a sascope restart. */
export interface TunnelState {
  key: string;
  firstSeen: number;
  retiredBytes: string;
  retiredPackets: string;
  retiredIntegrity: number;
  retiredReplay: number;
  retiredReplayWindow: number;
  rotations: number;
  lastRotation?: number;
  /** Live SAs at the time, with their last counters (those gone by the next start are retired then). */
  sas: Array<{ key: string; bytes: string; packets: string; integrityFailed: number; replay: number; replayWindow: number }>;
}

export interface TunnelTrackerOptions {
  thresholds: AlarmThresholds;
  now?: () => number;
  /** Clock alarms re-evaluated this often (0 = never; tests call tick()). Default 1000. */
  tickMs?: number;
  /** A tunnel with no SA for this long is dropped (a later SA makes a new tunnel). Default 600 s. */
  lingerSeconds?: number;
  /** Rotation rows kept in memory (history keeps them all within retention). Default 2000. */
  maxRotations?: number;
  /** Told about rotations and alarms (history). */
  onRotation?: (r: Rotation) => void;
  alarms?: AlarmListener;
}

export class TunnelTracker {
  private readonly sas = new Map<string, SaTrack>();
  private readonly tunnels = new Map<string, TunnelTrack>();
  private readonly dirty = new Set<string>();
  private readonly removals: Array<{ key: string; at: number }> = [];
  private readonly hardExpired = new Set<string>();
  private readonly policies = new Map<string, OnWire<XfrmPolicy>>();
  /** Indexes, so a change costs the tunnels and policies it touches, not all of them (10k+ tunnels). */
  private readonly byAddrs = new MultiMap(); // "proto|src|dst" → tunnel keys
  private readonly byReqid = new MultiMap(); // "proto|reqid" → tunnel keys
  private readonly policiesByAddrs = new MultiMap(); // template "proto|src|dst" → policy keys
  private readonly policiesByReqid = new MultiMap(); // template "proto|reqid" (any address) → policy keys
  private readonly pspRotations = new Map<number, number>();
  private readonly restored = new Map<string, TunnelState>();
  private readonly restoredSas = new Map<string, TunnelState['sas'][number] & { tunnel: string }>();
  private readonly rotationKeys: string[] = [];
  readonly alarms: AlarmBook;
  private order = 0;
  private scheduled = false;
  private readonly settledWaiters: Array<() => void> = [];
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly off: () => void;
  private readonly now: () => number;
  /** SAs the kernel added before this (s since epoch) were there when sascope started: not rotations. */
  private readonly startedAtSec: number;

  constructor(private readonly model: Model, private readonly opts: TunnelTrackerOptions) {
    this.now = opts.now ?? Date.now;
    this.startedAtSec = Math.floor(this.now() / 1000);
    this.alarms = new AlarmBook(model, this.now, opts.alarms);
    this.off = model.onChange((c) => this.onChange(c));
    const every = opts.tickMs ?? 1000;
    if (every > 0) {
      this.timer = setInterval(() => this.tick(), every);
      this.timer.unref();
    }
  }

  /**
   * Counters and rotation counts from history, before the sources start. A tunnel comes back with what
   * it showed at the last stop: the SAs it had then count as retired until the dump finds one still
   * alive, whose live counters then take over (so the total never dips while the first dumps run, even
   * if a client reads it before settle()).
   */
  restore(states: TunnelState[]): void {
    for (const s of states) {
      const total = { bytes: BigInt(s.retiredBytes), packets: BigInt(s.retiredPackets), integrityFailed: s.retiredIntegrity, replay: s.retiredReplay, replayWindow: s.retiredReplayWindow };
      for (const sa of s.sas) {
        this.restoredSas.set(sa.key, { ...sa, tunnel: s.key });
        addCounters(total, sa);
      }
      this.restored.set(s.key, { ...s, retiredBytes: total.bytes.toString(), retiredPackets: total.packets.toString(), retiredIntegrity: total.integrityFailed, retiredReplay: total.replay, retiredReplayWindow: total.replayWindow });
    }
  }

  /** After the first dumps: SAs that were live at the last stop and are not now stay retired (they died while sascope was down). */
  settle(): void {
    this.restoredSas.clear();
    this.restored.clear();
  }

  /** Every change seen so far is published: no pass pending (flush() spreads a big batch over turns of the event loop). */
  get settled(): boolean {
    return !this.scheduled && this.dirty.size === 0 && this.removals.length === 0;
  }

  /** Resolves when settled: a reader right after the dumps (`sascope snapshot`) gets every tunnel and alarm, not the first passes' share. */
  whenSettled(): Promise<void> {
    return this.settled ? Promise.resolve() : new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /** The state history keeps (continuity across restarts). */
  exportState(): TunnelState[] {
    return [...this.tunnels.values()]
      .filter((t) => t.family === 'xfrm')
      .map((t) => ({
        key: t.key,
        firstSeen: t.firstSeen,
        retiredBytes: t.retired.bytes.toString(),
        retiredPackets: t.retired.packets.toString(),
        retiredIntegrity: t.retired.integrityFailed,
        retiredReplay: t.retired.replay,
        retiredReplayWindow: t.retired.replayWindow,
        rotations: t.rotations,
        ...(t.lastRotation !== undefined ? { lastRotation: t.lastRotation } : {}),
        sas: t.live.map((s) => ({ key: s.key, bytes: s.bytes.toString(), packets: s.packets.toString(), integrityFailed: s.integrityFailed, replay: s.replay, replayWindow: s.replayWindow })),
      }));
  }

  tunnelList(): Tunnel[] {
    return [...this.tunnels.keys()].map((k) => this.model.get('tunnel', k) as Tunnel).filter(Boolean);
  }

  // ---- input

  private onChange(c: ModelChange): void {
    switch (c.kind) {
      case 'sa':
        if (c.op === 'upsert') this.saSeen(c.key, c.value as Sa);
        else if (c.op === 'remove') this.removals.push({ key: c.key, at: this.now() });
        break;
      case 'event': {
        if (c.op !== 'upsert') break;
        // The event's code and typed subject, never its words: the kernel said an SA expired.
        const e = c.value as OnWire<KernelEvent>;
        if (e.subject?.kind !== 'sa') break;
        const key = e.subject.key;
        if (e.code === 'sa-soft-expire') {
          const s = this.sas.get(key);
          if (s && s.softExpiredAt === undefined) {
            s.softExpiredAt = this.now();
            this.touch(s.tunnel);
          }
        } else if (e.code === 'sa-hard-expire') this.hardExpired.add(key);
        break;
      }
      case 'policy': {
        const old = this.policies.get(c.key);
        if (old) this.indexPolicy(old, false);
        if (c.op === 'upsert') {
          const p = c.value as OnWire<XfrmPolicy>;
          this.policies.set(c.key, p);
          this.indexPolicy(p, true);
        } else this.policies.delete(c.key);
        break;
      }
      case 'ovpn-peer':
        if (c.op === 'upsert') this.peerSeen(c.value as OnWire<OvpnPeer>);
        else if (c.op === 'remove') this.peerGone(c.key);
        break;
      case 'psp-dev':
        if (c.op === 'upsert') this.pspSeen(c.value as OnWire<PspDevice>);
        break;
      case 'source':
        if (c.op === 'upsert') this.sourceSeen(c.value as OnWire<SourceStatus>);
        break;
      default:
        return;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private touch(tunnel: string): void {
    this.dirty.add(tunnel);
    this.schedule();
  }

  /** Identity of the tunnel an SA belongs to: what stays the same across a rekey. */
  static tunnelKeyOf(sa: Sa): string {
    const parts = [`xfrm:${sa.family}:${sa.proto}:${sa.src}>${sa.dst}`, `reqid=${sa.reqid}`, `mode=${sa.mode}`];
    const sel = sa.selector;
    if (!zeroNet(sel.src) || !zeroNet(sel.dst) || sel.sport || sel.dport || (sel.proto && sel.proto !== 0 && sel.proto !== 'any')) {
      parts.push(`sel=${sel.src}:${sel.sport}>${sel.dst}:${sel.dport}/${sel.proto}`);
    }
    if (sa.mark && (sa.mark.value || sa.mark.mask)) parts.push(`mark=0x${sa.mark.value.toString(16)}/0x${sa.mark.mask.toString(16)}`);
    if (sa.ifId) parts.push(`if_id=${sa.ifId}`);
    if (sa.dir !== undefined) parts.push(`dir=${sa.dir}`);
    return parts.join(':');
  }

  private saSeen(key: string, sa: Sa): void {
    // A larval SA (ALLOCSPI's placeholder, state ACQ: no algorithm yet) is not part of a tunnel until UPDSA fills it.
    if (!sa.aead && !sa.enc && !sa.auth && !sa.comp && (sa.proto === 'esp' || sa.proto === 'ah' || sa.proto === 'comp')) return;
    let known = this.sas.get(key);
    if (known && known.tunnel !== TunnelTracker.tunnelKeyOf(sa)) {
      // Same SA, new identity (e.g. its selector was filled in): it leaves the old tunnel quietly.
      this.saGone(key, this.now(), true);
      known = undefined;
    }
    const counters = {
      bytes: BigInt(sa.lifetime.current.bytes),
      packets: BigInt(sa.lifetime.current.packets),
      integrityFailed: sa.stats.integrityFailed,
      replay: sa.stats.replay,
      replayWindow: sa.stats.replayWindow,
    };
    const alg = sa.aead ?? sa.enc ?? sa.auth;
    if (known) {
      const t = this.tunnels.get(known.tunnel)!;
      // A counter that went down is a new SA under the old identity: what the old one carried is kept.
      if (counters.bytes < known.bytes || counters.packets < known.packets) this.retire(t, known);
      Object.assign(known, counters, { value: sa, fingerprint: alg?.fingerprint, algorithm: alg?.name, offload: sa.offload ? `${sa.offload.type}@${sa.offload.ifindex}` : undefined });
      if (sa.offload) t.everOffloaded = true;
      // The new key's fingerprint may come after the rotation started (an SA completed by UPDSA).
      for (const [old, r] of t.open ?? []) {
        if (r.newSpi === known.spi && r.newFingerprint === undefined && known.fingerprint) {
          const upd = { ...r, newFingerprint: known.fingerprint };
          t.open!.set(old, upd);
          this.model.upsert('rotation', upd.key, upd);
        }
      }
      this.touch(t.key);
      return;
    }
    const tkey = TunnelTracker.tunnelKeyOf(sa);
    const addSec = Number(sa.lifetime.current.addTime);
    const track: SaTrack = {
      key,
      tunnel: tkey,
      spi: sa.spi,
      addedAt: addSec > 0 ? addSec * 1000 : this.now(),
      order: this.order++,
      fingerprint: alg?.fingerprint,
      algorithm: alg?.name,
      offload: sa.offload ? `${sa.offload.type}@${sa.offload.ifindex}` : undefined,
      ...counters,
      value: sa,
    };
    let t = this.tunnels.get(tkey);
    if (!t) t = this.newXfrmTunnel(tkey, sa);
    const restored = this.restoredSas.get(key);
    if (restored) {
      // Still alive: its counters are live, no longer retired — unless they went down (a new SA under the old key).
      this.restoredSas.delete(key);
      if (restored.tunnel === tkey && counters.bytes >= BigInt(restored.bytes) && counters.packets >= BigInt(restored.packets)) addCounters(t.retired, restored, -1);
    }
    // A rotation: a new SA where the tunnel had one (or lost its last one), added after sascope started.
    const fresh = addSec === 0 || addSec >= this.startedAtSec;
    const previous = newest(t.live);
    if (fresh && !restored && previous) {
      const cause: RotationCause = previous.softExpiredAt !== undefined ? 'soft-expire' : 'daemon-rekey';
      const r = this.rotation(t, { time: this.now(), cause, oldSpi: previous.spi, newSpi: sa.spi, oldFingerprint: previous.fingerprint, newFingerprint: track.fingerprint, state: 'overlapping' });
      (t.open ??= new Map()).set(previous.key, r);
    } else if (fresh && !restored && t.lastGone) {
      const g = t.lastGone;
      this.rotation(t, { time: this.now(), cause: g.cause, oldSpi: g.sa.spi, newSpi: sa.spi, oldFingerprint: g.sa.fingerprint, newFingerprint: track.fingerprint, state: 'done', overlapMs: 0, oldGoneAt: g.at });
    }
    t.lastGone = undefined;
    t.downSince = undefined;
    if (sa.offload) t.everOffloaded = true;
    // A new array rather than push: push grows an empty array to 17 slots, and most tunnels have one or two SAs.
    t.live = t.live.length === 0 ? [track] : [...t.live, track].sort((a, b) => b.addedAt - a.addedAt || b.order - a.order);
    this.sas.set(key, track);
    this.touch(tkey);
  }

  private newXfrmTunnel(key: string, sa: Sa): TunnelTrack {
    const r = this.restored.get(key);
    const sel = sa.selector;
    const t: TunnelTrack = {
      key,
      family: 'xfrm',
      base: {
        name: `${sa.src} → ${sa.dst} ${sa.proto}${sa.reqid ? ` reqid ${sa.reqid}` : ''}`,
        src: sa.src,
        dst: sa.dst,
        proto: sa.proto,
        reqid: sa.reqid,
        mode: sa.mode,
        selector: { src: sel.src, dst: sel.dst, proto: sel.proto, sport: sel.sport, dport: sel.dport },
        ...(sa.mark && (sa.mark.value || sa.mark.mask) ? { mark: sa.mark } : {}),
        ...(sa.ifId ? { ifId: sa.ifId } : {}),
        ...(sa.dir !== undefined ? { saDir: String(sa.dir) } : {}),
      },
      firstSeen: r?.firstSeen ?? this.now(),
      retired: r
        ? { bytes: BigInt(r.retiredBytes), packets: BigInt(r.retiredPackets), integrityFailed: r.retiredIntegrity, replay: r.retiredReplay, replayWindow: r.retiredReplayWindow }
        : { bytes: 0n, packets: 0n, integrityFailed: 0, replay: 0, replayWindow: 0 },
      live: [],
      rotations: r?.rotations ?? 0,
      lastRotation: r?.lastRotation,
      everOffloaded: false,
      failureMarks: [],
    };
    this.tunnels.set(key, t);
    this.byAddrs.add(`${sa.proto}|${sa.src}|${sa.dst}`, key);
    this.byReqid.add(`${sa.proto}|${sa.reqid}`, key);
    // The reverse direction names this one.
    for (const k of this.byAddrs.get(`${sa.proto}|${sa.dst}|${sa.src}`)) this.dirty.add(k);
    return t;
  }

  private dropTunnel(t: TunnelTrack): void {
    this.tunnels.delete(t.key);
    this.dirty.delete(t.key);
    if (t.family === 'xfrm') {
      this.byAddrs.delete(`${t.base.proto}|${t.base.src}|${t.base.dst}`, t.key);
      this.byReqid.delete(`${t.base.proto}|${t.base.reqid}`, t.key);
    }
    this.alarms.set(`tunnel:${t.key}`, []);
    this.model.remove('tunnel', t.key);
  }

  private rotation(t: TunnelTrack, r: Omit<Rotation, 'key' | 'family' | 'tunnel' | 'tunnelName'>, family: Rotation['family'] = t.family): Rotation {
    const id = r.newSpi !== undefined ? hex32(r.newSpi) : `key${r.newKeyId ?? ''}`;
    const rot: Rotation = { key: `${t.key}#${id}@${r.time}`, family, tunnel: t.key, tunnelName: t.base.name, ...r };
    t.rotations++;
    t.lastRotation = r.time;
    this.publishRotation(rot);
    return rot;
  }

  private publishRotation(rot: Rotation): void {
    if (!this.model.get('rotation', rot.key)) this.rotationKeys.push(rot.key);
    this.model.upsert('rotation', rot.key, rot);
    this.opts.onRotation?.(rot);
    const max = this.opts.maxRotations ?? 2000;
    while (this.rotationKeys.length > max) this.model.remove('rotation', this.rotationKeys.shift()!);
    const what = rot.newSpi !== undefined ? `spi ${rot.oldSpi !== undefined ? hex32(rot.oldSpi) : '?'} → ${hex32(rot.newSpi)}` : rot.newKeyId !== undefined ? `key-id ${rot.oldKeyId ?? '?'} → ${rot.newKeyId}` : 'key rotated';
    if (rot.state === 'done' && rot.overlapMs !== undefined && rot.overlapMs > 0) return; // the start was logged already
    if (rot.state === 'aborted') {
      this.model.event({ source: 'sascope', type: 'rotation aborted', summary: `${rot.tunnelName}: new SA ${what} went before the old one`, ref: `tunnel:${rot.tunnel}` });
      return;
    }
    this.model.event({ source: 'sascope', type: 'rotation', summary: `${rot.tunnelName}: ${what} (${rot.cause})`, ref: `tunnel:${rot.tunnel}` });
  }

  private retire(t: TunnelTrack, s: SaTrack): void {
    addCounters(t.retired, s);
    s.bytes = 0n;
    s.packets = 0n;
    s.integrityFailed = 0;
    s.replay = 0;
    s.replayWindow = 0;
  }

  private saGone(key: string, at: number, moved = false): void {
    const s = this.sas.get(key);
    if (!s) return;
    this.sas.delete(key);
    const t = this.tunnels.get(s.tunnel);
    const hard = this.hardExpired.delete(key);
    if (!t) return;
    this.retire(t, s);
    t.live = t.live.filter((x) => x.key !== key);
    if (moved) {
      if (t.live.length === 0 && t.rotations === 0 && t.retired.bytes === 0n) this.dropTunnel(t);
      else this.touch(t.key);
      return;
    }
    // The new SA of a rotation went while the old one stays: the rekey failed (e.g. the peer refused it).
    for (const [oldKey, r] of t.open ?? []) {
      if (r.newSpi !== s.spi || !this.sas.has(oldKey)) continue;
      t.open!.delete(oldKey);
      t.rotations = Math.max(0, t.rotations - 1);
      this.publishRotation({ ...r, state: 'aborted', oldGoneAt: undefined });
    }
    const open = t.open?.get(key);
    if (open) {
      t.open!.delete(key);
      this.publishRotation({ ...open, state: 'done', overlapMs: Math.max(0, at - open.time), oldGoneAt: at });
    } else if (t.live.length === 0) {
      t.lastGone = { sa: s, at, cause: hard ? 'hard-expire' : 'manual' };
    }
    if (t.live.length === 0) t.downSince = at;
    this.touch(t.key);
  }

  // ---- ovpn peers and PSP devices

  private peerSeen(p: OnWire<OvpnPeer>): void {
    const key = `ovpn:${p.key}`;
    let t = this.tunnels.get(key);
    const primary = p.keys.find((k) => k.slot === 'primary');
    if (!t) {
      t = {
        key,
        family: 'ovpn',
        base: { name: `${p.device} peer ${p.id}${p.remoteAddress ? ` (${p.remoteAddress})` : ''}`, src: p.localAddress ?? '', dst: p.remoteAddress ?? '' },
        firstSeen: this.now(),
        retired: { bytes: 0n, packets: 0n, integrityFailed: 0, replay: 0, replayWindow: 0 },
        live: [],
        rotations: 0,
          everOffloaded: false,
        failureMarks: [],
      };
      this.tunnels.set(key, t);
    } else {
      const before = t.peer?.keys.find((k) => k.slot === 'primary');
      if (primary && before && primary.keyId !== before.keyId) {
        const wasSecondary = t.peer?.keys.find((k) => k.slot === 'secondary')?.keyId === primary.keyId;
        this.rotation(t, { time: this.now(), cause: wasSecondary ? 'key-swap' : 'new-key', oldKeyId: before.keyId, newKeyId: primary.keyId, state: 'done' });
      }
    }
    t.peer = p;
    t.peerDeletedAt = undefined;
    t.downSince = undefined;
    this.touch(key);
  }

  private peerGone(peerKey: string): void {
    const t = this.tunnels.get(`ovpn:${peerKey}`);
    if (!t) return;
    t.peerDeletedAt = this.now();
    t.downSince = t.peerDeletedAt;
    this.touch(t.key);
  }

  private pspSeen(d: OnWire<PspDevice>): void {
    const before = this.pspRotations.get(d.id);
    this.pspRotations.set(d.id, d.rotations);
    if (before === undefined || d.rotations <= before) return;
    const name = `PSP device ${d.id}${d.ifname ? ` (${d.ifname})` : ''}`;
    const time = d.lastRotation ?? this.now();
    this.publishRotation({ key: `psp:${d.id}#${d.rotations}@${time}`, family: 'psp', tunnel: `psp:${d.id}`, tunnelName: name, time, cause: 'key-rotate', state: 'done' });
  }

  private sourceSeen(s: OnWire<SourceStatus>): void {
    const wanted: AlarmWanted[] = [];
    if (s.state === 'stale') wanted.push({ type: 'source-stale', severity: 'warning', summary: `${s.label} is stale${s.reason ? `: ${s.reason}` : ''}` });
    else if (s.state === 'error') wanted.push({ type: 'source-stale', severity: 'critical', summary: `${s.label} failed${s.reason ? `: ${s.reason}` : ''}` });
    this.alarms.set(`source:${s.id}`, wanted);
  }

  // ---- output

  /** One pass: removals (now that their cause is known), then every dirty tunnel rebuilt. */
  flush(): void {
    this.scheduled = false;
    for (const r of this.removals.splice(0)) this.saGone(r.key, r.at);
    this.hardExpired.clear();
    // At most PUBLISH_BUDGET tunnels per pass: a flush of thousands of SAs (each tunnel down, an alarm,
    // an event) is spread over turns of the event loop instead of holding it (650 ms for 5,000 on the host).
    let n = 0;
    for (const key of this.dirty) {
      if (n++ === PUBLISH_BUDGET) return this.schedule();
      this.dirty.delete(key);
      this.publish(key);
    }
    if (this.settled) for (const resolve of this.settledWaiters.splice(0)) resolve();
  }

  /** Templates that can lead to an SA: by addresses, or by reqid when the template leaves them open. */
  private indexPolicy(p: OnWire<XfrmPolicy>, add: boolean): void {
    for (const tm of p.templates) {
      const byAddr = `${tm.proto}|${tm.src}|${tm.dst}`;
      const byReqid = `${tm.proto}|${tm.reqid}`;
      const open = zeroNet(tm.dst) && tm.reqid !== 0;
      if (add) (open ? this.policiesByReqid.add(byReqid, p.key) : this.policiesByAddrs.add(byAddr, p.key));
      else (open ? this.policiesByReqid.delete(byReqid, p.key) : this.policiesByAddrs.delete(byAddr, p.key));
      // The tunnels it may concern are rebuilt (direction, policy list).
      for (const k of open ? this.byReqid.get(byReqid) : this.byAddrs.get(byAddr)) this.dirty.add(k);
    }
  }

  private direction(t: TunnelTrack): { direction?: string; policies: string[] } {
    if (t.family !== 'xfrm') return { policies: [] };
    const dirs = new Set<string>();
    const keys: string[] = [];
    const candidates = new Set([...this.policiesByAddrs.get(`${t.base.proto}|${t.base.src}|${t.base.dst}`), ...this.policiesByReqid.get(`${t.base.proto}|${t.base.reqid}`)]);
    for (const pk of candidates) {
      const p = this.policies.get(pk);
      if (!p) continue;
      const hit = p.templates.some((tm) => tm.proto === t.base.proto && (tm.reqid === 0 || tm.reqid === t.base.reqid) && ((tm.dst === t.base.dst && tm.src === t.base.src) || (zeroNet(tm.dst) && tm.reqid !== 0)));
      if (hit) {
        keys.push(p.key);
        dirs.add(String(p.dir));
      }
    }
    const direction = t.base.saDir ?? (dirs.has('out') ? 'out' : dirs.has('in') ? 'in' : dirs.has('fwd') ? 'fwd' : undefined);
    return { ...(direction ? { direction } : {}), policies: keys.sort() };
  }

  private tunnelOf(t: TunnelTrack): Tunnel {
    const now = this.now();
    const out: Tunnel = {
      key: t.key,
      family: t.family,
      ...stripSaDir(t.base),
      ...this.direction(t),
      state: 'down',
      sas: t.live.map((s) => s.key),
      firstSeen: t.firstSeen,
      bytes: t.retired.bytes,
      packets: t.retired.packets,
      integrityFailed: t.retired.integrityFailed,
      replayFailed: t.retired.replay,
      replayWindowFailed: t.retired.replayWindow,
      rotations: t.rotations,
      ...(t.lastRotation !== undefined ? { lastRotation: t.lastRotation } : {}),
      alarms: [],
    };
    if (t.family === 'xfrm') {
      for (const s of t.live) {
        out.bytes += s.bytes;
        out.packets += s.packets;
        out.integrityFailed += s.integrityFailed;
        out.replayFailed += s.replay;
        out.replayWindowFailed += s.replayWindow;
      }
      const cur = newest(t.live);
      if (cur) {
        out.state = t.open?.size ? 'rekeying' : 'up';
        out.current = { sa: cur.key, spi: cur.spi, addedAt: cur.addedAt, ...(cur.fingerprint ? { fingerprint: cur.fingerprint } : {}), ...(cur.algorithm ? { algorithm: cur.algorithm } : {}), ...(cur.offload ? { offload: cur.offload } : {}) };
        out.countdown = countdownOf(cur.value);
      }
      for (const k of this.byAddrs.get(`${t.base.proto}|${t.base.dst}|${t.base.src}`)) {
        const x = this.tunnels.get(k);
        if (x && x !== t && x.base.reqid === t.base.reqid) {
          out.reverse = k;
          break;
        }
      }
    } else if (t.peer) {
      const p = t.peer;
      out.bytes = BigInt(p.vpn.rxBytes) + BigInt(p.vpn.txBytes);
      out.packets = BigInt(p.vpn.rxPackets) + BigInt(p.vpn.txPackets);
      out.state = t.peerDeletedAt !== undefined ? 'down' : 'up';
      const primary = p.keys.find((k) => k.slot === 'primary');
      if (primary) out.keyId = primary.keyId;
    }
    this.markFailures(t, out, now);
    out.alarms = this.evaluate(t, out, now);
    return out;
  }

  private markFailures(t: TunnelTrack, tun: Tunnel, now: number): void {
    const last = t.failureMarks[t.failureMarks.length - 1];
    const mark = { t: now, integrity: tun.integrityFailed, replay: tun.replayFailed };
    if (!last) t.failureMarks = [mark]; // not push: that would grow the empty array to 17 slots
    else if (last.integrity !== tun.integrityFailed || last.replay !== tun.replayFailed) t.failureMarks.push(mark);
    const windowStart = now - this.opts.thresholds.failureWindowSeconds * 1000;
    // Keep one mark at or before the window start as the baseline.
    while (t.failureMarks.length > 1 && t.failureMarks[1]!.t <= windowStart) t.failureMarks.shift();
  }

  private evaluate(t: TunnelTrack, tun: Tunnel, now: number): Tunnel['alarms'] {
    const th = this.opts.thresholds;
    const wanted: AlarmWanted[] = [];
    const cd = tun.countdown;
    const cur = newest(t.live);
    if (t.family === 'xfrm') {
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
    } else if (t.peer) {
      if (t.peer.state === 'rekey-needed' && t.peerDeletedAt === undefined) {
        wanted.push({ type: 'ovpn-key-swap-needed', severity: 'warning', summary: `${tun.name}: the kernel asked for a key swap (IV space of the primary key used up)` });
      }
      if (t.peerDeletedAt !== undefined && now - t.peerDeletedAt < th.peerDeletedHoldSeconds * 1000) {
        wanted.push({ type: 'peer-deleted', severity: 'warning', summary: `${tun.name}: the kernel deleted this peer` });
      }
    }
    this.alarms.set(`tunnel:${t.key}`, wanted);
    return wanted.map((w) => w.type);
  }

  private publish(key: string): void {
    const t = this.tunnels.get(key);
    if (!t) return;
    const now = this.now();
    const linger = (this.opts.lingerSeconds ?? 600) * 1000;
    const peerDone = t.family === 'ovpn' && t.peerDeletedAt !== undefined && now - t.peerDeletedAt >= Math.max(linger, this.opts.thresholds.peerDeletedHoldSeconds * 1000);
    if ((t.family === 'xfrm' && t.live.length === 0 && t.downSince !== undefined && now - t.downSince >= linger) || peerDone) {
      this.dropTunnel(t);
      return;
    }
    this.model.upsert('tunnel', key, this.tunnelOf(t));
  }

  /**
   * Clock-driven re-evaluation: countdown thresholds, alarms that change with the clock, failure windows,
   * a down tunnel when its linger time is up. Only those: a mass teardown leaves thousands of down
   * tunnels (alarm "tunnel-down", which the clock does not change) that would otherwise be rebuilt every
   * second for the whole linger time.
   */
  tick(): void {
    const now = this.now();
    const th = this.opts.thresholds;
    const linger = (this.opts.lingerSeconds ?? 600) * 1000;
    for (const t of this.tunnels.values()) {
      const tun = this.model.get('tunnel', t.key) as OnWire<Tunnel> | undefined;
      if (!tun) continue;
      const cd = tun.countdown;
      const near =
        (cd?.hardExpiresAt !== undefined && cd.hardExpiresAt - now <= th.expiringSoonSeconds * 1000) ||
        (cd?.softExpiresAt !== undefined && cd.softExpiresAt <= now) ||
        newest(t.live)?.softExpiredAt !== undefined ||
        tun.alarms.some((a) => CLOCK_ALARMS.has(a)) ||
        t.failureMarks.length > 1 ||
        (t.downSince !== undefined && (t.family === 'ovpn' || now - t.downSince >= linger));
      if (near) this.dirty.add(t.key);
    }
    if (this.dirty.size) this.flush();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.off();
  }
}

/** Tunnels rebuilt in one pass of flush(); the rest wait for the next turn of the event loop. */
const PUBLISH_BUDGET = 1000;

/** Alarms whose state or text change with the clock alone (a countdown, "N s ago", a window, a hold time). */
const CLOCK_ALARMS: ReadonlySet<string> = new Set(['expiring-soon', 'rekey-overdue', 'integrity-failures', 'replay-failures', 'peer-deleted']);

function newest(live: SaTrack[]): SaTrack | undefined {
  return live[0];
}

function stripSaDir(b: TunnelTrack['base']): Omit<TunnelTrack['base'], 'saDir'> {
  const { saDir: _drop, ...rest } = b;
  return rest;
}

// Restart continuity: tunnel counters and rotation counts survive a sascope restart through history. Bytes
// of SAs that are gone are kept ("retired") and added to the live ones, so a tunnel's total never dips.
import { addCounters, type Counters, type TunnelTrack } from './track.ts';

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
  /** Live SAs (and a wireguard peer's live counters) at the time, with their last counters (those gone by the next start are retired then). */
  sas: Array<{ key: string; bytes: string; packets: string; integrityFailed: number; replay: number; replayWindow: number }>;
}

export class Continuity {
  private readonly tunnels = new Map<string, TunnelState>();
  private readonly sas = new Map<string, TunnelState['sas'][number] & { tunnel: string }>();

  /**
   * Counters and rotation counts from history, before the sources start. A tunnel comes back with what
   * it showed at the last stop: the SAs it had then count as retired until the dump finds one still
   * alive, whose live counters then take over (so the total never dips while the first dumps run, even
   * if a client reads it before settle()).
   */
  restore(states: TunnelState[]): void {
    for (const s of states) {
      let total = { bytes: BigInt(s.retiredBytes), packets: BigInt(s.retiredPackets), integrityFailed: s.retiredIntegrity, replay: s.retiredReplay, replayWindow: s.retiredReplayWindow };
      for (const sa of s.sas) {
        this.sas.set(sa.key, { ...sa, tunnel: s.key });
        total = addCounters(total, sa);
      }
      this.tunnels.set(s.key, { ...s, retiredBytes: total.bytes.toString(), retiredPackets: total.packets.toString(), retiredIntegrity: total.integrityFailed, retiredReplay: total.replay, retiredReplayWindow: total.replayWindow });
    }
  }

  /** After the first dumps: SAs that were live at the last stop and are not now stay retired (they died while sascope was down). */
  settle(): void {
    this.sas.clear();
    this.tunnels.clear();
  }

  /** A new tunnel t takes what it had at the last stop: first seen, retired counters, rotations. */
  resumeTunnel(t: TunnelTrack): void {
    const r = this.tunnels.get(t.key);
    if (!r) return;
    t.firstSeen = r.firstSeen;
    t.retired = { bytes: BigInt(r.retiredBytes), packets: BigInt(r.retiredPackets), integrityFailed: r.retiredIntegrity, replay: r.retiredReplay, replayWindow: r.retiredReplayWindow };
    t.rotations = r.rotations;
    t.lastRotation = r.lastRotation;
  }

  /**
   * An SA seen in tunnel t: when it was live at the last stop it is still alive, and its counters are live
   * again, no longer retired — unless they went down (a new SA under the old key). True when it was.
   */
  resumeSa(key: string, t: TunnelTrack, counters: Counters): boolean {
    const restored = this.sas.get(key);
    if (!restored) return false;
    this.sas.delete(key);
    if (restored.tunnel === t.key && BigInt(counters.bytes) >= BigInt(restored.bytes) && BigInt(counters.packets) >= BigInt(restored.packets)) t.retired = addCounters(t.retired, restored, -1);
    return true;
  }
}

/** The state history keeps of a tunnel. */
export function stateOf(t: TunnelTrack): TunnelState {
  return {
    key: t.key,
    firstSeen: t.firstSeen,
    retiredBytes: t.retired.bytes.toString(),
    retiredPackets: t.retired.packets.toString(),
    retiredIntegrity: t.retired.integrityFailed,
    retiredReplay: t.retired.replay,
    retiredReplayWindow: t.retired.replayWindow,
    rotations: t.rotations,
    ...(t.lastRotation !== undefined ? { lastRotation: t.lastRotation } : {}),
    sas: [
      ...t.live.map((s) => ({ key: s.key, bytes: s.bytes.toString(), packets: s.packets.toString(), integrityFailed: s.integrityFailed, replay: s.replay, replayWindow: s.replayWindow })),
      ...(t.counting ? [{ key: t.counting.key, bytes: t.counting.bytes.toString(), packets: '0', integrityFailed: 0, replay: 0, replayWindow: 0 }] : []),
    ],
  };
}

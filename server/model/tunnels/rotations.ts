// Rotations: the log of them (kind 'rotation', capped, one event line each) and how a rotation of SAs is
// detected. A new SA in a tunnel that has one is a rotation, overlapping until the old SA goes; its cause
// comes from what the kernel said before (see RotationCause in server/wire/tunnels.ts).
import type { Model } from '../model.ts';
import type { Rotation, RotationCause } from '../../wire/tunnels.ts';
import { hex32, newest, type SaTrack, type TunnelTrack } from './track.ts';

export class RotationLog {
  private readonly keys: string[] = [];

  constructor(private readonly model: Model, private readonly max: number, private readonly onRotation?: (r: Rotation) => void) {}

  /** A rotation of tunnel t: counted on the tunnel and published (an 'ike' tunnel never rotates: it has no SA). */
  start(t: TunnelTrack, r: Omit<Rotation, 'key' | 'family' | 'tunnel' | 'tunnelName'>, family: Rotation['family'] = t.family as Rotation['family'], name = t.base.name): Rotation {
    const id = r.newSpi !== undefined ? hex32(r.newSpi) : `key${r.newKeyId ?? ''}`;
    const rot: Rotation = { key: `${t.key}#${id}@${r.time}`, family, tunnel: t.key, tunnelName: name, ...r };
    t.rotations++;
    t.lastRotation = r.time;
    this.publish(rot);
    return rot;
  }

  /** A rotation row, new or updated (an overlap that ended, one that was aborted). */
  publish(rot: Rotation): void {
    if (!this.model.get('rotation', rot.key)) this.keys.push(rot.key);
    this.model.upsert('rotation', rot.key, rot);
    this.onRotation?.(rot);
    while (this.keys.length > this.max) this.model.remove('rotation', this.keys.shift()!);
    const what = rot.newSpi !== undefined ? `spi ${rot.oldSpi !== undefined ? hex32(rot.oldSpi) : '?'} → ${hex32(rot.newSpi)}` : rot.newKeyId !== undefined ? `key-id ${rot.oldKeyId ?? '?'} → ${rot.newKeyId}` : 'key rotated';
    if (rot.state === 'done' && rot.overlapMs !== undefined && rot.overlapMs > 0) return; // the start was logged already
    if (rot.state === 'aborted') {
      this.model.event({ source: 'sascope', type: 'rotation aborted', summary: `${rot.tunnelName}: new SA ${what} went before the old one`, ref: `tunnel:${rot.tunnel}` });
      return;
    }
    this.model.event({ source: 'sascope', type: 'rotation', summary: `${rot.tunnelName}: ${what} (${rot.cause})`, ref: `tunnel:${rot.tunnel}` });
  }

  /**
   * A new SA in t (not yet in t.live): a rotation when the tunnel has an SA (overlapping until the old one
   * goes) or lost its last one (done, caused by how it went). `as`: the tunnel's name now, and the operator
   * whose rekey caused it (an overlapping one), if any.
   */
  saArrived(t: TunnelTrack, sa: SaTrack, now: number, as: { name: string; by?: string | undefined } = { name: t.base.name }): void {
    const previous = newest(t.live);
    if (previous) {
      const cause: RotationCause = as.by !== undefined ? 'operator' : previous.softExpiredAt !== undefined ? 'soft-expire' : 'daemon-rekey';
      const r = this.start(t, { time: now, cause, ...(as.by !== undefined ? { by: as.by } : {}), oldSpi: previous.spi, newSpi: sa.spi, oldFingerprint: previous.fingerprint, newFingerprint: sa.fingerprint, state: 'overlapping' }, undefined, as.name);
      (t.open ??= new Map()).set(previous.key, r);
    } else if (t.lastGone) {
      const g = t.lastGone;
      this.start(t, { time: now, cause: g.cause, oldSpi: g.sa.spi, newSpi: sa.spi, oldFingerprint: g.sa.fingerprint, newFingerprint: sa.fingerprint, state: 'done', overlapMs: 0, oldGoneAt: g.at }, undefined, as.name);
    }
  }

  /** The new key's fingerprint may come after the rotation started (an SA completed by UPDSA). */
  saCompleted(t: TunnelTrack, sa: SaTrack): void {
    for (const [old, r] of t.open ?? []) {
      if (r.newSpi === sa.spi && r.newFingerprint === undefined && sa.fingerprint) {
        const upd = { ...r, newFingerprint: sa.fingerprint };
        t.open!.set(old, upd);
        this.model.upsert('rotation', upd.key, upd);
      }
    }
  }

  /**
   * SA s left t (already out of t.live) at `at`: the rotations it was the new SA of are aborted (the rekey
   * failed, e.g. the peer refused it) while their old SA stays; the one it was the old SA of is done.
   */
  saLeft(t: TunnelTrack, s: SaTrack, at: number, isLive: (sa: string) => boolean, hard: boolean): void {
    for (const [oldKey, r] of t.open ?? []) {
      if (r.newSpi !== s.spi || !isLive(oldKey)) continue;
      t.open!.delete(oldKey);
      t.rotations = Math.max(0, t.rotations - 1);
      this.publish({ ...r, state: 'aborted', oldGoneAt: undefined });
    }
    const open = t.open?.get(s.key);
    if (open) {
      t.open!.delete(s.key);
      this.publish({ ...open, state: 'done', overlapMs: Math.max(0, at - open.time), oldGoneAt: at });
    } else if (t.live.length === 0) {
      t.lastGone = { sa: s, at, cause: hard ? 'hard-expire' : 'manual' };
    }
  }
}

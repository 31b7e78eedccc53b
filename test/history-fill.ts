// Fills a sascope history database (server/history, its schema made by a run of sascope) with a week of
// samples for some tunnels, as the sampler would have written them: one row per tunnel per step when its
// counters moved, nothing while sascope was down or the source stale. Used by the tunnel history e2e spec
// and the history-query bench. The week holds a day rhythm of traffic, idle nights (no rows), a crash gap
// after which the totals start again from zero (no saved state), a stale span of the xfrm source, a burst
// of integrity failures with its alarm raised and cleared, and a rotation every hour.
import Database from 'better-sqlite3';

export interface FillTunnel {
  key: string;
  name: string;
  /** Mean bytes per second. */
  rate?: number;
}

export interface FillOptions {
  now: number;
  days?: number;
  stepSeconds?: number;
  /** Hours between rotations. */
  rotateHours?: number;
}

const HOUR = 3600_000;

/** The spans the filled week does not cover (for tests to check): the crash gap and the stale span. */
export function fillSpans(now: number, days = 7) {
  const start = now - days * 86_400_000;
  return {
    start,
    crash: { from: now - 3 * 86_400_000 - 2 * HOUR, to: now - 3 * 86_400_000 },
    stale: { from: now - 30 * HOUR, to: now - 29.5 * HOUR },
    integrity: { from: now - 20 * HOUR, to: now - 19 * HOUR },
  };
}

export function fillHistory(file: string, tunnels: FillTunnel[], o: FillOptions): { samples: number; rotations: number } {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  const days = o.days ?? 7;
  const step = (o.stepSeconds ?? 60) * 1000;
  const rotateEvery = (o.rotateHours ?? 1) * HOUR;
  const sp = fillSpans(o.now, days);
  const end = o.now - 2 * step;
  let samples = 0;
  let rotations = 0;
  db.transaction(() => {
    // The runs before the real ones: a run that crashed (its last write before the gap) and one stopped cleanly.
    const real = db.prepare('SELECT started_at, last_seen, stopped_at, version FROM runs ORDER BY id ASC').all() as Array<{ started_at: number; last_seen: number; stopped_at: number | null; version: string | null }>;
    db.prepare('DELETE FROM runs').run();
    const run = db.prepare('INSERT INTO runs (started_at, last_seen, stopped_at, version) VALUES (?, ?, ?, ?)');
    run.run(sp.start - HOUR, sp.crash.from, null, 'fill');
    run.run(sp.crash.to, (real[0]?.started_at ?? o.now) - 5000, (real[0]?.started_at ?? o.now) - 5000, 'fill');
    for (const r of real) run.run(r.started_at, r.last_seen, r.stopped_at, r.version);
    db.prepare('INSERT INTO stale_spans (source, from_time, to_time) VALUES (?, ?, ?)').run('xfrm-sa', sp.stale.from, sp.stale.to);
    const id = db.prepare('INSERT OR IGNORE INTO tunnel_ids (key) VALUES (?)');
    const idOf = db.prepare('SELECT id FROM tunnel_ids WHERE key = ?');
    const smp = db.prepare('INSERT OR REPLACE INTO samples (tunnel, time, bytes, packets, integrity, replay, rotations) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const rot = db.prepare('INSERT OR REPLACE INTO rotations (key, time, tunnel, family, json) VALUES (?, ?, ?, ?, ?)');
    const alarm = db.prepare('INSERT INTO alarms (key, type, ref, raised_at, cleared_at, json) VALUES (?, ?, ?, ?, ?, ?)');
    tunnels.forEach((t, n) => {
      id.run(t.key);
      const tid = (idOf.get(t.key) as { id: number }).id;
      const mean = t.rate ?? 50_000 * (n + 1);
      let bytes = 0;
      let packets = 0;
      let integrity = 0;
      let count = 0;
      let spi = 0x5000 + n * 0x1000;
      let nextRotation = sp.start + rotateEvery;
      for (let time = sp.start; time <= end; time += step) {
        if ((time > sp.crash.from && time < sp.crash.to) || (time > sp.stale.from && time < sp.stale.to)) continue;
        if (time >= sp.crash.to && time < sp.crash.to + step) bytes = packets = integrity = count = 0; // a restart without saved totals
        const hourOfDay = ((time % 86_400_000) / HOUR + 24) % 24;
        const idle = hourOfDay >= 2 && hourOfDay < 4;
        let moved = false;
        if (!idle) {
          const rate = mean * (1 + 0.8 * Math.sin((2 * Math.PI * hourOfDay) / 24)) * (1 + 0.1 * Math.sin(time / 7_000_000));
          bytes += Math.round((rate * step) / 1000);
          packets += Math.round((rate * step) / 1000 / 1200);
          moved = true;
        }
        if (time >= sp.integrity.from && time < sp.integrity.to) {
          integrity += 5;
          moved = true;
        }
        while (time >= nextRotation) {
          const unseen = (nextRotation > sp.crash.from && nextRotation < sp.crash.to) || (nextRotation > sp.stale.from && nextRotation < sp.stale.to);
          const json = { key: `${t.key}#${spi + 1}@${nextRotation}`, family: 'xfrm', tunnel: t.key, tunnelName: t.name, time: nextRotation, cause: 'soft-expire', oldSpi: spi, newSpi: spi + 1, state: 'done', overlapMs: 2000 };
          if (!unseen) rot.run(json.key, nextRotation, t.key, 'xfrm', JSON.stringify(json));
          if (!unseen) rotations++;
          spi++;
          count++;
          nextRotation += rotateEvery;
          moved = true;
        }
        if (!moved) continue;
        smp.run(tid, time, bytes, packets, integrity, 0, count);
        samples++;
      }
      const a = { key: `integrity-failures:tunnel:${t.key}`, type: 'integrity-failures', severity: 'warning', ref: `tunnel:${t.key}`, summary: `${t.name}: integrity failures`, since: sp.integrity.from };
      alarm.run(a.key, a.type, a.ref, sp.integrity.from, sp.integrity.to, JSON.stringify(a));
    });
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { samples, rotations };
}

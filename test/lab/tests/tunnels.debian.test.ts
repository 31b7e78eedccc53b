// Tunnels and rotations against real strongSwan rekeys (Debian's 7.2 kernel): the initiator rekeys the
// tunnel CHILD_SA every ~30 s (and the transport one by bytes) for LAB_TUNNELS_SECONDS (default 300) while
// pings run; sascope (watching lab-a, history in a data dir) is restarted halfway. Checked against
// `ip -t xfrm monitor SA` and `ip -s xfrm state` as the independent views:
// - each tunnel has one continuous byte count (never goes down, across every rekey and the restart),
//   and it is at least what the current SA alone carried;
// - each rekey is one rotation record (no new SPI twice, consecutive rotations chain old → new), with old
//   and new SPIs, fingerprints and a cause; the number of rotations matches the new SAs the kernel
//   reported while sascope ran;
// - rotations and events from before the restart are still in history after it, with the downtime as a gap.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startServer, type RunningServer } from '../../helpers.ts';
import { cleanupAll, netnsPair, sh, sleep, strongswanPair, waitFor, type StrongswanPair } from '../scenarios/index.ts';
import type { OnWire } from '../../../server/wire/entities.ts';
import type { Rotation, Tunnel } from '../../../server/wire/tunnels.ts';

const RUN = process.env.LAB_RUN ?? '/tmp/sascope-lab';
const DATA = path.join(RUN, 'sascope-tunnels-data');
const SECONDS = Number(process.env.LAB_TUNNELS_SECONDS ?? 300);

let pair: StrongswanPair | undefined;
before(async () => {
  await cleanupAll();
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(DATA, { recursive: true });
  await netnsPair();
});
after(async () => {
  await pair?.down();
  await cleanupAll();
});

const get = async <T>(s: RunningServer, p: string): Promise<T> => {
  const r = await fetch(`${s.url}${p}`);
  assert.equal(r.status, 200, `${p}: ${r.status}`);
  return (await r.json()) as T;
};

/** New SAs as the kernel announced them (`ip -t xfrm monitor SA`), with the kernel message time. */
function newSas(text: string): Array<{ at: number; spi: number; src: string; dst: string; mode: string }> {
  const out: Array<{ at: number; spi: number; src: string; dst: string; mode: string }> = [];
  let at = 0;
  let head: { del: boolean; src: string; dst: string } | undefined;
  for (const line of text.split('\n')) {
    const ts = /^Timestamp: (.+) (\d+) usec/.exec(line);
    if (ts) {
      at = new Date(ts[1]!).getTime() + Number(ts[2]) / 1000;
      continue;
    }
    const h = /^(Deleted |Updated )?src (\S+) dst (\S+)/.exec(line);
    if (h) head = { del: h[1] === 'Deleted ', src: h[2]!, dst: h[3]! };
    const p = /proto esp spi 0x([0-9a-f]+) reqid \d+ mode (\S+)/.exec(line);
    if (p && head && !head.del) out.push({ at, spi: parseInt(p[1]!, 16), src: head.src, dst: head.dst, mode: p[2]! });
  }
  const seen = new Set<number>();
  return out.filter((x) => (seen.has(x.spi) ? false : (seen.add(x.spi), true)));
}

test(`strongSwan rekeying every ~30 s for ${SECONDS} s: continuous tunnel bytes, one rotation per rekey, history across a restart`, { timeout: (SECONDS + 1500) * 1000 }, async () => {
  pair = await strongswanPair({ rekeySeconds: 30 });
  await waitFor('CHILD_SAs installed', async () => /INSTALLED/.test(await pair!.swanctl('a', '--list-sas')), 90_000);
  const mon = spawn('ip', ['netns', 'exec', 'lab-a', 'ip', '-t', 'xfrm', 'monitor', 'SA'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let monText = '';
  mon.stdout!.on('data', (d: Buffer) => (monText += d.toString()));
  const uptime: Array<{ from: number; to: number }> = [];
  const bytesSeen = new Map<string, Array<{ at: number; bytes: bigint; run: number }>>();
  const poll = async (s: RunningServer, run: number) => {
    const { tunnels } = await get<{ tunnels: Array<OnWire<Tunnel>> }>(s, '/api/v1/tunnels');
    for (const t of tunnels.filter((x) => x.family === 'xfrm')) {
      const list = bytesSeen.get(t.key) ?? [];
      list.push({ at: Date.now(), bytes: BigInt(t.bytes), run });
      bytesSeen.set(t.key, list);
    }
    return tunnels;
  };
  const runFor = async (s: RunningServer, run: number, seconds: number) => {
    const from = Date.now();
    while (Date.now() - from < seconds * 1000) {
      await poll(s, run);
      await sleep(5000);
    }
  };
  try {
    let s = await startServer({ args: ['--netns', 'lab-a'], dataDir: DATA, timeoutMs: 600_000 });
    let from = Date.now();
    await runFor(s, 1, SECONDS / 2);
    const before = await get<{ rotations: Array<OnWire<Rotation>> }>(s, '/api/v1/rotations?limit=5000');
    const beforeTunnels = await poll(s, 1);
    uptime.push({ from, to: Date.now() });
    assert.equal(await s.stop(), 0);
    s = await startServer({ args: ['--netns', 'lab-a'], dataDir: DATA, timeoutMs: 600_000 });
    from = Date.now();
    try {
      await runFor(s, 2, SECONDS / 2);
      uptime.push({ from, to: Date.now() });
      const tunnels = await poll(s, 2);
      const { rotations } = await get<{ rotations: Array<OnWire<Rotation>>; truncated: boolean }>(s, '/api/v1/rotations?limit=5000');
      const history = await get<{ gaps: Array<{ from: number; to: number; how: string }> }>(s, '/api/v1/history');
      // `ip -s xfrm state` and the tunnels read back to back, again if a rekey fell between them.
      const consistentViews = async () => {
        for (let i = 0; ; i++) {
          const ip = await sh('ip -s xfrm state', { ns: 'lab-a' });
          const { tunnels: ts } = await get<{ tunnels: Array<OnWire<Tunnel>> }>(s, '/api/v1/tunnels');
          const currentSpis = ts.filter((t) => t.mode === 'tunnel' && t.current).map((t) => t.current!.spi.toString(16).padStart(8, '0'));
          if (currentSpis.every((spi) => ip.includes(`spi 0x${spi} `)) || i >= 5) return { ip, ts };
          await sleep(1000);
        }
      };
      const { ip: ipState, ts: latest } = await consistentViews();

      // History survived the restart: every rotation from the first run is still there, and the downtime is a gap.
      const keys = new Set(rotations.map((r) => r.key));
      for (const r of before.rotations) assert.ok(keys.has(r.key), `rotation ${r.key} from before the restart is kept`);
      assert.equal(history.gaps.length, 1);
      assert.equal(history.gaps[0]!.how, 'clean');
      assert.ok(history.gaps[0]!.from >= uptime[0]!.to - 5000 && history.gaps[0]!.to <= uptime[1]!.from + 1000);

      // The tunnel CHILD_SA ("net", mode tunnel) in both directions.
      const net = tunnels.filter((t) => t.family === 'xfrm' && t.mode === 'tunnel');
      assert.equal(net.length, 2, `two directions of the tunnel CHILD_SA: ${net.map((t) => t.key).join(' ')}`);
      const monSas = newSas(monText);
      for (const t of net) {
        assert.ok(beforeTunnels.some((b) => b.key === t.key), 'the same tunnel before and after the restart');
        // One continuous byte count: never goes down, across rekeys and the restart, and it grows.
        const seq = bytesSeen.get(t.key)!;
        for (let i = 1; i < seq.length; i++) assert.ok(seq[i]!.bytes >= seq[i - 1]!.bytes, `${t.name}: bytes went down ${seq[i - 1]!.bytes} → ${seq[i]!.bytes} (run ${seq[i - 1]!.run} → ${seq[i]!.run})`);
        assert.ok(seq[seq.length - 1]!.bytes > seq[0]!.bytes, `${t.name} carried traffic`);
        const now = latest.find((x) => x.key === t.key)!;
        const spiHex = now.current!.spi.toString(16).padStart(8, '0');
        const m = new RegExp(`proto esp spi 0x${spiHex}[\\s\\S]*?lifetime current:\\s*\\n\\s*(\\d+)\\(bytes\\)`).exec(ipState);
        assert.ok(m, `ip -s xfrm state has the current SA 0x${spiHex}:\n${ipState}`);
        assert.ok(BigInt(now.bytes) >= BigInt(m[1]!), `tunnel bytes ${now.bytes} ≥ current SA's ${m[1]} (ip -s xfrm state)`);

        // Each rekey once: no new SPI twice, consecutive rotations chain (except across the restart).
        const aborted = rotations.filter((r) => r.tunnel === t.key && r.state === 'aborted');
        const rots = rotations.filter((r) => r.tunnel === t.key && r.state !== 'aborted').sort((a, b) => a.time - b.time);
        const list = () => rots.map((r) => `${new Date(r.time).toISOString()} ${r.oldSpi?.toString(16)}→${r.newSpi?.toString(16)} ${r.cause} ${r.state}`).join('\n');
        const newSpis = rots.map((r) => r.newSpi);
        assert.equal(new Set(newSpis).size, newSpis.length, `${t.name}: a rotation recorded twice`);
        for (const r of rots) {
          assert.ok(r.oldSpi !== undefined && r.newSpi !== undefined && r.oldSpi !== r.newSpi, JSON.stringify(r));
          assert.ok(r.oldFingerprint && r.newFingerprint && r.oldFingerprint !== r.newFingerprint, `fingerprints change: ${JSON.stringify(r)}`);
          assert.ok(['soft-expire', 'daemon-rekey', 'hard-expire', 'manual'].includes(r.cause));
        }
        // Every old SPI is an SA the tunnel really had: the one before the first rotation of a run, or a
        // rotation's new SPI (strongSwan may keep several CHILD_SAs of one tunnel alive at once, so the old
        // one of a rotation is the newest alive then, not always the previous rotation's new one).
        const known = new Set<number>();
        for (let i = 0; i < rots.length; i++) {
          const firstOfRun = i === 0 || (rots[i - 1]!.time < uptime[1]!.from && rots[i]!.time >= uptime[1]!.from);
          if (!firstOfRun) assert.ok(known.has(rots[i]!.oldSpi!), `${t.name}: rotation ${i} starts from an SA it had:\n${list()}`);
          known.add(rots[i]!.newSpi!);
        }
        const chained = rots.filter((r, i) => i > 0 && r.oldSpi === rots[i - 1]!.newSpi).length;
        // As many rotations as new SAs the kernel announced for this direction while sascope ran (±1 at each edge).
        const kernelNew = monSas.filter((x) => x.src === t.src && x.dst === t.dst && x.mode === 'tunnel' && uptime.some((u) => x.at >= u.from && x.at <= u.to));
        assert.ok(Math.abs(kernelNew.length - rots.length - aborted.length) <= uptime.length, `${t.name}: ${rots.length} rotations, kernel announced ${kernelNew.length} new SAs while sascope ran`);
        assert.ok(rots.length >= Math.floor(SECONDS / 30) - 3, `${t.name}: ${rots.length} rotations in ${SECONDS} s`);
        assert.equal(t.rotations, rots.length, `${t.name}: the tunnel's rotation count continues across the restart`);
        console.log(`${t.name} (${t.direction ?? '?'}): ${rots.length} rotations (${chained} chained to the previous one, ${aborted.length} aborted rekeys), kernel new SAs while sascope ran: ${kernelNew.length}`);
        console.log(`  first rotations:\n${list().split('\n').slice(0, 5).join('\n')}`);
        console.log(`${t.name}: [${[...new Set(rots.map((r) => r.cause))].join(', ')}], bytes ${seq[0]!.bytes} → ${t.bytes}, overlap ${rots.filter((r) => r.overlapMs !== undefined).map((r) => r.overlapMs).join('/')} ms`);
      }
      assert.ok(rotations.some((r) => r.cause === 'soft-expire'), 'strongSwan rekeys on the kernel soft expire');
    } finally {
      assert.equal(await s.stop(), 0);
    }
  } catch (e) {
    // both charons' view of the rekeys (who sent CREATE_CHILD_SA, which SPIs, kernel expires)
    for (const side of ['a', 'b'] as const) console.log(`charon.log (${side}), last 60 lines:\n${await sh(`tail -n 60 ${pair.runDirs[side]}/run/charon.log`, { allowFail: true })}`);
    throw e;
  } finally {
    mon.kill();
  }
});

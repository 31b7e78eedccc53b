// XFRM acceptance against Debian's 7.2 kernel, iproute2 and strongSwan as the independent views:
// - the SA zoo and a live strongSwan pair: `sascope snapshot --json --netns lab-a` = `ip -s xfrm state` /
//   `ip -s xfrm policy` on every field both show (fingerprints recomputed from the keys iproute2 prints);
// - strongSwan CHILD_SA rekeys (three) reach a WebSocket client of `sascope serve` as NEWSA then DELSA,
//   in order, each within 5 s; the latency from the kernel's message (`ip -t xfrm monitor` timestamps) is
//   printed per rekey and as the median (goal 100 ms, not asserted under emulation);
// - tiny lifetimes (seconds, and bytes pushed by pings) give soft then hard EXPIRE on the WebSocket and in
//   the event log, and the SA goes;
// - the hex of every key used appears nowhere in HTTP, WebSocket, log or snapshot output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LiveClient, projectRoot, startServer, type RunningServer } from '../../helpers.ts';
import { cleanupAll, expiringBytesSA, expiringSA, flushXfrm, netnsPair, saZoo, sh, sleep, strongswanPair, waitFor, type StrongswanPair, type ZooSA } from '../scenarios/index.ts';
import { compareStates, comparePolicies, parseIpPolicy, parseIpState, type SnapPolicy, type SnapSa } from '../scenarios/xfrm-iproute.ts';
import { entityRef, type Delta } from '../../../server/wire/protocol.ts';
import { saKey } from '../../../server/wire/xfrm.ts';

const RUN = process.env.LAB_RUN ?? '/tmp/sascope-lab';
const DATA = path.join(RUN, 'sascope-data');
const keysSeen = new Set<string>();
const outputs: Array<{ what: string; text: string }> = [];

function snapshot(ns = 'lab-a'): { sas: SnapSa[]; policies: SnapPolicy[]; server: { netns: string }; sources: Array<{ id: string; state: string; reason?: string }>; events: Array<{ type: string }> } {
  const text = execFileSync(process.execPath, [path.join(projectRoot, 'server/bin.mjs'), 'snapshot', '--json', '--netns', ns, '--data-dir', DATA], { encoding: 'utf8', maxBuffer: 256 << 20 });
  outputs.push({ what: `sascope snapshot --json --netns ${ns}`, text });
  return JSON.parse(text);
}

async function ipState(ns = 'lab-a'): Promise<string> {
  const t = await sh('ip -s xfrm state', { ns });
  for (const s of parseIpState(t)) for (const a of s.algs) if (a.keyHex) keysSeen.add(a.keyHex);
  return t;
}

/** Snapshot and iproute2 views taken when the SA table did not change around the snapshot. */
async function agreeingViews(ns: string, tries = 3): Promise<{ ours: ReturnType<typeof snapshot>; theirs: string; pols: string; before: string }> {
  for (let i = 0; ; i++) {
    const before = await ipState(ns);
    const ours = snapshot(ns);
    const theirs = await ipState(ns);
    const pols = await sh('ip -s xfrm policy', { ns });
    const spis = (t: string) => parseIpState(t).map((s) => s.spi).sort().join();
    if (spis(before) === spis(theirs) || i >= tries) return { ours, theirs, pols, before };
    await sleep(1000);
  }
}

let secret: Buffer;
let zoo: ZooSA[] = [];

before(async () => {
  await cleanupAll();
  mkdirSync(DATA, { recursive: true });
  await netnsPair();
});

after(async () => {
  await cleanupAll();
});

test('SA zoo: snapshot = ip -s xfrm state and ip -s xfrm policy on every shared field', { timeout: 900_000 }, async () => {
  zoo = await saZoo('lab-a');
  for (const z of zoo) for (const k of z.keys) keysSeen.add(k);
  const { ours, theirs, pols } = await agreeingViews('lab-a');
  secret = readFileSync(path.join(DATA, 'fingerprint.key'));
  assert.equal(secret.length, 32);
  assert.equal(ours.server.netns, 'lab-a');
  assert.equal(ours.sources.find((s) => s.id === 'xfrm-sa')?.state, 'ok', JSON.stringify(ours.sources));
  const parsed = parseIpState(theirs);
  assert.ok(parsed.length >= zoo.length - 1, `iproute2 lists ${parsed.length} SAs`);
  assert.deepEqual(compareStates(ours.sas, parsed, { counters: true, secret }), []);
  assert.deepEqual(comparePolicies(ours.policies, parseIpPolicy(pols)), []);
  // snapshot JSON shape the issue asks for
  const sa = ours.sas.find((s) => s.spi === 0x1003)!;
  assert.equal(typeof sa.spi, 'number');
  assert.equal(sa.proto, 'esp');
  assert.equal(typeof sa.lifetime.current.bytes, 'number');
  assert.equal(typeof sa.lifetime.current.packets, 'number');
  await sh('bash test/lab/scenarios/sa-zoo.sh flush lab-a');
});

let pair: StrongswanPair | undefined;
let server: RunningServer | undefined;

test('strongSwan pair: snapshot = ip -s xfrm state / policy (live rekeys, fingerprints from the real keys)', { timeout: 900_000 }, async () => {
  // Lifetimes long enough that no rekey lands between the two views even on a loaded TCG host (a snapshot
  // can take minutes there); the next test asks charon for a rekey instead of waiting for one.
  pair = await strongswanPair({ rekeySeconds: 1800, traffic: false });
  await waitFor('CHILD_SAs installed', async () => /INSTALLED/.test(await pair!.swanctl('a', '--list-sas')), 60_000);
  const { ours, theirs, pols, before } = await agreeingViews('lab-a');
  // On a loaded host the snapshot can take minutes and charon may change SAs meanwhile: compare the SAs that
  // iproute2 listed both before and after the snapshot (they existed all along), and check that every SA of
  // ours is one iproute2 listed at either time.
  const id = (s: { spi: number; dst: string }) => `${s.spi.toString(16)}/${s.dst}`;
  const earlier = new Set(parseIpState(before).map(id));
  const later = parseIpState(theirs);
  const parsed = later.filter((t) => earlier.has(id(t)));
  const churn = later.length - parsed.length + earlier.size - parsed.length;
  if (churn) {
    const log = await sh(`tail -40 ${pair.runDirs.a}/run/charon.log`, { allowFail: true });
    console.log(`strongSwan changed ${churn} SAs around the snapshot; ${parsed.length} lived through it. swanctl --list-sas:\n${await pair.swanctl('a', '--list-sas')}\ncharon.log (a):\n${log}`);
  }
  assert.ok(parsed.length >= 4, `strongSwan installed ${parsed.length} SAs that lived through the snapshot`);
  const seen = new Set([...earlier, ...later.map(id)]);
  assert.deepEqual(ours.sas.filter((o) => !seen.has(id(o))).map(id), [], 'SAs of ours that iproute2 never listed');
  assert.deepEqual(compareStates(ours.sas.filter((o) => parsed.some((t) => id(t) === id(o))), parsed, { secret }), []);
  assert.deepEqual(comparePolicies(ours.policies, parseIpPolicy(pols)), []);
  // counters move with traffic: ours were read before iproute2's
  for (const t of parsed) {
    const o = ours.sas.find((s) => s.spi === t.spi && s.dst === t.dst)!;
    assert.ok(o.lifetime.current.bytes <= (t.current?.bytes ?? 0), `bytes of spi ${t.spi.toString(16)}`);
  }
  // Each SA's flags already equal iproute2's (compareSas); charon sets af-unspec on some of its SAs, not all
  // (the lab's run at 19:15 found transport-mode ones without it), so: the flag is decoded where it is set.
  assert.ok(ours.sas.some((s) => s.flags.includes('af-unspec')), 'af-unspec is decoded on the strongSwan SAs that carry it');
});

test('strongSwan rekeys reach a WebSocket client as NEWSA then DELSA, in order, each within 5 s of the kernel (latency printed; goal 100 ms)', { timeout: 900_000 }, async () => {
  assert.ok(pair, 'needs the strongSwan pair of the previous test');
  server = await startServer({ args: ['--netns', 'lab-a', '--data-dir', DATA], timeoutMs: 400_000 });
  // the kernel's own timestamps for every SA message, as iproute2 receives them
  const mon = spawn('ip', ['netns', 'exec', 'lab-a', 'ip', '-t', 'xfrm', 'monitor', 'SA'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let monText = '';
  mon.stdout!.on('data', (d: Buffer) => (monText += d.toString()));
  await sleep(1000);
  // A rekey on a running server: every source has started (their first dumps are behind it).
  await waitFor('every source started', async () => {
    const r = await fetch(`${server!.url}/api/v1/sources`);
    const { sources } = (await r.json()) as { sources: Array<{ state: string }> };
    return sources.length > 0 && sources.every((s) => s.state !== 'starting');
  }, 120_000, 250);
  const ws = new LiveClient(server.url);
  await ws.opened();
  await waitFor('snapshot', async () => ws.snapshot(), 30_000, 100);
  // SAs alive on the client: the snapshot, then its deltas
  const alive = () => {
    const keys = new Set(ws.snapshot()!.entities.sa.map((s) => s.key));
    for (const { delta: d } of ws.deltas()) if (d.kind === 'sa' && d.op === 'upsert') keys.add(d.key);
    else if (d.kind === 'sa' && d.op === 'remove') keys.delete(d.key);
    return keys;
  };
  const spiOf = (k: string) => parseInt(/:0x([0-9a-f]{8})/.exec(k)?.[1] ?? '0', 16);
  const figures: Array<{ newMs: number; delMs: number }> = [];
  try {
    // Three real IKEv2 CHILD_SA rekeys, asked of charon one after the other: new SAs, then the old pair
    // deleted. Under TCG one rekey's figure varies by ±50 ms (scheduling of four processes on two vCPUs),
    // so each is printed and the median is the figure.
    for (let round = 0; round < 3; round++) {
      const before = alive();
      const from = ws.deltas().length;
      const mine = () => ws.deltas().slice(from);
      await pair.swanctl('a', '--rekey --child net');
      const del = await waitFor('DELSA of an SA alive before the rekey', async () => mine().find((x) => x.delta.kind === 'sa' && x.delta.op === 'remove' && before.has(x.delta.key)), 90_000, 50);
      const added = mine().filter((x) => x.delta.kind === 'sa' && x.delta.op === 'upsert' && !before.has(x.delta.key));
      assert.ok(added.length > 0, 'a NEWSA before the DELSA');
      assert.ok(added[0]!.at <= del.at, 'NEWSA reached the client before DELSA');
      await sleep(500);
      const kernelAt = monitorTimes(monText);
      const latency = (x: { at: number; delta: Delta }, kind: 'new' | 'del') => {
        const spi = spiOf((x.delta as { key: string }).key);
        const k = kernelAt.find((e) => e.spi === spi && e.kind === kind && e.at <= x.at + 5);
        assert.ok(k, `ip xfrm monitor saw ${kind} spi ${spi.toString(16)}:\n${monText.slice(-3000)}`);
        return x.at - k.at;
      };
      const newMs = latency(added[0]!, 'new');
      const delMs = latency(del, 'del');
      figures.push({ newMs, delMs });
      if (round === 0) {
        // The timeline behind the figures: kernel messages (ip -t xfrm monitor) and WebSocket deltas for the SPIs involved.
        const spis = new Set([...added, del].map((x) => spiOf((x.delta as { key: string }).key)));
        const ours = kernelAt.filter((e) => spis.has(e.spi));
        const t0 = ours[0]?.at ?? 0;
        const saDeltas = mine().filter((x) => x.delta.kind === 'sa' || (x.delta.kind === 'event' && x.delta.op === 'upsert'));
        const lines = [
          ...ours.map((e) => ({ at: e.at, text: `kernel ${e.kind} spi ${e.spi.toString(16)}` })),
          ...saDeltas.map((x) => ({ at: x.at, text: x.delta.kind === 'sa' ? `ws sa ${x.delta.op} spi ${spiOf((x.delta as { key?: string }).key ?? '').toString(16)}` : `ws event ${(x.delta as { value?: { type?: string } }).value?.type} ${(x.delta as { value?: { summary?: string } }).value?.summary ?? ''}` })),
        ].sort((a, b) => a.at - b.at);
        console.log(`rekey timeline (ms from the first kernel message):\n${lines.map((l) => `  ${(l.at - t0).toFixed(1).padStart(8)} ${l.text}`).join('\n')}`);
      }
      console.log(`rekey ${round + 1}: NEWSA → client ${newMs.toFixed(1)} ms, DELSA → client ${delMs.toFixed(1)} ms after the kernel message`);
      // The 100 ms goal is a speed figure (printed; goal on real hardware): under TCG emulation the
      // assertion is that both arrive live, in order.
      assert.ok(newMs <= 5000, `NEWSA latency ${newMs} ms`);
      assert.ok(delMs <= 5000, `DELSA latency ${delMs} ms`);
    }
    const stalls = server.output().split('\n').filter((l) => l.includes('event loop blocked'));
    console.log(`server event-loop stalls over 500 ms so far: ${stalls.length ? `\n${stalls.join('\n')}` : 'none'}`);
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(`strongSwan rekey → WebSocket client, median of ${figures.length}: NEWSA ${med(figures.map((f) => f.newMs)).toFixed(1)} ms, DELSA ${med(figures.map((f) => f.delMs)).toFixed(1)} ms (goal ≤ 100 ms)`);
    for (const m of ws.messages) outputs.push({ what: 'WebSocket', text: JSON.stringify(m.msg) });
  } finally {
    mon.kill();
    ws.close();
  }
  await ipState('lab-a'); // the rekeyed keys join the leak check
});

/** `ip -t xfrm monitor SA` (bookworm's ip wants the upper case) blocks: "Timestamp: <date> <usec> usec" then the message ("Deleted " prefix for DELSA, "Updated " for UPDSA). */
function monitorTimes(text: string): Array<{ at: number; spi: number; kind: 'new' | 'del' }> {
  const out: Array<{ at: number; spi: number; kind: 'new' | 'del' }> = [];
  let at = 0;
  let kind: 'new' | 'del' = 'new';
  for (const line of text.split('\n')) {
    const ts = /^Timestamp: (.+) (\d+) usec/.exec(line);
    if (ts) {
      at = new Date(ts[1]!).getTime() + Number(ts[2]) / 1000;
      continue;
    }
    if (/^(Deleted |Updated )?src /.test(line)) kind = line.startsWith('Deleted') ? 'del' : 'new'; // UPDSA: an inbound SA filled in after GETSPI
    const spi = /proto \S+ spi 0x([0-9a-f]+)/.exec(line);
    if (spi && at) out.push({ at, spi: parseInt(spi[1]!, 16), kind });
  }
  return out;
}

test('tiny lifetimes (seconds and bytes): soft then hard EXPIRE on the WebSocket and in the event log, and the SA goes', { timeout: 300_000 }, async () => {
  assert.ok(server, 'needs the server of the previous test');
  await pair?.down();
  pair = undefined;
  const ws = new LiveClient(server.url);
  await ws.opened();
  await waitFor('snapshot', async () => ws.snapshot(), 30_000, 100);
  try {
    const timed = await expiringSA('lab-a', 2, 4);
    const bytes = await expiringBytesSA('lab-a', 300, 1200);
    for (const k of [...timed.keys, ...bytes.keys]) keysSeen.add(k);
    await bytes.sendTraffic();
    for (const [what, sa] of [['seconds', timed], ['bytes', bytes]] as const) {
      const key = saKey('inet', 'esp', sa.dst, Number(sa.spi));
      const ref = entityRef('sa', key);
      // the event log, over HTTP
      const events = async () => ((await (await fetch(`${server!.url}/api/v1/snapshot`)).json()) as { events: Array<{ type: string; ref?: string; time: number }> }).events.filter((e) => e.ref === ref);
      const evs = await waitFor(`hard EXPIRE (${what})`, async () => {
        const e = await events();
        return e.some((x) => x.type === 'EXPIRE hard') ? e : undefined;
      }, 60_000, 250);
      const types = evs.map((e) => e.type);
      assert.ok(types.includes('NEWSA'), `${what}: ${types.join()}`);
      const soft = evs.find((e) => e.type === 'EXPIRE soft');
      const hard = evs.find((e) => e.type === 'EXPIRE hard')!;
      assert.ok(soft && soft.time < hard.time, `${what}: soft before hard: ${types.join()}`);
      // the kernel's timers put them ~2 s apart; their arrival under TCG on a loaded host is no clock: printed
      console.log(`EXPIRE (${what}): hard ${hard.time - soft.time} ms after soft in the event log`);
      const sas = ((await (await fetch(`${server!.url}/api/v1/sas`)).json()) as { sas: Array<{ key: string }> }).sas;
      assert.ok(!sas.some((s) => s.key === key), `${what}: hard expire removed the SA`);
      // the same events, live on the WebSocket, in order, with the SA's own deltas (the WebSocket may be a
      // message behind the HTTP answer above: wait for the hard EXPIRE there too)
      const ours = () => ws.deltas().filter(({ delta: d }) => (d.kind === 'event' && d.op === 'upsert' && d.value.ref === ref) || (d.kind === 'sa' && d.op !== 'reset' && d.key === key));
      const label = (d: Delta) => (d.kind === 'event' && d.op === 'upsert' ? d.value.type : `${d.kind} ${d.op}`);
      const mine = await waitFor(`hard EXPIRE (${what}) on the WebSocket`, async () => {
        const m = ours();
        return m.some((x) => label(x.delta) === 'EXPIRE hard') ? m : undefined;
      }, 10_000, 100);
      const seq = mine.map((x) => label(x.delta));
      const iSoft = seq.indexOf('EXPIRE soft');
      const iHard = seq.indexOf('EXPIRE hard');
      assert.ok(iSoft >= 0 && iHard > iSoft, `${what}: WebSocket saw ${seq.join(', ')}`);
      assert.ok(seq.lastIndexOf('sa remove') > iSoft, `${what}: the SA's removal reached the client: ${seq.join(', ')}`);
      if (what === 'bytes') {
        // the soft EXPIRE's counters were merged into the SA: past the soft byte limit, short of the hard one
        const atSoft = mine.slice(0, iSoft + 1).reverse().find((x) => x.delta.kind === 'sa' && x.delta.op === 'upsert');
        const cur = atSoft && atSoft.delta.op === 'upsert' ? (atSoft.delta.value as { lifetime: { current: { bytes: string | number } } }).lifetime.current : undefined;
        assert.ok(cur && Number(cur.bytes) >= 300 && Number(cur.bytes) < 1200, `bytes at soft EXPIRE: ${JSON.stringify(cur)}`);
      }
      console.log(`EXPIRE (${what}): ${seq.join(' → ')}`);
    }
    for (const m of ws.messages) outputs.push({ what: 'WebSocket (EXPIRE)', text: JSON.stringify(m.msg) });
  } finally {
    ws.close();
    await flushXfrm('lab-a');
  }
});

test('no key of the lab appears in HTTP, WebSocket, log or snapshot output', { timeout: 300_000 }, async () => {
  assert.ok(server);
  assert.ok(keysSeen.size >= 10, `collected ${keysSeen.size} keys`);
  for (const route of ['/api/v1/snapshot', '/api/v1/sas', '/api/v1/policies', '/api/v1/xfrm-totals', '/api/v1/sources', '/api/v1/events', '/api/v1/tunnels', '/api/v1/rotations', '/api/v1/pfkey', '/metrics']) {
    outputs.push({ what: `GET ${route}`, text: await (await fetch(`${server.url}${route}`)).text() });
  }
  snapshot('lab-a');
  const code = await server.stop();
  outputs.push({ what: 'server log', text: server.output() });
  server = undefined;
  assert.equal(code, 0);
  for (const k of keysSeen) {
    const forms = [k, k.toUpperCase(), Buffer.from(k, 'hex').toString('base64')];
    for (const o of outputs) for (const f of forms) assert.ok(!o.text.includes(f), `key ${k.slice(0, 8)}… found in ${o.what}`);
  }
});

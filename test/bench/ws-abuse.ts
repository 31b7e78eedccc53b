// WebSocket clients that never read, while deltas flow: the server's memory stays bounded (the hub's
// per-client queue, coalescing, then a fresh snapshot once the client drains). Prints the server's peak
// resident memory with N stuck clients; then a reconnect flood; then subscribe and resume floods from
// clients that never read (10 × 3,000 messages with 300 policies in the model: 1.7–2.2 GiB and OOM before
// every send had one bound), with the default rate limit and with it lifted (the bound alone). Needs root
// (XFRM policies in a netns):
//   bash test/netns-run.sh nice -n 10 npx tsx test/bench/ws-abuse.ts [--clients 1000] [--policies 5000] [--rounds 2]
//        [--flooders 10] [--flood-messages 3000] [--flood-policies 300]
import { parseArgs } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { LiveClient, requireTestNetns, sh, startServer } from '../helpers.ts';
import { FLOODS, flood, memoryOf, policyChurn, rawWs, serverMessages, sleep, streamProblem, type RawWs } from '../integration/abuse-kit.ts';

requireTestNetns();
const { values } = parseArgs({ options: { clients: { type: 'string', default: '1000' }, policies: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '2' }, flood: { type: 'string', default: '3000' }, flooders: { type: 'string', default: '10' }, 'flood-messages': { type: 'string', default: '3000' }, 'flood-policies': { type: 'string', default: '300' } } });
const N = Number(values.clients);
const P = Number(values.policies);
const R = Number(values.rounds);

const server = await startServer({ ui: false });
const pid = server.proc.pid!;
try {
  await sleep(1000);
  const base = memoryOf(pid);
  console.log(`server pid ${pid}: RSS at start ${base.rssMB.toFixed(0)} MiB`);

  const stuck: RawWs[] = [];
  const t0 = Date.now();
  for (let i = 0; i < N; i += 100) stuck.push(...(await Promise.all(Array.from({ length: Math.min(100, N - i) }, () => rawWs(server.port, { pauseAfterHandshake: true })))));
  console.log(`${stuck.length} stuck clients (handshake done, never read) in ${Date.now() - t0} ms; statuses ${[...new Set(stuck.map((s) => s.status))].join(',')}`);
  const reader = new LiveClient(server.url);
  await reader.opened();

  let peakRss = memoryOf(pid).rssMB;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, memoryOf(pid).rssMB)), 100);
  const t1 = Date.now();
  const policyDeltas = () => reader.deltas().filter((d) => d.delta.kind === 'policy').length;
  // The flow is over when the model holds what the kernel holds (after the adds: P policies; after the deletes: none).
  const policies = async () => ((await (await fetch(`${server.url}/api/v1/policies`)).json()) as { policies: unknown[] }).policies.length;
  const settle = async (want: number) => {
    for (const until = Date.now() + 300_000; (await policies()) !== want && Date.now() < until; ) await sleep(500);
  };
  let changes = 0;
  for (let r = 0; r < R; r++) {
    changes += await policyChurn(P, 1, 'add');
    await settle(P);
    changes += await policyChurn(P, 1, 'delete');
    await settle(0);
  }
  const resyncs = ((await (await fetch(`${server.url}/api/v1/sources`)).json()) as { sources: Array<{ id: string; resyncs?: number }> }).sources.find((x) => x.id === 'xfrm-policy')?.resyncs;
  const got = policyDeltas();
  const seqEnd = ((await (await fetch(`${server.url}/api/v1/health`)).json()) as { seq: number }).seq;
  await sleep(2000);
  clearInterval(sampler);
  const after = memoryOf(pid);
  console.log(`${changes} policy changes through the kernel in ${((Date.now() - t1) / 1000).toFixed(1)} s; a reading client got ${got} policy deltas (the policy source re-dumped ${resyncs} times after monitor overruns)`);
  console.log(`FIGURE peak server memory with ${N} stuck clients: ${Math.max(peakRss, after.peakMB).toFixed(0)} MiB (VmHWM ${after.peakMB.toFixed(0)}, sampled RSS peak ${peakRss.toFixed(0)}, at start ${base.rssMB.toFixed(0)}, now ${after.rssMB.toFixed(0)}; ${(((after.peakMB - base.rssMB) * 1024) / N).toFixed(0)} KiB per stuck client)`);

  // A stuck client that starts reading gets a fresh snapshot (its deltas were withheld) once it drains.
  const sample = stuck.slice(0, 5);
  const mark = sample.map((s) => s.received().length);
  for (const s of sample) s.socket.resume();
  const tSnap = Date.now();
  const whole = () => sample.filter((s) => !streamProblem(serverMessages(s.received()), seqEnd)).length;
  while (whole() < sample.length && Date.now() - tSnap < 30_000) await sleep(200);
  const fresh = sample.filter((s, i) => s.received(mark[i]).includes('"type":"snapshot"')).length;
  console.log(`${whole()}/${sample.length} stuck clients that started reading caught up (whole stream, current at seq ${seqEnd}) within ${((Date.now() - tSnap) / 1000).toFixed(1)} s; ${fresh} through a fresh snapshot`);
  for (const s of stuck) s.socket.destroy();
  reader.close();
  await sleep(1000);

  // Reconnect flood: connect, get the snapshot, close — many times, 50 at once.
  const before = memoryOf(pid).rssMB;
  const t2 = Date.now();
  let ok = 0;
  const loop = async (k: number) => {
    for (let i = k; i < Number(values.flood); i += 50) {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
      await new Promise<void>((resolve) => {
        ws.once('message', () => {
          ok++;
          ws.close();
        });
        ws.once('close', () => resolve());
        ws.once('error', () => resolve());
      });
    }
  };
  await Promise.all(Array.from({ length: 50 }, (_, k) => loop(k)));
  await sleep(1000);
  const health = (await (await fetch(`${server.url}/api/v1/health`)).json()) as { clients: number };
  console.log(`FIGURE reconnect flood: ${ok}/${values.flood} connect-snapshot-close cycles in ${((Date.now() - t2) / 1000).toFixed(1)} s; server RSS ${before.toFixed(0)} → ${memoryOf(pid).rssMB.toFixed(0)} MiB; clients left ${health.clients}`);
} finally {
  await server.stop();
}

// Subscribe and resume floods: once with the default rate limit, once with it lifted (what the one bound on
// sends and the one pending snapshot hold alone). Stopped at 1 GiB over the baseline (the old hub went on to OOM).
const lifted = mkdtempSync(path.join(tmpdir(), 'sascope-bench-'));
writeFileSync(path.join(lifted, 'config.json'), JSON.stringify({ websocket: { messageBurst: 10_000, messagesPerSecond: 10_000 } }));
for (const [label, args] of [['default rate limit', []], ['rate limit lifted', ['--config', path.join(lifted, 'config.json')]]] as const) {
  sh('ip xfrm policy flush');
  const target = await startServer({ ui: false, args: [...args] });
  try {
    const FP = Number(values['flood-policies']);
    await policyChurn(FP, 1, 'add');
    for (const until = Date.now() + 60_000; ((await (await fetch(`${target.url}/api/v1/policies`)).json()) as { policies: unknown[] }).policies.length !== FP && Date.now() < until; ) await sleep(250);
    for (const [what, message] of FLOODS) {
      const r = await flood(target, {}, { clients: Number(values.flooders), messages: Number(values['flood-messages']), message, budgetMB: 1024, answerMs: 5000 });
      console.log(`FIGURE flood "${what}", ${label}: ${values.flooders} clients × ${values['flood-messages']} messages, ${FP} policies: peak RSS +${r.peakRiseMB.toFixed(0)} MiB over the baseline${r.overBudget ? ' (stopped at the 1 GiB budget)' : ''}; slowest health answer ${r.slowestMs} ms (${r.unanswered} unanswered within 5 s); ${r.letGo}/${values.flooders} flooders let go by the server in ${(r.tookMs / 1000).toFixed(1)} s`);
    }
  } finally {
    await target.stop();
    sh('ip xfrm policy flush');
  }
}

// The foundation end to end against this machine's real kernel (XFRM_USER is built in): a policy
// added with iproute2 reaches a WebSocket client within 1 s; its deletion too. Runs in a throw-away
// netns (npm run test:integration → test/netns-run.sh).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LiveClient, requireTestNetns, sh, startServer, type RunningServer } from '../helpers.ts';
import type { Delta } from '../../server/wire/protocol.ts';

requireTestNetns();

let server: RunningServer;
before(async () => {
  sh('ip xfrm policy flush');
  server = await startServer();
});
after(async () => {
  assert.equal(await server.stop(), 0, 'SIGTERM gives a clean exit');
});

test('snapshot first, then a policy add and delete arrive as deltas within 1 s', async () => {
  const c = new LiveClient(server.url);
  await c.opened();
  await c.waitForDelta(() => false, 300).catch(() => undefined);
  const snap = c.snapshot();
  assert.ok(snap, 'the first message is a snapshot');
  assert.equal(c.messages[0]!.msg.type, 'snapshot');
  const xfrm = snap.entities.source.find((s) => s.id === 'xfrm-policy');
  assert.equal(xfrm?.state, 'ok');

  const t0 = performance.timeOrigin + performance.now();
  sh('ip xfrm policy add src 10.11.0.0/16 dst 10.12.0.0/16 proto udp dport 4500 dir out priority 77 mark 0x2a mask 0xff tmpl src 192.0.2.10 dst 192.0.2.20 proto esp mode tunnel reqid 42');
  const added = await c.waitForDelta((d) => d.kind === 'policy' && d.op === 'upsert' && d.value.selector.src === '10.11.0.0/16', 1000);
  assert.ok(added.at - t0 < 1000, `arrived after ${Math.round(added.at - t0)} ms`);
  assert.equal(added.delta.op, 'upsert');
  if (added.delta.op !== 'upsert' || added.delta.kind !== 'policy') throw new Error('unreachable');
  const p = added.delta.value;
  // Cross-check with iproute2's own words.
  const ipText = sh('ip xfrm policy list');
  assert.match(ipText, /src 10\.11\.0\.0\/16 dst 10\.12\.0\.0\/16 proto udp dport 4500/);
  assert.equal(p.selector.dst, '10.12.0.0/16');
  assert.equal(p.selector.proto, 'udp');
  assert.equal(p.selector.dport, 4500);
  assert.equal(p.dir, 'out');
  assert.equal(p.priority, 77);
  assert.deepEqual(p.mark, { value: 0x2a, mask: 0xff });
  assert.equal(p.templates.length, 1);
  assert.equal(p.templates[0]!.reqid, 42);
  assert.equal(p.templates[0]!.mode, 'tunnel');
  assert.equal(p.templates[0]!.dst, '192.0.2.20');

  const t1 = performance.timeOrigin + performance.now();
  sh('ip xfrm policy delete src 10.11.0.0/16 dst 10.12.0.0/16 proto udp dport 4500 dir out mark 0x2a mask 0xff');
  const removed = await c.waitForDelta((d) => d.kind === 'policy' && d.op === 'remove' && d.key === p.key, 1000);
  assert.ok(removed.at - t1 < 1000);

  // The event log has both (an event may come in the message after its entity's delta: the hub sends
  // the first changes of a burst at once, each alone).
  const isEvent = (type: string) => (d: Delta) => d.kind === 'event' && d.op === 'upsert' && d.value.type === type;
  await c.waitForDelta(isEvent('NEWPOLICY'), 1000);
  await c.waitForDelta(isEvent('DELPOLICY'), 1000);
  // Sequence numbers strictly increase across everything received.
  const seqs = c.deltas().map((d) => d.delta.seq);
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, 'strictly increasing seq');
  c.close();
});

test('a client that reconnects with its last seq gets exactly what it missed', async () => {
  const a = new LiveClient(server.url);
  await a.opened();
  await a.waitForDelta(() => false, 300).catch(() => undefined);
  const seq = a.snapshot()!.seq;
  a.close();
  sh('ip xfrm policy add src 10.21.0.0/16 dst 10.22.0.0/16 dir in priority 5');
  await new Promise((r) => setTimeout(r, 300));
  const { default: WebSocket } = await import('ws');
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?since=${seq}`);
  const first = await new Promise<{ type: string; deltas?: Array<{ seq: number; kind: string }> }>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));
  assert.equal(first.type, 'deltas', 'missed deltas, not a snapshot');
  assert.equal(first.deltas![0]!.seq, seq + 1, 'starts right after the last seen seq');
  assert.ok(first.deltas!.some((d) => d.kind === 'policy'));
  ws.close();
  sh('ip xfrm policy delete src 10.21.0.0/16 dst 10.22.0.0/16 dir in');
});

test('sascope snapshot --json lists the kernel policies and exits 0', () => {
  sh('ip xfrm policy add src 10.31.0.0/24 dst 10.32.0.0/24 dir fwd priority 9 tmpl src 192.0.2.1 dst 192.0.2.2 proto esp mode tunnel');
  const out = sh(`${process.execPath} server/bin.mjs snapshot --json`);
  const snap = JSON.parse(out) as { policies: Array<{ selector: { src: string }; dir: string }>; sources: Array<{ id: string; state: string }>; sas: unknown[] };
  assert.ok(Array.isArray(snap.sas));
  assert.ok(snap.policies.some((p) => p.selector.src === '10.31.0.0/24' && p.dir === 'fwd'));
  assert.equal(snap.sources.find((s) => s.id === 'link')?.state, 'ok');
  sh('ip xfrm policy flush');
});

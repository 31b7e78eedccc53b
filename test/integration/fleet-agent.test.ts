// `sascope agent` against a real nats-server (started here on 127.0.0.1, random port, JetStream in a
// temporary store), watching a throw-away netns with --netns, read back with a plain NATS client: the
// host record, the snapshot chunks joined equal to what `sascope snapshot --netns` reads, contiguous delta
// batches with message ids, a republish deduplicated, heartbeats, a NATS restart (reconnect and a fresh
// snapshot), and a killed agent restarted as a new boot. The NATS connection must be opened in the
// namespace the agent was started in: the watched namespace's 127.0.0.1 has no NATS server.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import path from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { projectRoot, requireTestNetns } from '../helpers.ts';
import { makeNetns, plainClient, startAgent, startNatsServer, streamMessages, until, type RunningAgent, type TestNatsServer } from '../fleet-helpers.ts';
import {
  ALIVE_BUCKET, AliveRecord, CHUNK_BYTES, DeltaBatch, HEADER, HOSTS_BUCKET, HostRecord, STREAM, hostSubject, joinSnapshot, parseChunkHeader, snapMsgId, type SnapshotDocument,
} from '../../server/fleet/protocol.ts';

requireTestNetns();
const HOST = 'gw1';
const CONFIG = { fleet: { heartbeatSeconds: 0.5 } };
let nats: TestNatsServer;
let ns: ReturnType<typeof makeNetns>;
let agent: RunningAgent;
let nc: NatsConnection;
let jsm: JetStreamManager;
let hosts: KV;
let alive: KV;

before(async () => {
  nats = await startNatsServer();
  ns = makeNetns(`fleet-agent-${process.pid}`);
  ns.exec(['ip', 'link', 'add', 'f1veth0', 'type', 'veth', 'peer', 'name', 'f1veth1']);
  policy('add', '10.1.0.0/16');
  agent = startAgent({ nats: nats.url, host: HOST, netns: ns.name, config: CONFIG });
  ({ nc, jsm } = await plainClient(nats.url));
});

after(async () => {
  await agent?.stop();
  await nc?.close();
  await nats?.stop();
  ns?.del();
});

function policy(op: 'add' | 'delete', src: string): void {
  ns.exec(['ip', 'xfrm', 'policy', op, 'src', src, 'dst', '10.2.0.0/16', 'dir', 'out', ...(op === 'add' ? ['ptype', 'main'] : [])]);
}

async function hostRecord(): Promise<HostRecord | undefined> {
  hosts ??= await new Kvm(nc).open(HOSTS_BUCKET);
  const e = await hosts.get(HOST);
  return e ? HostRecord.parse(e.json()) : undefined;
}

/** The snapshot a host record points at: its chunks (checked one by one) joined. */
async function snapshotOf(r: HostRecord): Promise<{ doc: SnapshotDocument; chunks: StoredMsg[] }> {
  const chunks = (await streamMessages(jsm, hostSubject(HOST, 'snap'), r.snap.firstStreamSeq)).slice(0, r.snap.chunks);
  assert.equal(chunks.length, r.snap.chunks);
  assert.equal(chunks[0]!.seq, r.snap.firstStreamSeq);
  for (const [i, m] of chunks.entries()) {
    assert.deepEqual(parseChunkHeader(m.header.get(HEADER.chunk)), { i, n: r.snap.chunks });
    assert.equal(m.header.get(HEADER.snap), `${r.boot}.${r.snap.seq}`);
    assert.equal(m.header.get(HEADER.msgId), snapMsgId(HOST, r.boot, r.snap.seq, i));
    assert.equal(m.header.get(HEADER.proto), '1');
    assert.ok(m.data.length <= CHUNK_BYTES);
  }
  const doc = joinSnapshot(chunks.map((m) => m.data));
  assert.equal(doc.boot, r.boot);
  assert.equal(doc.seq, r.snap.seq);
  assert.equal(chunks.reduce((s, m) => s + m.data.length, 0), r.snap.bytes);
  return { doc, chunks };
}

type Row = Record<string, unknown> & { key: string };
const srcs = (rows: readonly Row[] | undefined) => (rows ?? []).map((p) => (p['selector'] as { src: string }).src).sort();

/** The delta batches of a boot after a snapshot, checked contiguous with their ids, applied to its rows. */
async function applyDeltas(r: HostRecord, doc: SnapshotDocument): Promise<{ batches: StoredMsg[]; rows: Map<string, Map<string, Row>>; through: number }> {
  const rows = new Map<string, Map<string, Row>>();
  for (const [kind, list] of Object.entries(doc.entities)) rows.set(kind, new Map((list as Row[]).map((x) => [x.key, x])));
  let through = r.snap.seq;
  const batches: StoredMsg[] = [];
  for (const m of await streamMessages(jsm, hostSubject(HOST, 'delta'), r.snap.firstStreamSeq)) {
    const b = DeltaBatch.parse(m.json());
    if (b.boot !== r.boot || b.through <= r.snap.seq) continue;
    assert.equal(b.from, through + 1, `batch ${b.from}..${b.through} follows ${through} without a hole or an overlap`);
    assert.equal(m.header.get(HEADER.msgId), `${HOST}.${r.boot}.${b.through}`);
    assert.equal(m.header.get(HEADER.proto), '1');
    through = b.through;
    batches.push(m);
    for (const d of b.deltas) {
      const t = rows.get(d.kind) ?? rows.set(d.kind, new Map()).get(d.kind)!;
      if (d.op === 'upsert') t.set(d.key, d.value as Row);
      else t.delete(d.key);
    }
  }
  return { batches, rows, through };
}

test('the agent connects from its own namespace and publishes a snapshot of the watched one, equal to `sascope snapshot`', async () => {
  const r = await until('the host record in KV', hostRecord);
  assert.equal(r.host, HOST);
  assert.equal(r.proto, 1);
  // The process (its main thread) stayed in our namespace: there 127.0.0.1 is the NATS server's.
  assert.equal(readlinkSync(`/proc/${agent.proc.pid}/ns/net`), readlinkSync('/proc/self/ns/net'));
  const { doc } = await snapshotOf(r);
  assert.equal(doc.server.netns, ns.name);
  assert.deepEqual((doc.entities.link as Row[]).map((l) => l['name']).sort(), ['f1veth0', 'f1veth1', 'lo'], 'the links are the watched namespace\'s');
  assert.deepEqual(srcs(doc.entities.policy as Row[]), ['10.1.0.0/16']);
  const nats = (doc.entities.source as Row[]).find((s) => s.key === 'nats');
  assert.equal(nats?.['state'], 'ok');
  const once = spawnSync(process.execPath, [path.join(projectRoot, 'server/bin.mjs'), 'snapshot', '--json', '--netns', ns.name, '--data-dir', agent.dataDir], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(once.status, 0, once.stderr);
  const byKey = (rows: Row[]) => [...rows].sort((a, b) => a.key.localeCompare(b.key));
  assert.deepEqual(byKey(doc.entities.policy as Row[]), byKey((JSON.parse(once.stdout) as { policies: Row[] }).policies));
});

test('changes go out as contiguous delta batches with message ids; applied to the snapshot they give the kernel\'s policies', async () => {
  const r = (await hostRecord())!;
  const { doc } = await snapshotOf(r);
  for (const src of ['10.3.0.0/16', '10.4.0.0/16', '10.5.0.0/16']) policy('add', src);
  policy('delete', '10.1.0.0/16');
  const want = ['10.3.0.0/16', '10.4.0.0/16', '10.5.0.0/16'];
  const got = await until('the policy changes in delta batches', async () => {
    const a = await applyDeltas(r, doc);
    return srcs([...(a.rows.get('policy')?.values() ?? [])]).join() === want.join() ? a : undefined;
  });
  assert.ok(got.batches.length >= 1);
});

test('a delta batch published again with its message id is dropped as a duplicate', async () => {
  const r = (await hostRecord())!;
  const { doc } = await snapshotOf(r);
  const { batches } = await applyDeltas(r, doc);
  const last = batches[batches.length - 1]!;
  const before = (await jsm.streams.info(STREAM)).state.last_seq;
  const ack = await jetstream(nc).publish(last.subject, last.data, { msgID: last.header.get(HEADER.msgId) });
  assert.equal(ack.duplicate, true);
  assert.equal(ack.seq, last.seq);
  assert.ok((await jsm.streams.info(STREAM)).state.last_seq >= before);
  assert.equal((await streamMessages(jsm, last.subject, last.seq + 1)).filter((m) => m.header.get(HEADER.msgId) === last.header.get(HEADER.msgId)).length, 0);
});

test('heartbeats in KV every fleet.heartbeatSeconds with the boot, the seq and the sources not ok', async () => {
  alive ??= await new Kvm(nc).open(ALIVE_BUCKET);
  const r = (await hostRecord())!;
  const first = AliveRecord.parse((await until('a heartbeat', () => alive.get(HOST).then((e) => e ?? undefined))).json());
  assert.equal(first.boot, r.boot);
  assert.ok(first.seq >= r.snap.seq);
  assert.ok(first.sources.ok >= 3);
  assert.ok(!first.sources.notOk.includes('nats'));
  const next = await until('the next heartbeat', async () => {
    const e = await alive.get(HOST);
    const a = e ? AliveRecord.parse(e.json()) : undefined;
    return a && a.time > first.time ? a : undefined;
  }, 5000);
  assert.ok(next.time - first.time < 3000, `${next.time - first.time} ms between heartbeats`);
});

test('NATS restarted: the agent keeps its kernel view, reconnects and publishes a fresh snapshot', async () => {
  const old = (await hostRecord())!;
  const { doc: oldDoc } = await snapshotOf(old);
  await nats.stop();
  policy('add', '10.6.0.0/16'); // while NATS is away
  for (let i = 0; i < 10; i++) {
    policy('add', '10.9.0.0/16');
    policy('delete', '10.9.0.0/16');
  }
  await new Promise((r) => setTimeout(r, 1000));
  await nats.start();
  const r = await until('a new snapshot after the reconnect', async () => {
    const x = await hostRecord().catch(() => undefined);
    return x && x.snap.seq > old.snap.seq ? x : undefined;
  }, 60_000);
  assert.equal(r.boot, old.boot, 'the same boot: its seqs go on');
  const { doc } = await snapshotOf(r);
  assert.deepEqual(srcs(doc.entities.policy as Row[]), ['10.3.0.0/16', '10.4.0.0/16', '10.5.0.0/16', '10.6.0.0/16']);
  // What piled up went out first, coalesced (the latest change per entity), with no gap up to the new snapshot.
  const a = await applyDeltas(old, oldDoc);
  assert.ok(a.through >= r.snap.seq, `deltas through ${a.through}, snapshot at ${r.snap.seq}`);
  assert.deepEqual(srcs([...a.rows.get('policy')!.values()]), srcs(doc.entities.policy as Row[]));
  assert.ok(a.batches.some((m) => {
    const b = DeltaBatch.parse(m.json());
    return b.deltas.length < b.through - b.from + 1;
  }), 'twenty changes of one policy are not twenty deltas');
  const natsRow = (doc.entities.source as Row[]).find((s) => s.key === 'nats')!;
  assert.equal(natsRow['state'], 'ok');
  assert.ok((natsRow['resyncs'] as number) >= 1, 'the reconnect is counted');
});

test('3000 policies at once: every change in contiguous batches of at most 512 KiB (however they were batched); the next snapshot takes several chunks', async () => {
  const r = (await hostRecord())!;
  const { doc } = await snapshotOf(r);
  const batch = Array.from({ length: 3000 }, (_, i) => `xfrm policy add src 10.${100 + (i >> 8)}.${i & 255}.0/24 dst 10.2.0.0/16 dir out ptype main`).join('\n');
  execFileSync('ip', ['-n', ns.name, '-batch', '-'], { input: batch });
  const got = await until('3004 policies through the deltas', async () => {
    const a = await applyDeltas(r, doc);
    return (a.rows.get('policy')?.size ?? 0) === 3004 ? a : undefined;
  }, 60_000);
  assert.ok(got.batches.every((m) => m.data.length <= CHUNK_BYTES));
});

test('a killed agent started again is a new boot: a fresh snapshot, its own seqs, never mixed with the old ones', async () => {
  const old = (await hostRecord())!;
  await agent.stop('SIGKILL');
  agent = startAgent({ nats: nats.url, host: HOST, netns: ns.name, config: CONFIG, dataDir: agent.dataDir });
  const r = await until('the new boot\'s host record', async () => {
    const x = await hostRecord();
    return x && x.boot !== old.boot ? x : undefined;
  }, 60_000);
  const { doc } = await snapshotOf(r);
  assert.equal(doc.entities.policy?.length, 3004);
  assert.ok(r.snap.chunks > 1, `${r.snap.chunks} chunks of ${r.snap.bytes} bytes`);
  policy('add', '10.7.0.0/16');
  const got = await until('the new boot\'s first deltas', async () => {
    const a = await applyDeltas(r, doc);
    return a.batches.length > 0 && srcs([...(a.rows.get('policy')?.values() ?? [])]).includes('10.7.0.0/16') ? a : undefined;
  });
  const first = DeltaBatch.parse(got.batches[0]!.json());
  assert.equal(first.from, r.snap.seq + 1, 'the new boot\'s deltas follow its own snapshot');
});

test('bad agent input is one clear line and exit 2, before anything starts', () => {
  const run = (args: string[]) => spawnSync(process.execPath, [path.join(projectRoot, 'server/bin.mjs'), 'agent', ...args], { encoding: 'utf8', timeout: 60_000 });
  const cases: Array<[string[], RegExp]> = [
    [['--host', 'gw1'], /agent needs --nats URL/],
    [['--nats', nats.url], /agent needs --host NAME/],
    [['--nats', nats.url, '--host', 'gw.example'], /--host: bad host name 'gw.example'.*no dots/],
    [['--nats', 'http://127.0.0.1:4222', '--host', 'gw1'], /scheme must be nats:\/\/ or tls:\/\//],
    [['--nats', 'nats://u:secret@127.0.0.1:4222', '--host', 'gw1'], /carries credentials/],
    [['--nats', nats.url, '--host', 'gw1', '--nats-user', 'u'], /--nats-user and --nats-password go together/],
    [['--nats', nats.url, '--host', 'gw1', '--nats-creds', '/nonexistent/x.creds'], /--nats-creds \/nonexistent\/x.creds: cannot read it: ENOENT/],
    [['--nats', nats.url, '--host', 'gw1', '--nats-creds', '/dev/null', '--nats-user', 'u', '--nats-password', 'p'], /one way to authenticate/],
    [['--nats', nats.url, '--host', 'gw1', '--nats-nkey', '/dev/null'], /not an nkey seed/],
  ];
  for (const [args, re] of cases) {
    const r = run([...args, '--data-dir', agent.dataDir]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
    assert.ok(!r.stderr.includes('secret'));
  }
});

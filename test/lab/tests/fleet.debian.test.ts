// The fleet against real SAs (issue 20): in the VM, strongSwan rekeys the tunnel CHILD_SA every ~20 s in
// lab-a, a nats-server with JetStream listens on the VM's port 4222, and `sascope agent --netns lab-a`
// (from the tree) publishes to it. On the host, fleet.host.ts runs `sascope serve --fleet` through the
// lab's forward of that port and checks on the console's WebSocket that the VM's tunnels show under its
// host and that a rekey arrives as a rotation. The host part's exit status comes back through the share.
// lab-forward: 4222
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanupAll, netnsPair, requireLab, strongswanPair, waitFor, type StrongswanPair } from '../scenarios/index.ts';
import { natsServerBinary, plainClient, startAgent, type RunningAgent } from '../../fleet-helpers.ts';
import { HOSTS_BUCKET } from '../../../server/fleet/protocol.ts';
import { Kvm } from '@nats-io/kv';

requireLab();
const RUN = process.env.LAB_RUN ?? '/tmp/sascope-lab';
const STORE = path.join(RUN, 'nats-store');
const SHARE = '/run/sascope-lab';
/** The host part's verdict: it needs the console up (tsx start-up, no UI) and a rekey (~20 s) or two. */
const HOST_PART_MS = 15 * 60_000;

let pair: StrongswanPair | undefined;
let nats: ChildProcess | undefined;
let agent: RunningAgent | undefined;
before(async () => {
  await cleanupAll();
  await netnsPair();
});
after(async () => {
  await agent?.stop();
  nats?.kill('SIGTERM');
  await pair?.down();
  await cleanupAll();
});

test('an agent in the VM publishes its strongSwan tunnels; the host\'s fleet console shows them and a rekey as a rotation', { timeout: HOST_PART_MS + 600_000 }, async () => {
  pair = await strongswanPair({ rekeySeconds: 20 });
  await waitFor('CHILD_SAs installed', async () => /INSTALLED/.test(await pair!.swanctl('a', '--list-sas')), 90_000);
  rmSync(STORE, { recursive: true, force: true });
  mkdirSync(STORE, { recursive: true });
  // Every address of the VM: the agent comes over loopback, the host's console through the NIC's forward.
  let natsOut = '';
  nats = spawn(natsServerBinary(), ['-js', '-a', '0.0.0.0', '-p', '4222', '-sd', STORE], { stdio: ['ignore', 'pipe', 'pipe'] });
  nats.stdout!.on('data', (d) => (natsOut += d));
  nats.stderr!.on('data', (d) => (natsOut += d));
  const { nc } = await waitFor('nats-server', () => plainClient('nats://127.0.0.1:4222').catch(() => undefined), 60_000, 1000);
  try {
    agent = startAgent({ nats: 'nats://127.0.0.1:4222', host: 'lab', netns: 'lab-a' });
    // The agent made the stream and buckets and wrote its host record after its first snapshot.
    await waitFor('the agent\'s first snapshot (host record in KV)', async () => {
      const kv = await new Kvm(nc).open(HOSTS_BUCKET).catch(() => undefined);
      return (await kv?.get('lab').catch(() => null))?.value.length ? true : undefined;
    }, 600_000, 2000).catch((err: Error) => {
      throw new Error(`${err.message}\nagent: ${agent!.output().slice(-3000)}\nnats-server: ${natsOut.slice(-2000)}`);
    });
    writeFileSync(path.join(SHARE, 'host-run.fleet'), 'test/lab/tests/fleet.host.ts\n');
    const done = path.join(SHARE, 'host-done.fleet');
    await waitFor('the host part (fleet.host.ts)', async () => existsSync(done), HOST_PART_MS, 2000);
    assert.equal(readFileSync(done, 'utf8').trim(), '0', `the host's console part failed (its output is above, prefixed [debian host]); agent: ${agent.output().slice(-2000)}`);
  } finally {
    await nc.close();
  }
});

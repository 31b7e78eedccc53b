// ovpn acceptance against the real kernel (Debian's 7.2 with the ovpn module, or the custom build):
// a hub device in mp mode with two peers and keys in both slots shows peers, key-ids and counters that
// move with traffic; a key swap shows as a rotation; deleting a peer reaches a WebSocket client as a
// peer-del-ntf event with its reason within 5 s (the latency is printed; 100 ms is the goal on real
// hardware, not asserted under emulation). The kernel's YNL CLI is the independent view.
// SASCOPE_LAB_CAPTURE=1 also prints raw replies and notifications as fixture material.
import { test, before, after } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { LiveClient, getJson, startServer, type RunningServer } from '../../helpers.ts';
import { ovpnHub, ynl, type OvpnHub } from '../scenarios/ovpn.ts';
import { GenlClient, type GenlMessage } from '../../../server/genl/client.ts';
import { ovpnFamily } from '../../../server/families/ovpn/spec.ts';
import { keyGetRequest, peerDumpRequest } from '../../../server/families/ovpn/peer.ts';
import { encodeMessage } from '../../../server/netlink/message.ts';
import type { EntityKinds } from '../../../server/wire/protocol.ts';

type Peer = EntityKinds['ovpn-peer'];
type Dev = EntityKinds['ovpn-dev'];

let pair: OvpnHub;
let server: RunningServer;

const ovpnState = () => getJson<{ devices: Dev[]; peers: Peer[] }>(`${server.url}/api/v1/ovpn`);

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}: ${JSON.stringify(await ovpnState())}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const peerOf = async (id: number) => (await ovpnState()).peers.find((p) => p.ifindex === pair.hub.ifindex && p.id === id);

before(async () => {
  pair = await ovpnHub({ spokes: 2 });
  server = await startServer({ timeoutMs: 400_000 });
});

after(async () => {
  if (server) assert.equal(await server.stop(), 0, 'SIGTERM gives a clean exit');
  pair?.close();
});

test('ovpn: the hub device, both peers with every attribute, key-ids of both slots — as YNL sees them', async () => {
  const { devices } = await until('the hub device', async () => {
    const s = await ovpnState();
    return s.devices.some((d) => d.ifindex === pair.hub.ifindex && d.peers === 2) ? s : undefined;
  });
  const dev = devices.find((d) => d.ifindex === pair.hub.ifindex)!;
  assert.equal(dev.name, 'ovpn-hub');
  assert.equal(dev.mode, 'mp');
  const peers = await until('keys of both peers', async () => {
    const ps = (await ovpnState()).peers.filter((p) => p.ifindex === pair.hub.ifindex);
    return ps.length === 2 && ps.every((p) => p.keys.length === 2) ? ps : undefined;
  });
  const kernel = ynl('ovpn', '--dump', 'peer-get', '--json', JSON.stringify({ ifindex: pair.hub.ifindex })) as Array<{ peer: Record<string, unknown> }>;
  assert.equal(kernel.length, 2);
  for (const s of pair.spokes) {
    const p = peers.find((x) => x.id === s.peerId)!;
    const k = kernel.find((x) => x.peer['id'] === s.peerId)!.peer;
    assert.equal(p.remoteAddress, s.remoteAddress);
    assert.equal(p.remoteAddress, k['remote-ipv4']);
    assert.equal(p.remotePort, s.remotePort);
    assert.equal(p.vpnIPv4, s.vpnAddress);
    assert.equal(p.vpnIPv4, k['vpn-ipv4']);
    assert.equal(p.localAddress, k['local-ipv4']);
    assert.equal(p.localPort, pair.hub.localPort);
    assert.equal(p.keepaliveIntervalSeconds, 5);
    assert.equal(p.keepaliveTimeoutSeconds, 120);
    assert.equal(p.txId, k['tx-id']);
    assert.deepEqual(p.keys, [{ slot: 'primary', keyId: 1, cipher: 'aes-gcm' }, { slot: 'secondary', keyId: 2, cipher: 'aes-gcm' }]);
    assert.equal(p.state, 'ok');
    const ky = ynl('ovpn', '--do', 'key-get', '--json', JSON.stringify({ ifindex: pair.hub.ifindex, keyconf: { 'peer-id': s.peerId, slot: 'secondary' } })) as { keyconf: Record<string, unknown> };
    assert.equal(ky.keyconf['key-id'], 2);
    assert.equal(ky.keyconf['cipher-alg'], 'aes-gcm');
  }
  assert.equal((await getJson<{ sources: Array<{ id: string; state: string }> }>(`${server.url}/api/v1/sources`)).sources.find((s) => s.id === 'ovpn')?.state, 'ok');

  // A WebSocket client's snapshot carries the same peers and key slots.
  const ws = new LiveClient(server.url);
  await ws.opened();
  const snap = await until('a WebSocket snapshot', async () => ws.snapshot());
  const byId = (ps: Peer[]) => ps.filter((p) => p.ifindex === pair.hub.ifindex).sort((a, b) => a.id - b.id).map((p) => ({ id: p.id, keys: p.keys, remote: p.remoteAddress }));
  assert.deepEqual(byId(snap.entities['ovpn-peer']), byId(peers));
  assert.equal(snap.entities['ovpn-dev'].find((d) => d.ifindex === pair.hub.ifindex)?.peers, 2);
  ws.close();
});

test('ovpn: counters move while traffic flows, and YNL reads at least what sascope shows', async () => {
  const before = (await peerOf(1))!;
  pair.traffic(1, 5);
  const after = await until('peer 1 counters to move', async () => {
    const p = await peerOf(1);
    return p && BigInt(p.vpn.rxPackets) >= BigInt(before.vpn.rxPackets) + 5n && BigInt(p.link.rxBytes) > BigInt(before.link.rxBytes) ? p : undefined;
  });
  assert.ok(BigInt(after.vpn.txPackets) >= BigInt(before.vpn.txPackets) + 5n, 'echo replies went out through the tunnel');
  const k = (ynl('ovpn', '--dump', 'peer-get', '--json', JSON.stringify({ ifindex: pair.hub.ifindex })) as Array<{ peer: Record<string, number> }>).find((x) => x.peer['id'] === 1)!.peer;
  assert.ok(k['vpn-rx-packets']! >= Number(after.vpn.rxPackets), 'YNL reads at least what sascope showed');
});

test('ovpn: a key swap shows as a rotation', async () => {
  const c = new LiveClient(server.url);
  await c.opened();
  await pair.swapKeys(1);
  const ev = await c.waitForDelta((d) => d.kind === 'event' && d.op === 'upsert' && d.value.type === 'key-swap' && d.value.ref === `ovpn-peer:${pair.hub.ifindex}:1`, 10_000);
  if (ev.delta.op !== 'upsert' || ev.delta.kind !== 'event') throw new Error('unreachable');
  assert.match(ev.delta.value.summary, /primary key 1 → 2/);
  const p = (await peerOf(1))!;
  assert.equal(p.rotations, 1);
  assert.deepEqual(p.keys.map((k) => k.keyId), [2, 1]);
  c.close();
});

test('ovpn: deleting a peer reaches a WebSocket client as peer-del-ntf with its reason within 5 s (latency printed; goal 100 ms)', async () => {
  const c = new LiveClient(server.url);
  await c.opened();
  await c.waitForDelta(() => false, 300).catch(() => undefined);
  const t0 = performance.timeOrigin + performance.now();
  await pair.deletePeer(2);
  const ev = await c.waitForDelta((d) => d.kind === 'event' && d.op === 'upsert' && d.value.type === 'peer-del-ntf', 2000);
  const ms = ev.at - t0;
  if (ev.delta.op !== 'upsert' || ev.delta.kind !== 'event') throw new Error('unreachable');
  const inModel = Number(ev.delta.value.time) - t0;
  console.log(`# peer-del-ntf reached the WebSocket client ${ms.toFixed(1)} ms after peer-del was sent (in sascope's model after ${inModel.toFixed(1)} ms)`);
  // The 100 ms goal is a speed figure (printed; the guide keeps speed out of timed tests): under TCG
  // emulation on a shared host the guest runs many times slower. Asserted: it arrives live.
  console.log(`peer-del-ntf → WebSocket client: ${ms.toFixed(1)} ms (goal ≤ 100 ms on real hardware)`);
  assert.ok(ms < 5000, `arrived after ${ms.toFixed(1)} ms`);
  assert.equal(ev.delta.value.summary, 'ovpn-hub: peer 2 deleted, reason userspace');
  const gone = await c.waitForDelta((d) => d.kind === 'ovpn-peer' && d.op === 'remove' && d.key === `${pair.hub.ifindex}:2`, 1000);
  assert.ok(gone);
  c.close();
});

// A capture tool, not a check: it exists only when asked for (SASCOPE_LAB_CAPTURE=1), so a normal run skips nothing.
if (process.env.SASCOPE_LAB_CAPTURE) test('ovpn: fixture capture (SASCOPE_LAB_CAPTURE=1)', async () => {
  const client = await GenlClient.open(ovpnFamily, 'capture');
  const seen: GenlMessage[] = [];
  const mon = client.subscribe({ onMessage: (g) => seen.push(g), onOverrun: () => undefined, onError: () => undefined });
  const print = (name: string, note: string, msgs: Array<{ cmd: number; version: number; attrs: Buffer }>) => {
    console.log(`FIXTURE-BEGIN ${name}`);
    console.log(`# captured in the lab VM by test/lab/tests/ovpn.any.test.ts (ovpnHub: mp hub, 2 peers, keys in both slots): ${note}`);
    console.log(`# kernel: ${execFileSync('uname', ['-r']).toString().trim()}`);
    for (const g of msgs) console.log(encodeMessage(client.family.id, 0, 0, Buffer.concat([Buffer.from([g.cmd, g.version, 0, 0]), g.attrs])).toString('hex'));
    console.log(`FIXTURE-END ${name}`);
  };
  print('peer-get-dump', 'peer-get dump of ovpn-hub', await client.dump('peer-get', peerDumpRequest(pair.hub.ifindex)));
  print('key-get', 'key-get primary and secondary of peer 1', [...(await client.do('key-get', keyGetRequest(pair.hub.ifindex, 1, 0))), ...(await client.do('key-get', keyGetRequest(pair.hub.ifindex, 1, 1)))]);
  await pair.deletePeer(1);
  await new Promise((r) => setTimeout(r, 300));
  print('peer-del-ntf', 'peers group after peer-del of peer 1', seen);
  mon.close();
  client.close();
});

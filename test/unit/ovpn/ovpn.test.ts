// The ovpn source against fake generic netlink and rtnetlink transports: devices from links, peers from
// peer-get dumps, key slots from key-get (an empty slot is ENOENT), notifications, rotations, states and
// bad input. Messages are built from the spec (Documentation/netlink/specs/ovpn.yaml, <linux/ovpn.h>).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttrWriter } from '../../../server/netlink/attr.ts';
import { Model } from '../../../server/model/model.ts';
import { createLogger } from '../../../server/log.ts';
import { Errno } from '../../../server/sys/errno.ts';
import { decodeAttrs } from '../../../server/netlink/spec.ts';
import { OvpnSource } from '../../../server/families/ovpn/source.ts';
import { OVPN_CMD, keyconfAttrs } from '../../../server/families/ovpn/spec.ts';
import { decodeOvpnMessage } from '../../../server/families/ovpn/peer.ts';
import { encodeGenl } from '../../../server/genl/genl.ts';
import { encodeMessage, parseMessages } from '../../../server/netlink/message.ts';
import { nlError } from '../netlink/fake.ts';
import { genlDo, genlDump, genlFake, genlNotification, type GenlRequest } from '../netlink/genl-fake.ts';
import { linkEvent, linkFake, type FakeLink } from '../netlink/link-fake.ts';
import { LinkWatch } from '../../../server/families/link/watch.ts';

const FAMILY = { name: 'ovpn', id: 0x1d, ops: [1, 2, 3, 4, 6, 7, 8, 10], groups: { peers: 9 } };
const log = createLogger('silent');

interface FakePeer {
  id: number;
  rxBytes: bigint;
  /** key-id per slot (0 primary, 1 secondary); absent = empty slot. */
  keys: Array<number | undefined>;
}

function peerAttrs(p: FakePeer): Buffer {
  return new AttrWriter()
    .nest(2, (w) =>
      w
        .u32(1, p.id)
        .u32(24, p.id) // tx-id
        .bytes(8, Buffer.from([10, 8, 0, p.id])) // vpn-ipv4
        .u32(13, 10) // keepalive interval
        .u32(14, 60)
        .bytes(2, Buffer.from([192, 0, 2, p.id])) // remote-ipv4
        .be16(5, 1194)
        .bytes(10, Buffer.from([192, 0, 2, 254])) // local-ipv4
        .be16(12, 1195)
        .u64(16, p.rxBytes) // vpn-rx-bytes (uint, 8 bytes)
        .u32(18, 7) // vpn-rx-packets (uint, 4 bytes)
        .u64(17, 200n)
        .u64(19, 3n)
        .u64(20, 300n)
        .u64(21, 400n)
        .u64(22, 5n)
        .u64(23, 6n)
        .u32(99, 0xabcd), // an attribute newer than the table: kept
    )
    .encode();
}

function keyReply(peerId: number, slot: number, keyId: number): Buffer {
  return new AttrWriter().nest(3, (w) => w.u32(1, peerId).u32(2, slot).u32(3, keyId).u32(4, 1)).encode();
}

function requestedKey(req: GenlRequest): { ifindex: number; peerId: number; slot: number } {
  const d = decodeAttrs(
    { name: 'req', redactUnknown: false, attrs: new Map([[1, { name: 'ifindex', type: 'u32' }], [3, { name: 'keyconf', type: 'nest', nest: keyconfAttrs }]]) },
    req.attrs,
  );
  const k = d['keyconf'] as Record<string, unknown>;
  return { ifindex: d['ifindex'] as number, peerId: k['peer-id'] as number, slot: k['slot'] === 'primary' ? 0 : 1 };
}

interface World {
  links: FakeLink[];
  peers: Map<number, FakePeer[]>;
  peerGet?: (req: GenlRequest) => Buffer[] | Error | undefined;
}

function world(): World {
  return {
    links: [{ index: 1, name: 'lo' }, { index: 5, name: 'ovpn0', kind: 'ovpn', ovpnMode: 1 }],
    peers: new Map([[5, [{ id: 1, rxBytes: 100n, keys: [3, 2] }, { id: 2, rxBytes: 1000n, keys: [0, undefined] }]]]),
  };
}

function start(w: World, opts: { family?: typeof FAMILY | null; maxKeyReadsPerRefresh?: number; refreshIntervalMs?: number } = {}) {
  const genl = genlFake(opts.family === null ? [] : [opts.family ?? FAMILY], (req) => {
    if (req.cmd === OVPN_CMD.PEER_GET) {
      const special = w.peerGet?.(req);
      if (special) return special;
      const ifindex = req.attrs.readUInt32LE(4);
      return genlDump(req, OVPN_CMD.PEER_GET, (w.peers.get(ifindex) ?? []).map(peerAttrs));
    }
    if (req.cmd === OVPN_CMD.KEY_GET) {
      const k = requestedKey(req);
      const p = w.peers.get(k.ifindex)?.find((x) => x.id === k.peerId);
      const id = p?.keys[k.slot];
      if (id === undefined) return [nlError(req.msg, Errno.ENOENT, `cannot extract key from slot ${k.slot} for peer ${k.peerId}`)];
      return genlDo(req, OVPN_CMD.KEY_GET, keyReply(k.peerId, k.slot, id));
    }
    return new Error(`sascope sent ovpn command ${req.cmd}`);
  });
  const model = new Model();
  const src = new OvpnSource(model, log, new LinkWatch({ transport: linkFake(w.links) }), { genlTransport: genl, refreshIntervalMs: opts.refreshIntervalMs ?? 0, maxKeyReadsPerRefresh: opts.maxKeyReadsPerRefresh });
  const refresh = () => (src as unknown as { refresh(): Promise<void> }).refresh();
  return { genl, model, src, refresh };
}

const peer = (model: Model, key: string) => model.get('ovpn-peer', key) as Record<string, any> | undefined;
const events = (model: Model, type: string) => (model.list('event') as Array<{ type: string; summary: string; ref?: string }>).filter((e) => e.type === type);

test('ovpn: devices from rtnetlink, every peer attribute, both key slots (empty slot = ENOENT, not an error)', async () => {
  const { model, src, genl } = start(world());
  await src.start();
  assert.equal(src.status.state, 'ok', src.status.reason);
  const { key: _key, ...dev5 } = model.get('ovpn-dev', '5') as Record<string, unknown>;
  assert.deepEqual(dev5, { ifindex: 5, name: 'ovpn0', operState: 'up', peers: 2, mode: 'mp' });
  assert.equal(model.get('ovpn-dev', '1'), undefined, 'lo is not an ovpn device');
  const p1 = peer(model, '5:1')!;
  assert.deepEqual(
    { ...p1, unknown: undefined },
    {
      key: '5:1', ifindex: 5, device: 'ovpn0', id: 1, txId: 1, vpnIPv4: '10.8.0.1', keepaliveIntervalSeconds: 10, keepaliveTimeoutSeconds: 60,
      remoteAddress: '192.0.2.1', remotePort: 1194, localAddress: '192.0.2.254', localPort: 1195,
      vpn: { rxBytes: '100', txBytes: '200', rxPackets: '7', txPackets: '3' },
      link: { rxBytes: '300', txBytes: '400', rxPackets: '5', txPackets: '6' },
      keys: [{ slot: 'primary', keyId: 3, cipher: 'aes-gcm' }, { slot: 'secondary', keyId: 2, cipher: 'aes-gcm' }],
      state: 'ok', rotations: 0, unknown: undefined,
    },
  );
  assert.deepEqual(p1.unknown, [{ type: 99, nested: false, length: 4, hex: 'cdab0000' }]);
  const p2 = peer(model, '5:2')!;
  assert.deepEqual(p2.keys, [{ slot: 'primary', keyId: 0, cipher: 'aes-gcm' }]);
  assert.equal(p2.keysError, undefined);
  assert.equal(src.status.decodeErrors, 0);
  // Only peer-get and key-get ever leave the process.
  assert.deepEqual([...new Set(genl.genlRequests.map((r) => r.cmd))].sort(), [OVPN_CMD.PEER_GET, OVPN_CMD.KEY_GET]);
  src.stop();
});

test('ovpn: counters move on refresh; a changed primary key-id is a rotation (key-swap), unchanged keys emit nothing', async () => {
  const w = world();
  const { model, src } = start(w);
  await src.start();
  const seqBefore = model.list('event').length;
  await refresh();
  assert.equal(model.list('event').length, seqBefore, 'a refresh with no change adds no event');
  w.peers.get(5)![0]!.rxBytes = 5000n;
  w.peers.get(5)![0]!.keys = [2, 3]; // key-swap: secondary becomes primary
  await refresh();
  const p1 = peer(model, '5:1')!;
  assert.equal(p1.vpn.rxBytes, '5000');
  assert.equal(p1.rotations, 1);
  assert.ok(p1.lastRotation > 0);
  const swaps = events(model, 'key-swap');
  assert.equal(swaps.length, 1);
  assert.match(swaps[0]!.summary, /ovpn0 peer 1: primary key 3 → 2 \(aes-gcm\), secondary 3/);
  src.stop();

  async function refresh() {
    await (src as unknown as { refresh(): Promise<void> }).refresh();
  }
});

test('ovpn: peer-del-ntf removes the peer and logs its reason; key-swap-ntf (key-id as u16) raises rekey-needed; peer-float-ntf moves the endpoint', async () => {
  const w = world();
  const { model, src, refresh } = start(w);
  await src.start();

  src.onNotification({ ...notification(OVPN_CMD.PEER_DEL_NTF, new AttrWriter().u32(1, 5).nest(2, (p) => p.u32(15, 4).u32(1, 2)).encode()) });
  assert.equal(peer(model, '5:2'), undefined);
  const del = events(model, 'peer-del-ntf');
  assert.equal(del.length, 1);
  assert.equal(del[0]!.summary, 'ovpn0: peer 2 deleted, reason transport-disconnect');
  assert.equal(del[0]!.ref, 'ovpn-peer:5:2');
  assert.deepEqual((model.get('ovpn-dev', '5') as any).lastPeerDeleted.reason, 'transport-disconnect');

  // ovpn_nl_key_swap_notify() puts OVPN_A_KEYCONF_KEY_ID with nla_put_u16.
  src.onNotification(notification(OVPN_CMD.KEY_SWAP_NTF, new AttrWriter().u32(1, 5).nest(3, (k) => k.u32(1, 1).u16(3, 3)).encode()));
  assert.equal(peer(model, '5:1')!.state, 'rekey-needed');
  assert.match(events(model, 'key-swap-ntf')[0]!.summary, /peer 1 key 3 exhausted its IV space, renegotiation needed/);
  assert.equal(src.status.decodeErrors, 0);
  // Userspace answers with new keys: the rotation clears the alarm.
  w.peers.set(5, [{ id: 1, rxBytes: 100n, keys: [4, 3] }]);
  await refresh();
  assert.equal(peer(model, '5:1')!.state, 'ok');
  assert.equal(peer(model, '5:1')!.rotations, 1);

  src.onNotification(notification(OVPN_CMD.PEER_FLOAT_NTF, new AttrWriter().u32(1, 5).nest(2, (p) => p.u32(1, 1).bytes(3, Buffer.from('20010db8000000000000000000000001', 'hex')).u32(4, 0).be16(5, 4000)).encode()));
  assert.equal(peer(model, '5:1')!.remoteAddress, '2001:db8::1');
  assert.equal(peer(model, '5:1')!.remotePort, 4000);
  assert.equal(events(model, 'peer-float-ntf')[0]!.summary, 'ovpn0: peer 1 floated to [2001:db8::1]:4000');
  src.stop();
});

test('ovpn: a device appearing and going away over RTNLGRP_LINK', async () => {
  const w = world();
  w.links = [{ index: 1, name: 'lo' }];
  const { model, src } = start(w);
  await src.start();
  assert.equal(src.status.state, 'ok');
  assert.equal(src.status.reason, 'no ovpn device in this network namespace');
  const links = (src as unknown as { links: { onEvent(m: unknown): void } }).links;
  w.links.push({ index: 5, name: 'ovpn0', kind: 'ovpn', ovpnMode: 0 });
  links.onEvent(linkEvent('new', w.links[1]!));
  assert.equal((model.get('ovpn-dev', '5') as any).mode, 'p2p');
  assert.equal(events(model, 'ovpn-dev-new').length, 1);
  assert.equal(src.status.reason, undefined);
  await waitFor(() => peer(model, '5:1') !== undefined);
  links.onEvent(linkEvent('del', w.links[1]!));
  assert.equal(model.get('ovpn-dev', '5'), undefined);
  assert.equal(model.count('ovpn-peer'), 0);
  assert.equal(src.status.reason, 'no ovpn device in this network namespace');
  src.stop();
});

test('ovpn: after stop() + start() (the retry once the module is back) the devices are read again and the refresh runs', async () => {
  const { model, src, genl } = start(world(), { refreshIntervalMs: 10 });
  await src.start();
  assert.ok(model.get('ovpn-dev', '5'));
  src.stop();
  await src.start();
  assert.equal(src.status.state, 'ok');
  assert.ok(model.get('ovpn-dev', '5'), 'the device is still known: the new link watch was dumped');
  assert.ok(peer(model, '5:1') && peer(model, '5:2'));
  const peerDumps = () => genl.genlRequests.filter((r) => r.cmd === OVPN_CMD.PEER_GET).length;
  const n = peerDumps();
  await waitFor(() => peerDumps() >= n + 2);
  src.stop();
});

test('ovpn: family absent (module not loaded or kernel too old) is a state, not a crash', async () => {
  const { src, model } = start(world(), { family: null });
  await src.start();
  assert.equal(src.status.state, 'not-available');
  assert.match(src.status.reason!, /family ovpn not found \(module not loaded or kernel too old\)/);
  assert.equal(model.count('ovpn-peer'), 0);
  src.stop();
});

test('ovpn: no privilege for peer-get (admin-perm) says so', async () => {
  const w = world();
  w.peerGet = (req) => [nlError(req.msg, Errno.EPERM)];
  const { src } = start(w);
  await src.start();
  assert.equal(src.status.state, 'no-permission');
  assert.match(src.status.reason!, /EPERM \(needs CAP_NET_ADMIN\)/);
  src.stop();
});

test('ovpn: a malformed peer in a dump is a DecodeError counted once; the other peers still show', async () => {
  const w = world();
  w.peerGet = (req) => {
    const bad = Buffer.from(peerAttrs({ id: 9, rxBytes: 0n, keys: [] }));
    bad.writeUInt16LE(0xfff0, 4); // the peer nest's first member claims more bytes than there are
    return genlDump(req, OVPN_CMD.PEER_GET, [bad, peerAttrs(w.peers.get(5)![0]!)]);
  };
  const { src, model } = start(w);
  await src.start();
  assert.equal(src.status.state, 'ok');
  assert.equal(src.status.decodeErrors, 1);
  assert.match(src.status.lastDecodeError!, /out of bounds/);
  assert.ok(peer(model, '5:1'));
  src.stop();
});

test('ovpn: key reads per refresh are bounded and go round robin', async () => {
  const w = world();
  w.peers.set(5, [1, 2, 3, 4].map((id) => ({ id, rxBytes: 0n, keys: [id, undefined] })));
  const { src, genl, refresh } = start(w, { maxKeyReadsPerRefresh: 4 }); // two peers a round
  await src.start();
  const keyReqs = () => genl.genlRequests.filter((r) => r.cmd === OVPN_CMD.KEY_GET).length;
  assert.equal(keyReqs(), 4);
  await refresh();
  assert.equal(keyReqs(), 8);
  const peersRead = new Set(genl.genlRequests.filter((r) => r.cmd === OVPN_CMD.KEY_GET).map((r) => requestedKey(r).peerId));
  assert.deepEqual([...peersRead].sort(), [1, 2, 3, 4], 'two rounds cover all four peers');
  src.stop();
});

test('ovpn: key material is never decoded: keydir members keep only their length', () => {
  const secret = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const attrs = new AttrWriter().u32(1, 5).nest(3, (k) => k.u32(1, 1).u32(2, 0).u32(3, 1).u32(4, 1).nest(5, (d) => d.bytes(1, secret).bytes(2, secret.subarray(0, 8))).bytes(30, secret)).encode();
  const m = parseMessages(encodeMessage(FAMILY.id, 0, 1, encodeGenl(OVPN_CMD.KEY_GET, 1, attrs)))[0]!;
  const json = JSON.stringify(decodeOvpnMessage(m), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
  assert.ok(!json.includes('00112233'), json);
  assert.ok(json.includes('"length":16'), 'an unknown keyconf member keeps its length only');
});

function notification(cmd: number, attrs: Buffer) {
  const m = genlNotification(FAMILY.id, cmd, attrs);
  return { cmd, version: 1, attrs: m.payload.subarray(4), name: String(cmd) };
}

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

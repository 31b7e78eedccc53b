// The psp source against fake generic netlink and rtnetlink transports, with messages built from the
// spec (Documentation/netlink/specs/psp.yaml, <linux/psp.h>); the lab test checks a real netdevsim device.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttrWriter } from '../../../server/netlink/attr.ts';
import { Model } from '../../../server/model/model.ts';
import { createLogger } from '../../../server/log.ts';
import { Errno } from '../../../server/sys/errno.ts';
import { GenlClient, RefusedOperationError } from '../../../server/genl/client.ts';
import { PspSource, STATS_NOT_OFFERED } from '../../../server/families/psp/source.ts';
import { PSP_CMD, pspFamily, type PspOp } from '../../../server/families/psp/spec.ts';
import { nlError } from '../netlink/fake.ts';
import { genlDo, genlDump, genlFake, type FakeFamily } from '../netlink/genl-fake.ts';
import { linkFake, type FakeLink } from '../netlink/link-fake.ts';
import { LinkWatch } from '../../../server/families/link/watch.ts';

// <linux/psp.h>: PSP_CMD_RX_ASSOC = 8, PSP_CMD_TX_ASSOC = 9 — the operations sascope must never send.
const FORBIDDEN_ASSOC_CMDS = [8, 9];
const ALL_OPS = [1, 4, 6, 8, 9, 10, 11, 12];
const FAMILY: FakeFamily = { name: 'psp', id: 0x22, ops: ALL_OPS, groups: { mgmt: 11, use: 12 } };
const log = createLogger('silent');

interface Dev {
  id: number;
  ifindex: number;
  cap: number;
  ena: number;
  rotations: bigint;
  /** PSP_A_DEV_ASSOC_LIST entries. */
  assoc?: Array<{ ifindex: number; nsid: number }>;
}

function devAttrs(d: Dev): Buffer {
  const w = new AttrWriter().u32(1, d.id).u32(2, d.ifindex).u32(3, d.cap).u32(4, d.ena);
  for (const a of d.assoc ?? []) w.nest(5, (n) => n.u32(1, a.ifindex).u32(2, a.nsid >>> 0));
  return w.encode();
}
function statsAttrs(d: Dev): Buffer {
  const w = new AttrWriter().u32(1, d.id).u64(2, d.rotations).u64(3, 0n);
  for (let a = 4; a <= 11; a++) w.u64(a, BigInt(a * 10));
  return w.encode();
}

function start(devs: Dev[], opts: { family?: FakeFamily | null; links?: FakeLink[] } = {}) {
  const genl = genlFake(opts.family === null ? [] : [opts.family ?? FAMILY], (req) => {
    if (req.cmd === PSP_CMD.DEV_GET && req.dump) return genlDump(req, PSP_CMD.DEV_GET, devs.map(devAttrs));
    if (req.cmd === PSP_CMD.DEV_GET) {
      const d = devs.find((x) => x.id === req.attrs.readUInt32LE(4));
      return d ? genlDo(req, PSP_CMD.DEV_GET, devAttrs(d)) : [nlError(req.msg, Errno.ENODEV)];
    }
    if (req.cmd === PSP_CMD.GET_STATS && req.dump) return genlDump(req, PSP_CMD.GET_STATS, devs.map(statsAttrs));
    if (req.cmd === PSP_CMD.GET_STATS) {
      const d = devs.find((x) => x.id === req.attrs.readUInt32LE(4));
      return d ? genlDo(req, PSP_CMD.GET_STATS, statsAttrs(d)) : [nlError(req.msg, Errno.ENODEV)];
    }
    return new Error(`sascope sent psp command ${req.cmd}`);
  });
  const model = new Model();
  const links = opts.links ?? [{ index: 1, name: 'lo' }, { index: 3, name: 'eni0np1' }];
  const src = new PspSource(model, log, new LinkWatch({ transport: linkFake(links) }), { genlTransport: genl, statsIntervalMs: 0 });
  return { genl, model, src };
}

// The model may stamp each row with its key; compare the entity itself.
const dev = (model: Model, id: number) => {
  const row = model.get('psp-dev', String(id)) as Record<string, any> | undefined;
  if (!row) return undefined;
  const { key: _key, ...d } = row;
  return d;
};
const events = (model: Model, type: string) => (model.list('event') as Array<{ type: string; summary: string }>).filter((e) => e.type === type);

test('psp: the association operations are refused by construction (forbidden: they hand out key material)', async () => {
  for (const cmd of FORBIDDEN_ASSOC_CMDS) assert.ok(!Object.values(pspFamily.requests).includes(cmd), `command ${cmd} has no entry in the request table`);
  const genl = genlFake([FAMILY], () => new Error('nothing may reach the kernel'));
  const client = await GenlClient.open(pspFamily, 'psp', { transport: genl });
  for (const op of ['rx-assoc', 'tx-assoc', 'dev-set', 'key-rotate', 'dev-assoc', 'constructor', 'toString', '__proto__']) {
    await assert.rejects(client.do(op as PspOp, Buffer.alloc(0)), RefusedOperationError, `${op} is refused`);
    await assert.rejects(client.dump(op as PspOp), RefusedOperationError);
    assert.throws(() => client.offers(op as PspOp), RefusedOperationError);
  }
  assert.equal(genl.genlRequests.length, 0, 'no request reached the psp family');
  assert.equal(client.offers('get-stats'), true);
  client.close();
});

test('psp: dev-get dump with versions by name, the device name from rtnetlink, get-stats', async () => {
  const { model, src, genl } = start([{ id: 1, ifindex: 3, cap: 0xf, ena: 0x1, rotations: 2n }]);
  await src.start();
  assert.equal(src.status.state, 'ok', src.status.reason);
  assert.deepEqual(dev(model, 1), {
    id: 1, ifindex: 3, ifname: 'eni0np1',
    versionsCapable: ['hdr0-aes-gcm-128', 'hdr0-aes-gcm-256', 'hdr0-aes-gmac-128', 'hdr0-aes-gmac-256'],
    versionsEnabled: ['hdr0-aes-gcm-128'],
    associated: [],
    byAssociation: false,
    rotations: 0,
    stats: { keyRotations: '2', staleEvents: '0', rxPackets: '40', rxBytes: '50', rxAuthFail: '60', rxError: '70', rxBad: '80', txPackets: '90', txBytes: '100', txError: '110' },
  });
  assert.deepEqual([...new Set(genl.genlRequests.map((r) => r.cmd))].sort(), [PSP_CMD.DEV_GET, PSP_CMD.GET_STATS]);
  src.stop();
});

test('psp: after stop() + start() (the retry once the module is back) the device keeps its name: the links are dumped again', async () => {
  const { model, src } = start([{ id: 1, ifindex: 3, cap: 0xf, ena: 0x1, rotations: 2n }]);
  await src.start();
  assert.equal(dev(model, 1)!.ifname, 'eni0np1');
  src.stop();
  await src.start();
  assert.equal(src.status.state, 'ok', src.status.reason);
  assert.equal(dev(model, 1)!.ifname, 'eni0np1');
  src.stop();
});

test('psp: a kernel whose family has no get-stats says "not offered by this kernel"', async () => {
  const { model, src, genl } = start([{ id: 1, ifindex: 3, cap: 0xf, ena: 0, rotations: 0n }], { family: { ...FAMILY, ops: [1, 4, 6, 8, 9] } });
  await src.start();
  assert.equal(dev(model, 1)!.statsNote, STATS_NOT_OFFERED);
  assert.match(STATS_NOT_OFFERED, /not offered by this kernel/);
  assert.equal(dev(model, 1)!.stats, undefined);
  assert.ok(!genl.genlRequests.some((r) => r.cmd === PSP_CMD.GET_STATS));
  src.stop();
});

test('psp: no PSP device is an ok state with a clear reason', async () => {
  const { model, src } = start([]);
  await src.start();
  assert.equal(src.status.state, 'ok');
  assert.equal(src.status.reason, 'no PSP device in this network namespace');
  assert.equal(model.count('psp-dev'), 0);
  src.stop();
});

test('psp: family absent is not-available', async () => {
  const { src } = start([], { family: null });
  await src.start();
  assert.equal(src.status.state, 'not-available');
  assert.match(src.status.reason!, /family psp not found/);
  src.stop();
});

test('psp: mgmt and use notifications: dev-change, key-rotate (a rotation, stats re-read), dev-del, dev-add', async () => {
  const devs = [{ id: 1, ifindex: 3, cap: 0xf, ena: 0, rotations: 0n }];
  const { model, src } = start(devs);
  await src.start();
  const ntf = (cmd: number, name: string, attrs: Buffer) => src.onNotification({ cmd, version: 1, attrs, name });

  ntf(PSP_CMD.DEV_CHANGE_NTF, 'dev-change-ntf', devAttrs({ ...devs[0]!, ena: 0x3 }));
  assert.deepEqual(dev(model, 1)!.versionsEnabled, ['hdr0-aes-gcm-128', 'hdr0-aes-gcm-256']);
  assert.match(events(model, 'dev-change-ntf')[0]!.summary, /PSP device 1 \(eni0np1\) changed: enabled hdr0-aes-gcm-128, hdr0-aes-gcm-256 of/);

  devs[0]!.rotations = 1n;
  ntf(PSP_CMD.KEY_ROTATE_NTF, 'key-rotate-ntf', new AttrWriter().u32(1, 1).encode());
  assert.equal(dev(model, 1)!.rotations, 1);
  assert.ok(dev(model, 1)!.lastRotation > 0);
  assert.equal(events(model, 'key-rotate').length, 1);
  await waitFor(() => dev(model, 1)!.stats.keyRotations === '1');

  ntf(PSP_CMD.DEV_DEL_NTF, 'dev-del-ntf', devAttrs(devs[0]!));
  assert.equal(dev(model, 1), undefined);
  assert.equal(src.status.reason, 'no PSP device in this network namespace');

  ntf(PSP_CMD.DEV_ADD_NTF, 'dev-add-ntf', devAttrs({ id: 2, ifindex: 3, cap: 0x1, ena: 0, rotations: 0n }));
  assert.deepEqual(dev(model, 2)!.versionsCapable, ['hdr0-aes-gcm-128']);
  assert.equal(src.status.reason, undefined);
  src.stop();
});

test('psp: associated devices; dev-change-ntf is followed by a dev-get (dev-disassoc notifies before it unlinks)', async () => {
  const devs: Dev[] = [{ id: 1, ifindex: 3, cap: 0xf, ena: 0, rotations: 0n, assoc: [{ ifindex: 7, nsid: -1 }, { ifindex: 2, nsid: 5 }] }];
  const { model, src, genl } = start(devs);
  await src.start();
  assert.deepEqual(dev(model, 1)!.associated, [{ ifindex: 7, nsid: -1 }, { ifindex: 2, nsid: 5 }]);
  const ntf = (attrs: Buffer) => src.onNotification({ cmd: PSP_CMD.DEV_CHANGE_NTF, version: 1, attrs, name: 'dev-change-ntf' });

  // dev-disassoc of ifindex 7: the notification still lists it; the kernel's state afterwards does not.
  const sent = devAttrs(devs[0]!);
  devs[0]!.assoc = [{ ifindex: 2, nsid: 5 }];
  const before = genl.genlRequests.length;
  ntf(sent);
  assert.match(events(model, 'dev-change-ntf')[0]!.summary, /, 2 associated devices$/);
  await waitFor(() => dev(model, 1)!.associated.length === 1);
  assert.deepEqual(dev(model, 1)!.associated, [{ ifindex: 2, nsid: 5 }]);
  assert.ok(genl.genlRequests.slice(before).some((r) => r.cmd === PSP_CMD.DEV_GET && !r.dump), 'a dev-get do-request');

  // A whole device message without assoc-list means none (not "as before").
  devs[0]!.assoc = [];
  ntf(devAttrs(devs[0]!));
  assert.deepEqual(dev(model, 1)!.associated, []);
  assert.equal(dev(model, 1)!.byAssociation, false);
  src.stop();
});

test('psp: a malformed notification is a DecodeError; the source carries on', async () => {
  const { src, model } = start([{ id: 1, ifindex: 3, cap: 0xf, ena: 0, rotations: 0n }]);
  await src.start();
  src.onNotification({ cmd: PSP_CMD.DEV_CHANGE_NTF, version: 1, attrs: Buffer.from([8, 0, 1, 0, 1]), name: 'dev-change-ntf' });
  src.onNotification({ cmd: PSP_CMD.DEV_CHANGE_NTF, version: 1, attrs: new AttrWriter().u32(3, 1).encode(), name: 'dev-change-ntf' });
  assert.equal(src.status.decodeErrors, 2);
  assert.equal(src.status.state, 'ok');
  assert.ok(dev(model, 1));
  src.stop();
});

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

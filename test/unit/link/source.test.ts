// LinkSource on a fake NETLINK_ROUTE transport, into the real Model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinkSource } from '../../../server/families/link/source.ts';
import { Model } from '../../../server/model/model.ts';
import { encodeStruct } from '../../../server/netlink/struct.ts';
import { AttrWriter } from '../../../server/netlink/attr.ts';
import type { NetlinkMessage } from '../../../server/netlink/message.ts';
import { RTM, ifinfomsg } from '../../../server/families/link/spec.ts';
import type { Link, SourceStatus } from '../../../server/wire/entities.ts';
import { fakeTransport, multipart, nlError } from '../netlink/fake.ts';
import { memoryLogger } from '../memlog.ts';
import { LinkWatch } from '../../../server/families/link/watch.ts';

interface L { index: number; name: string; kind?: string; ifId?: number; mtu?: number }

function payload(l: L): Buffer {
  const w = new AttrWriter().string(3, l.name).u32(4, l.mtu ?? 1500).u8(16, 6).bytes(1, Buffer.from([2, 0, 0, 0, 0, l.index]));
  if (l.kind) w.nest(18, (i) => i.string(1, l.kind!).nest(2, (d) => (l.ifId !== undefined ? d.u32(2, l.ifId) : d)));
  return Buffer.concat([encodeStruct(ifinfomsg, { type: 1, index: l.index, flags: 0x1 | 0x40 }), w.encode()]);
}
const ev = (type: number, l: L): NetlinkMessage => ({ type, flags: 0, seq: 0, pid: 0, payload: payload(l) });
const names = (m: Model) => (m.list('link') as Link[]).map((l) => `${l.index}:${l.name}`).sort();
const status = (m: Model) => m.get('source', 'link') as SourceStatus;

function setup(dump: () => L[]) {
  const t = fakeTransport((req) => {
    assert.equal(req.type, RTM.GETLINK);
    return multipart(req, RTM.NEWLINK, dump().map(payload));
  });
  const model = new Model();
  const ml = memoryLogger();
  return { t, model, src: new LinkSource(model, ml.log, new LinkWatch({ transport: t }), { statsIntervalMs: 0 }), ...ml };
}

test('a dump populates the model with decoded links', async () => {
  const { model, src } = setup(() => [{ index: 1, name: 'lo' }, { index: 5, name: 'xfrm0', kind: 'xfrm', ifId: 42 }]);
  await src.start();
  assert.deepEqual(names(model), ['1:lo', '5:xfrm0']);
  const x = model.get('link', '5') as Link;
  assert.equal(x.kind, 'xfrm');
  assert.equal(x.xfrmIfId, 42);
  assert.equal(x.address, '02:00:00:00:00:05');
  assert.deepEqual(x.flags, ['UP', 'RUNNING']);
  assert.equal(status(model).state, 'ok');
  src.stop();
});

test('NEWLINK upserts, DELLINK removes; other rtnetlink types are ignored', async () => {
  const { model, src } = setup(() => [{ index: 1, name: 'lo' }]);
  await src.start();
  src.onEvent(ev(RTM.NEWLINK, { index: 7, name: 'veth0' }));
  src.onEvent(ev(RTM.NEWLINK, { index: 7, name: 'veth0', mtu: 9000 }));
  assert.equal((model.get('link', '7') as Link).mtu, 9000);
  src.onEvent(ev(20 /* RTM_NEWADDR */, { index: 8, name: 'nope' }));
  src.onEvent(ev(RTM.DELLINK, { index: 1, name: 'lo' }));
  assert.deepEqual(names(model), ['7:veth0']);
  src.stop();
});

test('a malformed event is counted and logged once; the next good event works', async () => {
  const { model, src, lines } = setup(() => []);
  await src.start();
  const bad = ev(RTM.NEWLINK, { index: 3, name: 'bad' });
  bad.payload.writeUInt16LE(200, 16); // first IFLA attribute runs past the message
  src.onEvent(bad);
  src.onEvent(bad);
  assert.equal(src.status.decodeErrors, 2);
  assert.equal(lines.filter((l) => String(l['msg']).includes('cannot decode')).length, 1);
  src.onEvent(ev(RTM.NEWLINK, { index: 3, name: 'good' }));
  assert.deepEqual(names(model), ['3:good']);
  src.stop();
});

test('resync after an overrun: a link gone from the second dump is removed', async () => {
  let kernel: L[] = [{ index: 1, name: 'lo' }, { index: 2, name: 'eth0' }];
  const { model, src } = setup(() => kernel);
  await src.start();
  kernel = [{ index: 1, name: 'lo' }, { index: 3, name: 'eth1' }];
  await src.resync('receive buffer overflowed (ENOBUFS)');
  assert.deepEqual(names(model), ['1:lo', '3:eth1']);
  assert.equal(src.status.resyncs, 1);
  src.stop();
});

test('events during a dump are held and applied after it', async () => {
  const pending: NetlinkMessage[] = [];
  const t = fakeTransport((req) => {
    pending.push(req);
    return [];
  });
  const model = new Model();
  const src = new LinkSource(model, memoryLogger().log, new LinkWatch({ transport: t }), { statsIntervalMs: 0 });
  const started = src.start();
  await new Promise((r) => setImmediate(r));
  src.onEvent(ev(RTM.NEWLINK, { index: 9, name: 'new0' }));
  src.onEvent(ev(RTM.DELLINK, { index: 2, name: 'eth0' }));
  assert.deepEqual(names(model), []);
  t.inject(Buffer.concat(multipart(pending[0]!, RTM.NEWLINK, [payload({ index: 1, name: 'lo' }), payload({ index: 2, name: 'eth0' })])));
  await started;
  assert.deepEqual(names(model), ['1:lo', '9:new0']);
  src.stop();
});

test('EPERM at dump → no-permission with "needs CAP_NET_ADMIN"', async () => {
  const t = fakeTransport((req) => [nlError(req, 1)]);
  const model = new Model();
  const src = new LinkSource(model, memoryLogger().log, new LinkWatch({ transport: t }), { statsIntervalMs: 0 });
  await src.start();
  assert.equal(status(model).state, 'no-permission');
  assert.match(status(model).reason ?? '', /rtnetlink: dump links: EPERM \(needs CAP_NET_ADMIN\)/);
  src.stop();
});

// XfrmPolicySource on a fake NETLINK_XFRM transport, into the real Model: dump, events, bad events,
// resync, events held during a dump, missing privilege.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XfrmPolicySource } from '../../../server/families/xfrm/policy-source.ts';
import { Model } from '../../../server/model/model.ts';
import { encodeStruct } from '../../../server/netlink/struct.ts';
import { AttrWriter } from '../../../server/netlink/attr.ts';
import type { NetlinkMessage } from '../../../server/netlink/message.ts';
import { XFRM_MSG, xfrm_userpolicy_id, xfrm_userpolicy_info } from '../../../server/families/xfrm/spec.ts';
import type { SourceStatus } from '../../../server/wire/entities.ts';
import { fakeTransport, multipart, nlError } from '../netlink/fake.ts';
import { memoryLogger } from '../memlog.ts';

interface Pol { index: number; dir: number; priority?: number }

function info(p: Pol): Buffer {
  const a = Buffer.alloc(16);
  a.writeUInt32BE(0x0a000000 + p.index);
  return encodeStruct(xfrm_userpolicy_info, {
    sel: { daddr: a, saddr: a, family: 2, prefixlen_d: 32, prefixlen_s: 32 },
    priority: p.priority ?? 100, index: p.index, dir: p.dir,
  });
}
const newPolicy = (p: Pol): NetlinkMessage => ({ type: XFRM_MSG.NEWPOLICY, flags: 0, seq: 0, pid: 0, payload: info(p) });
const delPolicy = (p: Pol): NetlinkMessage => ({
  type: XFRM_MSG.DELPOLICY, flags: 0, seq: 0, pid: 0,
  payload: Buffer.concat([encodeStruct(xfrm_userpolicy_id, { index: p.index, dir: p.dir }), new AttrWriter().bytes(7, info(p)).encode()]),
});
const keys = (m: Model) => (m.list('policy') as Array<{ key: string }>).map((p) => p.key).sort();
const status = (m: Model) => m.get('source', 'xfrm-policy') as SourceStatus;
const tick = () => new Promise((r) => setImmediate(r));

function setup(dump: () => Pol[]) {
  const t = fakeTransport((req) => {
    assert.equal(req.type, XFRM_MSG.GETPOLICY);
    return multipart(req, XFRM_MSG.NEWPOLICY, dump().map(info));
  });
  const model = new Model();
  const ml = memoryLogger();
  const src = new XfrmPolicySource(model, ml.log, { transport: t });
  return { t, model, src, ...ml };
}

test('a dump populates the model; the source is ok', async () => {
  const { model, src } = setup(() => [{ index: 8, dir: 0 }, { index: 9, dir: 1, priority: 5 }]);
  await src.start();
  assert.deepEqual(keys(model), ['8:in', '9:out']);
  assert.equal(status(model).state, 'ok');
  assert.equal((model.get('policy', '9:out') as { priority: number }).priority, 5);
  src.stop();
});

test('events upsert and remove, each with a kernel event', async () => {
  const { model, src } = setup(() => []);
  await src.start();
  src.onEvent(newPolicy({ index: 16, dir: 1 }));
  assert.deepEqual(keys(model), ['16:out']);
  src.onEvent(newPolicy({ index: 16, dir: 1, priority: 7 }));
  assert.equal((model.get('policy', '16:out') as { priority: number }).priority, 7);
  src.onEvent(delPolicy({ index: 16, dir: 1 }));
  assert.deepEqual(keys(model), []);
  assert.deepEqual((model.list('event') as Array<{ type: string }>).map((e) => e.type), ['NEWPOLICY', 'NEWPOLICY', 'DELPOLICY']);
  src.stop();
});

test('a malformed event is counted and logged once; the next good event works', async () => {
  const { model, src, lines } = setup(() => []);
  await src.start();
  const bad: NetlinkMessage = { ...newPolicy({ index: 1, dir: 0 }), payload: info({ index: 1, dir: 0 }).subarray(0, 100) };
  src.onEvent(bad);
  src.onEvent(bad);
  assert.equal(src.status.decodeErrors, 2);
  assert.match(src.status.lastDecodeError ?? '', /xfrm_userpolicy_info needs 168 bytes/);
  const warns = lines.filter((l) => l['level'] === 40 && String(l['msg']).includes('cannot decode'));
  assert.equal(warns.length, 1, 'logged once');
  assert.equal(warns[0]!['decodeError'], true);
  src.onEvent(newPolicy({ index: 2, dir: 0 }));
  assert.deepEqual(keys(model), ['2:in']);
  src.stop();
});

test('resync after an overrun corrects the model: what is gone from the second dump is removed', async () => {
  let kernel: Pol[] = [{ index: 8, dir: 0 }, { index: 9, dir: 1 }];
  const { model, src } = setup(() => kernel);
  await src.start();
  assert.deepEqual(keys(model), ['8:in', '9:out']);
  kernel = [{ index: 9, dir: 1 }, { index: 10, dir: 2 }]; // events for these were lost
  await src.resync('receive buffer overflowed (ENOBUFS)');
  assert.deepEqual(keys(model), ['10:fwd', '9:out']);
  assert.equal(src.status.resyncs, 1);
  assert.equal(src.status.state, 'ok');
  assert.ok((model.list('event') as Array<{ type: string }>).some((e) => e.type === 'resync'));
  src.stop();
});

/** A started source whose first dump the fake kernel has not answered yet (answer with t.inject). */
async function dumpInFlight() {
  const pending: NetlinkMessage[] = [];
  const t = fakeTransport((req) => {
    pending.push(req);
    return [];
  });
  const model = new Model();
  const src = new XfrmPolicySource(model, memoryLogger().log, { transport: t });
  const started = src.start();
  await tick();
  return { pending, t, model, src, started };
}

test('events arriving during a dump reach the model at once, and the dump leaves what they touched alone', async () => {
  const { pending, t, model, src, started } = await dumpInFlight();
  assert.equal(pending.length, 1, 'dump in flight');
  src.onEvent(newPolicy({ index: 20, dir: 0 })); // added after the kernel built its dump
  src.onEvent(delPolicy({ index: 8, dir: 0 })); // removed after the dump listed it
  assert.deepEqual(keys(model), ['20:in'], 'not held while the dump runs');
  // The dump was built before both events: it lacks 20 (must not remove it) and still lists 8 (must not bring it back).
  t.inject(Buffer.concat(multipart(pending[0]!, XFRM_MSG.NEWPOLICY, [info({ index: 8, dir: 0 }), info({ index: 9, dir: 0 })])));
  await started;
  assert.deepEqual(keys(model), ['20:in', '9:in']);
  // The next dump owns every key again: 20 gone from the kernel is removed.
  const refresh = src.resync('test');
  await tick();
  t.inject(Buffer.concat(multipart(pending[1]!, XFRM_MSG.NEWPOLICY, [info({ index: 9, dir: 0 })])));
  await refresh;
  assert.deepEqual(keys(model), ['9:in']);
  src.stop();
});

test('EPERM at dump → no-permission, "needs CAP_NET_ADMIN" in the reason', async () => {
  const t = fakeTransport((req) => [nlError(req, 1)]);
  const model = new Model();
  const src = new XfrmPolicySource(model, memoryLogger().log, { transport: t });
  await src.start();
  assert.equal(status(model).state, 'no-permission');
  assert.match(status(model).reason ?? '', /needs CAP_NET_ADMIN/);
  assert.match(status(model).reason ?? '', /xfrm: dump policies: EPERM/);
  src.stop();
});

test('a big dump is applied in slices: the event loop runs between them, and events meanwhile are kept', async () => {
  const { pending, t, model, src, started } = await dumpInFlight();
  const n = 5000;
  t.inject(Buffer.concat(multipart(pending[0]!, XFRM_MSG.NEWPOLICY, Array.from({ length: n }, (_, i) => info({ index: i + 1, dir: 0 })))));
  let done = false;
  void started.then(() => (done = true));
  let turns = 0;
  while (!done && turns < 10_000) {
    await tick();
    turns++;
    if (turns === 2) {
      src.onEvent(delPolicy({ index: n, dir: 0 })); // the dump's last row, deleted while it is applied
      src.onEvent(newPolicy({ index: n + 1, dir: 0 })); // one the dump never had
    }
  }
  assert.ok(turns > 2, `the event loop ran ${turns} times while the dump was applied`);
  await started;
  const k = keys(model);
  assert.equal(k.length, n);
  assert.ok(!k.includes(`${n}:in`) && k.includes(`${n + 1}:in`));
  src.stop();
});

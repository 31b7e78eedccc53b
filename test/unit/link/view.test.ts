// The one link view shared by every source that needs links (link, ovpn, psp, ethtool), on fake
// transports: one RTNLGRP_LINK monitor, one request socket and one dump for all of them; a rename, a
// removal, lost events and a source's stop and start reach every consumer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttrWriter } from '../../../server/netlink/attr.ts';
import { Model } from '../../../server/model/model.ts';
import { createLogger } from '../../../server/log.ts';
import { NETLINK_ROUTE } from '../../../server/netlink/constants.ts';
import type { Monitor, MonitorHandlers, MonitorOptions } from '../../../server/netlink/monitor.ts';
import { LinkWatch } from '../../../server/families/link/watch.ts';
import { LinkSource } from '../../../server/families/link/source.ts';
import { RTM, RTNLGRP_LINK } from '../../../server/families/link/spec.ts';
import { OvpnSource } from '../../../server/families/ovpn/source.ts';
import { OVPN_CMD } from '../../../server/families/ovpn/spec.ts';
import { PspSource } from '../../../server/families/psp/source.ts';
import { PSP_CMD } from '../../../server/families/psp/spec.ts';
import { EthtoolSource } from '../../../server/families/ethtool/source.ts';
import { ETHTOOL_MSG, ETHTOOL_MSG_KERNEL } from '../../../server/families/ethtool/spec.ts';
import type { Source } from '../../../server/families/source.ts';
import { Errno } from '../../../server/sys/errno.ts';
import { fakeTransport, multipart, nlError } from '../netlink/fake.ts';
import { genlDo, genlDump, genlFake } from '../netlink/genl-fake.ts';
import { linkEvent, linkPayload, type FakeLink } from '../netlink/link-fake.ts';

const log = createLogger('silent');

/** The kernel: lo, a PSP-capable NIC (ifindex 3, PSP device 1) and an ovpn device (ifindex 5). */
function kernel(opts: { linkErrno?: number } = {}) {
  const links: FakeLink[] = [{ index: 1, name: 'lo' }, { index: 3, name: 'eni0np1' }, { index: 5, name: 'ovpn0', kind: 'ovpn', ovpnMode: 1 }];
  const rtnetlink = fakeTransport((req) => {
    assert.equal(req.type, RTM.GETLINK);
    return opts.linkErrno ? [nlError(req, opts.linkErrno)] : multipart(req, RTM.NEWLINK, links.map(linkPayload));
  });
  const monitors: Array<{ opts: MonitorOptions; h: MonitorHandlers; closed: boolean }> = [];
  const view = new LinkWatch({
    transport: rtnetlink,
    openMonitor: (o, h): Monitor => {
      const m = { opts: o, h, closed: false };
      monitors.push(m);
      return { receiveBufferBytes: o.receiveBufferBytes ?? 0, close: () => void (m.closed = true) };
    },
  });
  // The NIC as ethtool names it (from its own reply, as the kernel does).
  const nicName = () => links.find((l) => l.index === 3)?.name ?? 'gone';
  const ovpn = genlFake([{ name: 'ovpn', id: 0x1d, ops: [1, 2, 3, 4, 6, 7, 8, 10], groups: { peers: 9 } }], (req) =>
    req.cmd === OVPN_CMD.PEER_GET ? genlDump(req, OVPN_CMD.PEER_GET, []) : new Error(`ovpn command ${req.cmd}`),
  );
  const psp = genlFake([{ name: 'psp', id: 0x22, ops: [1, 4, 6], groups: { mgmt: 11, use: 12 } }], (req) =>
    req.cmd === PSP_CMD.DEV_GET ? genlDump(req, PSP_CMD.DEV_GET, [new AttrWriter().u32(1, 1).u32(2, 3).u32(3, 0xf).u32(4, 1).encode()]) : new Error(`psp command ${req.cmd}`),
  );
  const ethtool = genlFake([{ name: 'ethtool', id: 0x19, ops: [1, 11, 12, 32], groups: { monitor: 5 } }], (req) => {
    if (req.cmd === ETHTOOL_MSG.STRSET_GET) return req.dump ? genlDump(req, 1, []) : genlDo(req, 1, new AttrWriter().encode());
    if (req.cmd === ETHTOOL_MSG.FEATURES_GET) return genlDump(req, ETHTOOL_MSG_KERNEL.FEATURES_GET_REPLY, [new AttrWriter().nest(1, (h) => h.u32(1, 3).string(2, nicName())).encode()]);
    return new Error(`ethtool command ${req.cmd}`);
  });
  const model = new Model();
  const sources = {
    link: new LinkSource(model, log, view, { statsIntervalMs: 0 }),
    ovpn: new OvpnSource(model, log, view, { genlTransport: ovpn, refreshIntervalMs: 0 }),
    psp: new PspSource(model, log, view, { genlTransport: psp, statsIntervalMs: 0 }),
    ethtool: new EthtoolSource(model, log, view, { genlTransport: ethtool, intervalMs: 0 }),
  };
  const all: Source[] = Object.values(sources);
  const linkDumps = () => rtnetlink.requests.filter((r) => r.type === RTM.GETLINK).length;
  return { links, view, monitors, model, sources, all, linkDumps, rtnetlink };
}

const name = (model: Model, kind: 'link' | 'ovpn-dev' | 'ethtool-dev', key: string) => (model.get(kind, key) as { name?: string; ifname?: string } | undefined);
const pspName = (model: Model) => (model.get('psp-dev', '1') as { ifname?: string } | undefined)?.ifname;

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), what);
}

test('link view: with link, ovpn, psp and ethtool started there is one RTNLGRP_LINK monitor, one rtnetlink socket and one dump', async () => {
  const k = kernel();
  await Promise.all(k.all.map((s) => s.start()));
  for (const s of k.all) assert.equal(s.status.state, 'ok', `${s.id}: ${s.status.reason}`);
  assert.equal(k.monitors.length, 1, 'one monitor');
  assert.deepEqual(k.monitors[0]!.opts.groups, [RTNLGRP_LINK]);
  assert.equal(k.monitors[0]!.opts.protocol, NETLINK_ROUTE);
  assert.equal(k.linkDumps(), 1, 'one RTM_GETLINK dump for four sources');
  // Each consumer's first view of the links came from it.
  assert.equal(name(k.model, 'link', '3')?.name, 'eni0np1');
  assert.equal(name(k.model, 'ovpn-dev', '5')?.name, 'ovpn0');
  assert.equal(pspName(k.model), 'eni0np1');
  assert.equal(name(k.model, 'ethtool-dev', '3')?.ifname, 'eni0np1');
  for (const s of k.all) s.stop();
  assert.equal(k.monitors[0]!.closed, true, 'the monitor closes with the last source');
});

test('link view: a rename from RTNLGRP_LINK reaches the link entities and the ovpn, psp and ethtool devices; a removal too', async () => {
  const k = kernel();
  await Promise.all(k.all.map((s) => s.start()));
  const { h } = k.monitors[0]!;
  k.links[1]!.name = 'psp0';
  k.links[2]!.name = 'ovpn-hub';
  h.onMessage(linkEvent('new', k.links[1]!));
  h.onMessage(linkEvent('new', k.links[2]!));
  assert.equal(name(k.model, 'link', '3')?.name, 'psp0');
  assert.equal(pspName(k.model), 'psp0');
  assert.equal(name(k.model, 'ethtool-dev', '3')?.ifname, 'psp0');
  assert.equal(name(k.model, 'link', '5')?.name, 'ovpn-hub');
  assert.equal(name(k.model, 'ovpn-dev', '5')?.name, 'ovpn-hub');
  h.onMessage(linkEvent('del', k.links[2]!));
  h.onMessage(linkEvent('del', k.links[1]!));
  assert.equal(k.model.get('link', '5'), undefined);
  assert.equal(k.model.get('ovpn-dev', '5'), undefined);
  assert.equal(k.model.get('link', '3'), undefined);
  assert.equal(k.model.get('ethtool-dev', '3'), undefined);
  assert.equal(pspName(k.model), undefined, 'the PSP device stays (its own family says when it goes), unnamed');
  assert.equal(k.linkDumps(), 1, 'events, not dumps');
  for (const s of k.all) s.stop();
});

test('link view: lost events (ENOBUFS) make every consumer re-read, from one more dump', async () => {
  const k = kernel();
  await Promise.all(k.all.map((s) => s.start()));
  k.links[1]!.name = 'psp0';
  k.links.splice(2, 1); // ovpn0 deleted, and neither event reached us
  k.monitors[0]!.h.onOverrun('receive buffer overflowed (ENOBUFS)');
  for (const s of k.all) assert.equal(s.status.state, 'stale', s.id);
  await waitFor(() => k.all.every((s) => s.status.state === 'ok'), 'every source ok again');
  assert.equal(k.linkDumps(), 2, 'one re-dump for four sources');
  assert.equal(name(k.model, 'link', '3')?.name, 'psp0');
  assert.equal(pspName(k.model), 'psp0');
  assert.equal(name(k.model, 'ethtool-dev', '3')?.ifname, 'psp0');
  assert.equal(k.model.get('link', '5'), undefined);
  assert.equal(k.model.get('ovpn-dev', '5'), undefined);
  // The view itself knows its links are stale: without the link source (whose counter dumps re-read anyway).
  k.sources.link.stop();
  k.links[1]!.name = 'psp1';
  k.monitors[0]!.h.onOverrun('receive buffer overflowed (ENOBUFS)');
  await waitFor(() => pspName(k.model) === 'psp1', 'psp re-read the links');
  assert.equal(k.linkDumps(), 3);
  for (const s of k.all) s.stop();
});

test('link view: a source stopped and started again (the retry) while the others keep the view sees the links of now', async () => {
  const k = kernel();
  await Promise.all(k.all.map((s) => s.start()));
  k.sources.psp.stop();
  k.sources.ovpn.stop();
  const { h } = k.monitors[0]!;
  k.links[1]!.name = 'psp0';
  h.onMessage(linkEvent('new', k.links[1]!));
  k.links.push({ index: 6, name: 'ovpn1', kind: 'ovpn', ovpnMode: 0 });
  h.onMessage(linkEvent('new', k.links[3]!));
  h.onMessage(linkEvent('del', k.links[2]!));
  assert.equal(pspName(k.model), 'eni0np1', 'a stopped source is told nothing');
  await k.sources.psp.start();
  await k.sources.ovpn.start();
  assert.equal(pspName(k.model), 'psp0');
  assert.equal(name(k.model, 'ovpn-dev', '6')?.name, 'ovpn1');
  assert.equal(k.model.get('ovpn-dev', '5'), undefined);
  assert.equal(k.monitors.length, 1, 'the view stayed open');
  for (const s of k.all) s.stop();
});

test('link view: no privilege for the link dump is every consumer\'s state; the next start reads again', async () => {
  const k = kernel({ linkErrno: Errno.EPERM });
  await Promise.all(k.all.map((s) => s.start()));
  for (const s of k.all) {
    assert.equal(s.status.state, 'no-permission', s.id);
    assert.match(s.status.reason ?? '', /rtnetlink: dump links: EPERM/);
  }
  const before = k.linkDumps();
  k.sources.link.stop();
  await k.sources.link.start();
  assert.ok(k.linkDumps() > before, 'a failed dump is not remembered as the links');
  for (const s of k.all) s.stop();
});

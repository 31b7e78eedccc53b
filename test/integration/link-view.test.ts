// The one link view in the real process: `sascope serve` against this machine's kernel holds one
// NETLINK_ROUTE socket in RTNLGRP_LINK and one rtnetlink request socket, however many sources read links
// (here the link and ethtool sources; ovpn and psp have no family on this kernel, the lab runs those),
// counted from the process's own fds in /proc/<pid>/net/netlink. A veth device renamed with iproute2
// reaches the links and the ethtool devices. Runs in a throw-away netns (test/netns-run.sh).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { getJson, requireTestNetns, sh, startServer, type RunningServer } from '../helpers.ts';
import type { EntityKinds } from '../../server/wire/protocol.ts';

requireTestNetns();

let server: RunningServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  sh('ip link del lv-a 2>/dev/null; ip link del lv-renamed 2>/dev/null; true');
  assert.equal(await server.stop(), 0, 'SIGTERM gives a clean exit');
});

type Source = EntityKinds['source'];
const sources = async () => (await getJson<{ sources: Source[] }>(`${server.url}/api/v1/sources`)).sources;
const links = async () => (await getJson<{ links: Array<EntityKinds['link']> }>(`${server.url}/api/v1/links`)).links;
const ethtool = async () => (await getJson<{ devices: Array<EntityKinds['ethtool-dev']> }>(`${server.url}/api/v1/ethtool`)).devices;

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The process's NETLINK_ROUTE sockets (protocol 0 in /proc/net/netlink) with the multicast groups each joined. */
function routeSockets(pid: number): Array<{ groups: number }> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'utf8' }) ?? '');
    if (m) inodes.add(m[1]!);
  }
  // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
  return readFileSync(`/proc/${pid}/net/netlink`, 'utf8').trim().split('\n').slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => c[1] === '0' && inodes.has(c[9]!))
    .map((c) => ({ groups: parseInt(c[3]!, 16) }));
}

test('one RTNLGRP_LINK socket and one rtnetlink request socket for every source that reads links; a rename reaches links and ethtool', async () => {
  const settled = await until('link and ethtool to settle', async () => {
    const s = await sources();
    const link = s.find((x) => x.id === 'link');
    const eth = s.find((x) => x.id === 'ethtool');
    return link?.state === 'ok' && eth && eth.state !== 'starting' ? { link, eth } : undefined;
  });
  assert.equal(settled.eth.state, 'ok', `ethtool netlink on this kernel, so two sources read links: ${settled.eth.reason}`);
  const route = routeSockets(server.proc.pid!);
  assert.equal(route.filter((s) => s.groups & (1 << 0 /* RTNLGRP_LINK - 1 */)).length, 1, `RTNLGRP_LINK members: ${JSON.stringify(route)}`);
  assert.equal(route.length, 2, `NETLINK_ROUTE sockets: ${JSON.stringify(route)}`);

  sh('ip link add lv-a type veth peer name lv-b');
  const made = await until('the veth in links and ethtool', async () => {
    const l = (await links()).find((x) => x.name === 'lv-a');
    return l && (await ethtool()).some((d) => d.ifindex === l.index) ? l : undefined;
  });
  sh('ip link set lv-a name lv-renamed');
  await until('the new name in links', async () => ((await links()).find((x) => x.index === made.index)?.name === 'lv-renamed' ? true : undefined));
  await until('the new name in ethtool', async () => ((await ethtool()).find((d) => d.ifindex === made.index)?.ifname === 'lv-renamed' ? true : undefined));
  sh('ip link del lv-renamed');
  await until('the veth gone from links and ethtool', async () =>
    !(await links()).some((x) => x.index === made.index) && !(await ethtool()).some((d) => d.ifindex === made.index) ? true : undefined,
  );
});

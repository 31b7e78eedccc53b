// Lab self-tests on the custom 7.2 kernel (everything built in, PSP + netdevsim).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  cleanupAll, netdevsim, netnsPair, ovpnPair, pfkeyDump, pspDevice, pspDevices, requireLab, saZoo, sh,
} from '../scenarios/index.ts';
import { espPingPair, saCounters } from './esp.ts';

describe('lab self-test (custom kernel)', () => {
  before(async () => {
    requireLab();
    await cleanupAll();
  });
  after(() => cleanupAll());

  test('runs the custom kernel: no modules, PSP and netdevsim built in', async () => {
    assert.equal(process.env.SASCOPE_LAB_KERNEL, 'custom');
    assert.ok(!(await sh('cat /proc/modules', { allowFail: true })).trim(), 'no loadable modules');
    assert.ok((await sh('ls /sys/bus/netdevsim')).includes('new_device'));
  });

  test('an ESP SA carries pings and its counters rise', async () => {
    await netnsPair();
    const { spiOut } = await espPingPair();
    await sh('ping -c 5 -i 0.2 -W 2 10.0.0.2', { ns: 'lab-a' });
    const c = await saCounters('lab-a', spiOut);
    assert.ok(c.packets >= 5 && c.bytes > 0, JSON.stringify(c));
    await cleanupAll();
  });

  test('netdevsim accepts offloaded SAs', async () => {
    const nsim = await netdevsim({ id: 1 });
    const sas = await nsim.offload(2);
    assert.equal(sas.length, 4);
    const state = await sh('ip -s xfrm state');
    assert.match(state, new RegExp(`crypto offload parameters: dev ${nsim.ifname} dir out`));
    assert.match(state, new RegExp(`crypto offload parameters: dev ${nsim.ifname} dir in`));
    const dbg = await sh(`cat ${nsim.debugfs}/ipsec`);
    for (const sa of sas) assert.ok(dbg.includes(sa.spi.replace(/^0x0*/, '')) || dbg.includes(sa.spi), `debugfs lacks ${sa.spi}:\n${dbg}`);
    await sh('ip xfrm state flush');
    await nsim.down();
  });

  test('psp dev-get finds the netdevsim PSP device; key-rotate counts', async () => {
    const psp = await pspDevice({ nsimId: 2 });
    const devs = await pspDevices();
    const dev = devs.find((d) => d.ifindex === psp.nsim.ifindex);
    assert.ok(dev, `no PSP device for ifindex ${psp.nsim.ifindex}: ${JSON.stringify(devs)}`);
    assert.ok(JSON.stringify(dev['psp-versions-cap']).includes('hdr0-aes-gcm-128'), JSON.stringify(dev));
    await psp.enable();
    const before = await psp.stats();
    await psp.rotate();
    const after = await psp.stats();
    assert.equal(after['key-rotations'], (before['key-rotations'] ?? 0) + 1);
    await psp.nsim.down();
  });

  test('PF_KEY is built in: SADB_DUMP lists the zoo', async () => {
    await netnsPair();
    const zoo = await saZoo('lab-a');
    const spis = new Set((await pfkeyDump('sa', 'lab-a')).map((r) => r.sa?.spi));
    for (const sa of zoo) assert.ok(spis.has(sa.spi), `SADB_DUMP lacks ${sa.name}`);
    await cleanupAll();
  });

  test('ovpn works built in (link via rtnetlink, peer counters rise)', { timeout: 300_000 }, async () => {
    await netnsPair();
    const pair = await ovpnPair({ traffic: false });
    await sh('ping -c 3 -i 0.2 -W 2 10.8.0.2', { ns: 'lab-a' });
    const peer = (await pair.peers('a'))[0] as Record<string, number>;
    assert.ok(peer['vpn-tx-packets'] >= 3, JSON.stringify(peer));
    await pair.down();
    await cleanupAll();
  });
});

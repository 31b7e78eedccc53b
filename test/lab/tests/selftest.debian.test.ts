// Lab self-tests on Debian's 7.2 kernel (modules autoload): prove the lab is a real kernel.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  cleanupAll, netnsPair, ovpnPair, pfkeyDump, requireLab, saZoo, sh, sleep, strongswanPair, waitFor, xfrmMonitor,
} from '../scenarios/index.ts';
import { espPingPair, saCounters } from './esp.ts';

describe('lab self-test (debian kernel)', () => {
  before(async () => {
    requireLab();
    await cleanupAll();
  });
  after(() => cleanupAll());

  test('runs the Debian 7.2 kernel with modules', async () => {
    assert.match((await sh('uname -r')).trim(), /^7\.2\.\d+\+deb\d+-amd64$/);
    assert.equal(process.env.SASCOPE_LAB_KERNEL, 'debian');
  });

  test('an ESP SA carries pings and its counters rise', async () => {
    await netnsPair();
    const { spiOut } = await espPingPair();
    const before = await saCounters('lab-a', spiOut);
    await sh('ping -c 5 -i 0.2 -W 2 10.0.0.2', { ns: 'lab-a' });
    const after = await saCounters('lab-a', spiOut);
    assert.ok(after.packets >= before.packets + 5, `packets ${before.packets} -> ${after.packets}`);
    assert.ok(after.bytes > before.bytes);
    const stat = await sh('cat /proc/net/xfrm_stat', { ns: 'lab-a' });
    assert.match(stat, /XfrmInError\s+0/);
    await cleanupAll();
  });

  test('/proc/net/pfkey exists and SADB_DUMP lists the SAs', async () => {
    await netnsPair();
    const zoo = await saZoo('lab-a');
    const records = await pfkeyDump('sa', 'lab-a');
    assert.ok((await sh('ls /proc/net/pfkey', { ns: 'lab-a' })).trim().length > 0);
    const spis = new Set(records.map((r) => r.sa?.spi));
    // PF_KEY has no IPv6 BEET/… gaps here; every ESP SA of the zoo is in the dump
    for (const sa of zoo) assert.ok(spis.has(sa.spi), `SADB_DUMP lacks ${sa.name} ${sa.spi}`);
    assert.equal(records.at(-1)?.seq, 0, 'dump ends with seq 0');
    const cbc = records.find((r) => r.sa?.spi === zoo.find((s) => s.name === 'cbc-hmac-tunnel')!.spi);
    assert.ok(cbc?.sa && cbc.sa.encrypt !== 0 && cbc.sa.auth !== 0, 'cbc+hmac SA carries alg ids');
    await cleanupAll();
  });

  test('a strongSwan CHILD_SA rekeys within 60 s (NEWSA/DELSA in ip xfrm monitor)', { timeout: 300_000 }, async () => {
    await netnsPair();
    const mon = xfrmMonitor('lab-a', 'SA');
    await sleep(500);
    const pair = await strongswanPair({ rekeySeconds: 20 });
    const initial = await pair.swanctl('a', '--list-sas');
    assert.match(initial, /net: #\d+, reqid \d+, INSTALLED, TUNNEL/);
    const t0 = Date.now();
    // the initial CHILD_SAs are installed before we look; a rekey adds new SAs and deletes the old pair
    await waitFor(
      'a CHILD_SA rekey (Deleted SA after new SAs)',
      async () => /Deleted src/.test(mon.text()) && (mon.text().match(/^src /gm)?.length ?? 0) >= 4,
      60_000,
      1000,
    );
    const seconds = (Date.now() - t0) / 1000;
    mon.stop();
    assert.ok(seconds <= 60, `rekeyed after ${seconds} s`);
    const sas = await pair.swanctl('a', '--list-sas');
    assert.match(sas, /INSTALLED/);
    // traffic kept flowing through the tunnel across the rekeys
    const dir = `${pair.runDirs.a}/..`;
    const ping = await sh(`kill -INT $(cat ${dir}/ping-net.pid); sleep 1; cat ${dir}/ping-net.log`, { allowFail: true });
    const m = ping.match(/(\d+) packets transmitted, (\d+) received/);
    assert.ok(m && Number(m[2]) > 0 && Number(m[2]) >= Number(m[1]) - 5, ping);
    await pair.down();
    await cleanupAll();
  });

  test("an ovpn peer's counters rise", { timeout: 300_000 }, async () => {
    await netnsPair();
    const pair = await ovpnPair({ traffic: false });
    const before = (await pair.peers('a'))[0] as Record<string, number>;
    await sh('ping -c 5 -i 0.2 -W 2 10.8.0.2', { ns: 'lab-a' });
    const peer = (await pair.peers('a'))[0] as Record<string, number>;
    assert.equal(peer.id, 1);
    assert.ok(peer['vpn-tx-packets'] >= (before['vpn-tx-packets'] ?? 0) + 5, JSON.stringify(peer));
    assert.ok(peer['link-tx-bytes'] > (before['link-tx-bytes'] ?? 0));
    assert.ok(peer['vpn-rx-packets'] >= 5, 'replies came back through the tunnel');
    const keys = await pair.keyInfo('a');
    assert.deepEqual(keys.map((k) => k['key-id']), [1, 2]);
    await pair.down();
    await cleanupAll();
  });
});

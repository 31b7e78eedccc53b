// XFRM offload on the custom kernel's netdevsim (crypto offload of rfc4106(gcm(aes)) 128-bit, ICV 128 only):
// "no offload-capable device" before it exists; then ethtool features (as YNL reads them), an offloaded SA
// pair grouped under the device with direction and mode (as `ip -s xfrm state` shows them); what the kernel
// shows for a request that fell back (veth: a software SA) or was refused (netdevsim, cbc(aes): no SA); and
// esp-hw-offload switched off → features-ntf live, the SAs marked as falling back to software.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { netdevsim, sh, type Netdevsim } from '../scenarios/index.ts';
import { ynl } from '../scenarios/ovpn.ts';
import { SA_KEYS, inProcessForSuite, until } from './devcrypto.ts';

describe('xfrm offload (custom kernel, netdevsim)', () => {
  const sascope = inProcessForSuite('ip xfrm state flush; ip link del sl-v0');
  let nsim: Netdevsim | undefined;
  after(async () => {
    await nsim?.down().catch(() => undefined);
  });

  test('without netdevsim: "no offload-capable device"', async () => {
    const { body } = await sascope().api('/api/v1/offload');
    assert.equal(body.info.note, 'no offload-capable device');
    assert.deepEqual(body.info.capableDevices, []);
    assert.deepEqual(body.devices, []);
  });

  test('netdevsim: esp-hw-offload active as YNL reads it; an offloaded SA pair shows device, direction and mode', { timeout: 120_000 }, async () => {
    nsim = await netdevsim({ id: 1 });
    const eth = await until('the netdevsim port in ethtool-dev', () => {
      const e = sascope().get('ethtool-dev', String(nsim!.ifindex));
      return e?.ipsec.capable ? e : undefined;
    });
    const k = ynl('ethtool', '--do', 'features-get', '--json', JSON.stringify({ header: { 'dev-index': nsim.ifindex } })) as { active: { bits: { bit: Array<{ name: string }> } } };
    const ynlActive = k.active.bits.bit.map((b) => b.name).sort();
    assert.deepEqual(eth.features.filter((f) => f.active).map((f) => f.name).sort(), ynlActive);
    assert.ok(ynlActive.includes('esp-hw-offload'));

    const sas = await nsim.offload(1);
    const dev = await until('the offloaded SAs under the device', () => {
      const d = sascope().get('offload-dev', String(nsim!.ifindex));
      return d && d.sas.length === 2 ? d : undefined;
    });
    assert.equal(dev.ifname, nsim.ifname);
    assert.deepEqual(dev.counts, { in: 1, out: 1, crypto: 2, packet: 0 });
    const ip = await sh('ip -s xfrm state');
    for (const sa of sas) {
      const e = dev.sas.find((x) => x.spi === Number(sa.spi))!;
      assert.ok(e, `SA ${sa.spi} grouped under ${nsim.ifname}`);
      assert.equal(e.dir, (sa as { dir?: string }).dir);
      assert.equal(e.mode, 'crypto');
      assert.equal(e.state, 'offloaded');
      assert.equal(e.countersFromDriver, false);
      assert.match(ip, new RegExp(`crypto offload parameters: dev ${nsim.ifname} dir ${e.dir}`));
    }
    const info = sascope().get('offload-info', 'offload')!;
    assert.equal(info.note, undefined);
    assert.deepEqual(info.capableDevices.map((c) => c.ifname), [nsim.ifname]);
  });

  test('fallback and refusal as the kernel shows them: veth → software SA without offload; netdevsim + cbc(aes) → refused, no SA', { timeout: 60_000 }, async () => {
    await sh('ip link add sl-v0 type veth peer name sl-v1 && ip link set sl-v0 up && ip link set sl-v1 up && ip addr add 10.78.0.1/24 dev sl-v0');
    await sh(`ip xfrm state add src 10.78.0.1 dst 10.78.0.2 proto esp spi 0x9001 mode transport aead 'rfc4106(gcm(aes))' ${SA_KEYS.gcm()} 128 offload dev sl-v0 dir out`);
    const refused = await sh(`ip xfrm state add src 192.168.77.1 dst 192.168.77.120 proto esp spi 0x9002 mode transport enc 'cbc(aes)' ${SA_KEYS.aes128()} auth-trunc 'hmac(sha256)' ${SA_KEYS.sha256()} 128 offload dev ${nsim!.ifname} dir out 2>&1; echo rc=$?`, { allowFail: true });
    assert.match(refused, /rc=[1-9]/, `the driver refuses cbc(aes): ${refused}`);
    const sw = await until('the veth SA', () => sascope().list('sa').find((x) => x.spi === 0x9001));
    assert.equal(sw.offload, undefined, 'accepted without offload: a software SA');
    assert.doesNotMatch((await sh('ip -s xfrm state list src 10.78.0.1 dst 10.78.0.2')), /offload/);
    assert.equal(sascope().list('sa').find((x) => x.spi === 0x9002), undefined, 'the refused request left no SA');
    const info = await until('software SAs counted', () => {
      const i = sascope().get('offload-info', 'offload');
      return i && i.softwareSas >= 1 ? i : undefined;
    });
    assert.match(info.fallback, /no trace/);
    const veth = sascope().list('link').find((l) => l.name === 'sl-v0');
    assert.ok(veth && veth.kind === 'veth');
    assert.equal(sascope().get('offload-dev', String(veth.index)), undefined, 'veth is no offload device');
  });

  test('esp-hw-offload switched off: features-ntf arrives live and the offloaded SAs fall back to software', { timeout: 60_000 }, async () => {
    const before = sascope().list('event').length;
    ynl('ethtool', '--do', 'features-set', '--json', JSON.stringify({ header: { 'dev-index': nsim!.ifindex }, wanted: { bits: { bit: [{ name: 'esp-hw-offload' }, { name: 'esp-tx-csum-hw-offload' }] } } }));
    const ev = await until('a features-ntf event', () => sascope().list('event').slice(before).find((e) => e.type === 'features-ntf'));
    assert.match(ev.summary, new RegExp(`${nsim!.ifname}: features changed: .*esp-hw-offload on → off`));
    const dev = await until('SAs marked as software fallback', () => {
      const d = sascope().get('offload-dev', String(nsim!.ifindex));
      return d && d.sas.length > 0 && d.sas.every((x) => x.state === 'software-fallback') ? d : undefined;
    });
    assert.equal(dev.capable, false);
    assert.equal(sascope().get('offload-info', 'offload')!.note, 'no offload-capable device');
  });
});

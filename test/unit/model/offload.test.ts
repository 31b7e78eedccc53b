// The derived views: SAs grouped by offload device with the judgements (packet offload counters from the
// driver, esp-hw-offload switched off, device gone, no capable device), and the driver serving each
// algorithm in use. Inputs are model rows in wire form, as the sources put them there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { offloadView, NO_CAPABLE_DEVICE } from '../../../server/model/offload.ts';
import { cryptoUses } from '../../../server/model/crypto-use.ts';
import { DerivedViews } from '../../../server/model/views.ts';
import { Model } from '../../../server/model/model.ts';
import { parseProcCrypto } from '../../../server/families/crypto/proc.ts';

const feature = (name: string, active: boolean) => ({ name, active, requested: active, changeable: true, nochange: false });
const eth = (ifindex: number, ifname: string, capable: boolean) => ({
  ifindex, ifname, features: [feature('esp-hw-offload', capable)], updatedAt: 0,
  ipsec: { espHwOffload: feature('esp-hw-offload', capable), capable },
  driverStats: { count: 0, ipsec: [], psp: [], note: 'n' },
});
const link = (index: number, name: string, kind?: string) => ({
  index, name, type: 'ether', flags: ['UP'], operState: 'up', ...(kind ? { kind } : {}),
  stats: { rxPackets: '1', txPackets: '2', rxBytes: '100', txBytes: '200', rxErrors: '0', txErrors: '0', rxDropped: '0', txDropped: '0' },
});
function sa(key: string, spi: number, offload?: { ifindex: number; dir: 'in' | 'out'; type: 'crypto' | 'packet' }, algs: Record<string, unknown> = {}) {
  return {
    key, spi, src: '10.0.0.1', dst: '10.0.0.2', proto: 'esp', family: 'inet', mode: 'transport', reqid: 1, seq: 0, replayWindow: 0, flags: [],
    lifetime: { current: { bytes: '1000', packets: '10', addTime: '0', useTime: '0' } },
    ...(offload ? { offload } : {}), ...algs,
  } as never;
}

test('offload view: SAs grouped by device, direction and mode; NIC counters next to SA totals', () => {
  const { devices, info } = offloadView({
    sas: [sa('a', 1, { ifindex: 3, dir: 'out', type: 'crypto' }), sa('b', 2, { ifindex: 3, dir: 'in', type: 'crypto' }), sa('c', 3)],
    links: [link(1, 'lo'), link(3, 'eni0np1')] as never,
    ethtool: [eth(1, 'lo', false), eth(3, 'eni0np1', true)] as never,
    policies: [],
  });
  assert.equal(devices.length, 1);
  const d = devices[0]!;
  assert.equal(d.ifname, 'eni0np1');
  assert.deepEqual(d.counts, { in: 1, out: 1, crypto: 2, packet: 0 });
  assert.deepEqual(d.saTotals, { bytes: 2000n, packets: 20n });
  assert.equal(d.nic?.txBytes, 200n);
  assert.deepEqual(d.sas.map((s) => [s.key, s.dir, s.mode, s.state, s.countersFromDriver]), [['a', 'out', 'crypto', 'offloaded', false], ['b', 'in', 'crypto', 'offloaded', false]]);
  assert.deepEqual(info.capableDevices, [{ ifindex: 3, ifname: 'eni0np1' }]);
  assert.equal(info.offloadedSas, 2);
  assert.equal(info.softwareSas, 1);
  assert.equal(info.note, undefined);
});

test('offload view: packet offload counters may lag; esp-hw-offload off → software fallback; gone device; policies', () => {
  const { devices } = offloadView({
    sas: [sa('p', 1, { ifindex: 4, dir: 'out', type: 'packet' }), sa('f', 2, { ifindex: 5, dir: 'out', type: 'crypto' }), sa('g', 3, { ifindex: 9, dir: 'in', type: 'crypto' })],
    links: [link(4, 'mlx0'), link(5, 'eni1')] as never,
    ethtool: [eth(4, 'mlx0', true), eth(5, 'eni1', false)] as never,
    policies: [{ key: '8:out', offload: { ifindex: 5, flags: [] } }] as never,
  });
  const by = new Map(devices.map((d) => [d.ifindex, d]));
  const p = by.get(4)!.sas[0]!;
  assert.equal(p.countersFromDriver, true);
  assert.match(p.note!, /SA counters come from the driver and may lag/);
  assert.ok(by.get(4)!.notes.some((n) => /may lag/.test(n)));
  const f = by.get(5)!.sas[0]!;
  assert.equal(f.state, 'software-fallback');
  assert.match(f.note!, /eni1 no longer has esp-hw-offload active/);
  assert.deepEqual(by.get(5)!.policies, ['8:out']);
  assert.ok(by.get(5)!.notes.some((n) => /packet offload on this device, but no SA/.test(n)));
  assert.equal(by.get(9)!.sas[0]!.state, 'device-gone');
  assert.equal(by.get(9)!.present, false);
});

test('offload view: without an offload-capable device the summary says so; ethtool down → capability unknown', () => {
  const { devices, info } = offloadView({ sas: [sa('c', 3)], links: [link(2, 'veth0', 'veth')] as never, ethtool: [eth(2, 'veth0', false)] as never, policies: [], ethtoolState: { state: 'ok' } });
  assert.deepEqual(devices, []);
  assert.equal(info.note, NO_CAPABLE_DEVICE);
  assert.equal(info.note, 'no offload-capable device');
  assert.match(info.fallback, /no trace/);
  const unk = offloadView({ sas: [], links: [], ethtool: [], policies: [], ethtoolState: { state: 'not-available', reason: 'family ethtool not found' } }).info;
  assert.match(unk.capabilityUnknown!, /not-available: family ethtool not found/);
});

const ALGS = parseProcCrypto(`name : rfc4106(gcm(aes))
driver : rfc4106-gcm-aesni
module : aesni_intel
priority : 400
selftest : passed
internal : no
type : aead

name : rfc4106(gcm(aes))
driver : rfc4106(gcm_base(ctr(aes-generic),ghash-generic))
module : kernel
priority : 100
selftest : passed
internal : no
type : aead

name : cbc(aes)
driver : cbc(aes-generic)
module : kernel
priority : 100
selftest : passed
internal : no
type : skcipher
`);

test('crypto in use: algorithms of the SAs with the driver serving each, alternatives, and why none', () => {
  const uses = cryptoUses([
    sa('x', 1, undefined, { aead: { name: 'rfc4106(gcm(aes))', keyBits: 160, icvBits: 128 } }),
    sa('y', 2, undefined, { aead: { name: 'rfc4106(gcm(aes))', keyBits: 288, icvBits: 128 } }),
    sa('z', 3, undefined, { enc: { name: 'cbc(aes)', keyBits: 128 }, auth: { name: 'hmac(sha256)', keyBits: 256, truncBits: 128 } }),
    sa('n', 4, undefined, { enc: { name: 'ecb(cipher_null)', keyBits: 0 } }),
  ], ALGS);
  const by = new Map(uses.map((u) => [u.key, u]));
  const g = by.get('aead:rfc4106(gcm(aes))')!;
  assert.equal(g.driver, 'rfc4106-gcm-aesni');
  assert.equal(g.module, 'aesni_intel');
  assert.deepEqual(g.alternatives, [{ driver: 'rfc4106(gcm_base(ctr(aes-generic),ghash-generic))', priority: 100, module: 'kernel' }]);
  assert.deepEqual(g.keyBits, [160, 288]);
  assert.equal(g.saCount, 2);
  assert.equal(g.icvBits, 128);
  assert.equal(by.get('enc:cbc(aes)')!.driver, 'cbc(aes-generic)');
  assert.match(by.get('auth:hmac(sha256)')!.note!, /not instantiated yet/);
  assert.match(by.get('enc:ecb(cipher_null)')!.note!, /null algorithm/);
});

test('derived views: recomputed from model changes, coalesced', async () => {
  const model = new Model();
  const views = new DerivedViews(model, 5);
  model.upsert('ethtool-dev', '3', eth(3, 'eni0np1', true));
  model.upsert('link', '3', link(3, 'eni0np1'));
  model.upsert('sa', 'a', sa('a', 1, { ifindex: 3, dir: 'out', type: 'crypto' }, { aead: { name: 'rfc4106(gcm(aes))', keyBits: 160, icvBits: 128 } }));
  for (const a of ALGS) model.upsert('crypto-alg', a.key, a);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal((model.get('offload-dev', '3') as { counts: { out: number } }).counts.out, 1);
  assert.equal((model.get('offload-info', 'offload') as { offloadedSas: number }).offloadedSas, 1);
  assert.equal((model.get('crypto-use', 'aead:rfc4106(gcm(aes))') as { driver: string }).driver, 'rfc4106-gcm-aesni');
  model.remove('sa', 'a');
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(model.count('crypto-use'), 0);
  assert.equal((model.get('offload-dev', '3') as { sas: unknown[] }).sas.length, 0);
  views.close();
});

test('no driver: a code says why, and /proc/crypto is re-read for "not instantiated" by that code alone', async () => {
  const uses = cryptoUses([sa('z', 3, undefined, { enc: { name: 'cbc(aes)', keyBits: 128 }, auth: { name: 'hmac(sha256)', keyBits: 256, truncBits: 128 } }), sa('n', 4, undefined, { enc: { name: 'ecb(cipher_null)', keyBits: 0 } })], ALGS);
  const by = new Map(uses.map((u) => [u.key, u]));
  assert.equal(by.get('auth:hmac(sha256)')!.noDriver, 'not-instantiated');
  assert.equal(by.get('enc:ecb(cipher_null)')!.noDriver, 'null-algorithm');
  assert.equal(by.get('enc:cbc(aes)')!.noDriver, undefined, 'it has a driver');
  assert.equal(cryptoUses([sa('z', 3, undefined, { enc: { name: 'cbc(aes)', keyBits: 128 } })], [])[0]?.noDriver, 'proc-crypto-not-read');
  const model = new Model();
  let rereads = 0;
  const views = new DerivedViews(model, 5, () => rereads++);
  for (const a of ALGS) model.upsert('crypto-alg', a.key, a);
  model.upsert('sa', 'n', sa('n', 4, undefined, { enc: { name: 'ecb(cipher_null)', keyBits: 0 } }));
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(rereads, 0, 'a null algorithm has no driver to wait for');
  model.upsert('sa', 'z', sa('z', 3, undefined, { enc: { name: 'cbc(aes)', keyBits: 128 }, auth: { name: 'hmac(sha256)', keyBits: 256, truncBits: 128 } }));
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(rereads, 1);
  views.close();
});

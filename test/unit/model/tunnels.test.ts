// Tunnels, rotations, countdowns and alarms derived from model changes, on a fake clock: rekeys by soft
// expire, by the daemon, after a hard expire and by hand; continuous counters; SAs present at start are not
// rotations; restore across a restart; ovpn key swaps and PSP rotations; clock-driven alarms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../../server/model/model.ts';
import { TunnelTracker } from '../../../server/model/tunnels.ts';
import { countdownOf, XFRM_INF } from '../../../server/model/countdown.ts';
import { parseConfig } from '../../../server/config.ts';
import type { EventCode, KernelEvent, OnWire } from '../../../server/wire/entities.ts';
import type { Alarm, Rotation, Tunnel } from '../../../server/wire/tunnels.ts';
import { saKey, type SecurityAssociation } from '../../../server/wire/xfrm.ts';

const T0 = 1_800_000_000_000; // ms
const thresholds = parseConfig('t', '{}').alarms;

function rig(opts: { now?: number; thresholds?: Partial<typeof thresholds> } = {}) {
  const model = new Model();
  const clock = { now: opts.now ?? T0 };
  const rotations: Rotation[] = [];
  const tracker = new TunnelTracker(model, { thresholds: { ...thresholds, ...opts.thresholds }, now: () => clock.now, tickMs: 0, onRotation: (r) => rotations.push(r) });
  const settle = () => new Promise((r) => setImmediate(r));
  const tunnels = () => model.list('tunnel') as Array<OnWire<Tunnel>>;
  const alarms = () => model.list('alarm') as Array<OnWire<Alarm>>;
  return { model, clock, tracker, rotations, settle, tunnels, alarms };
}

let spiSeq = 0;
function sa(spi: number, o: { addSec?: number; bytes?: bigint; packets?: bigint; src?: string; dst?: string; reqid?: number; fp?: string; cfg?: Partial<Record<string, bigint>>; antiReplay?: object; integrity?: number; offload?: boolean } = {}): SecurityAssociation {
  spiSeq++;
  const dst = o.dst ?? '10.0.0.2';
  return {
    key: saKey('inet', 'esp', dst, spi),
    src: o.src ?? '10.0.0.1', dst, spi, proto: 'esp', family: 'inet', mode: 'tunnel', reqid: o.reqid ?? 1, seq: 0, replayWindow: 32, flags: [],
    selector: { family: 'inet', src: '0.0.0.0/0', dst: '0.0.0.0/0', sport: 0, sportMask: 0, dport: 0, dportMask: 0, proto: 0, ifindex: 0, user: 0 },
    lifetime: {
      config: { softByteLimit: XFRM_INF, hardByteLimit: XFRM_INF, softPacketLimit: XFRM_INF, hardPacketLimit: XFRM_INF, softAddExpiresSeconds: 20n, hardAddExpiresSeconds: 30n, softUseExpiresSeconds: 0n, hardUseExpiresSeconds: 0n, ...o.cfg } as SecurityAssociation['lifetime']['config'],
      current: { bytes: o.bytes ?? 0n, packets: o.packets ?? 0n, addTime: BigInt(o.addSec ?? Math.floor(T0 / 1000)), useTime: 0n },
    },
    stats: { replayWindow: 0, replay: 0, integrityFailed: o.integrity ?? 0 },
    aead: { name: 'rfc4106(gcm(aes))', keyBits: 160, icvBits: 128, fingerprint: o.fp ?? `fp${spi.toString(16)}` },
    ...(o.antiReplay ? { antiReplay: o.antiReplay as SecurityAssociation['antiReplay'] } : {}),
    ...(o.offload ? { offload: { ifindex: 3, dir: 'out' as const, type: 'crypto' as const } } : {}),
  };
}

const put = (m: Model, s: SecurityAssociation) => m.upsert('sa', s.key, s);
/** An event about SA s as the XFRM SA source tells it: a code and a typed subject (the words are for people). */
const ev = (m: Model, code: EventCode, s: SecurityAssociation, type: string = code) => m.event({ source: 'xfrm-sa', type, code, summary: type, subject: { kind: 'sa', key: s.key } });

test('soft expire → new SA → old deleted: one rotation (soft-expire, overlap), counters continuous', async () => {
  const { model, clock, rotations, settle, tunnels } = rig();
  const a = sa(0xa1, { bytes: 1000n, packets: 10n });
  put(model, a);
  await settle();
  assert.equal(tunnels().length, 1);
  const t1 = tunnels()[0]!;
  assert.equal(t1.state, 'up');
  assert.equal(t1.bytes, '1000');
  assert.equal(t1.current?.spi, 0xa1);
  assert.equal(t1.rotations, 0);
  clock.now += 20_000;
  put(model, sa(0xa1, { bytes: 5000n, packets: 50n }));
  ev(model, 'sa-soft-expire', a);
  const b = sa(0xb2, { addSec: Math.floor(clock.now / 1000), bytes: 0n });
  put(model, b);
  await settle();
  assert.equal(rotations.length, 1);
  assert.equal(rotations[0]!.cause, 'soft-expire');
  assert.equal(rotations[0]!.state, 'overlapping');
  assert.equal(rotations[0]!.oldSpi, 0xa1);
  assert.equal(rotations[0]!.newSpi, 0xb2);
  assert.equal(rotations[0]!.oldFingerprint, 'fpa1');
  assert.equal(rotations[0]!.newFingerprint, 'fpb2');
  assert.equal(tunnels()[0]!.state, 'rekeying');
  assert.equal(tunnels()[0]!.current?.spi, 0xb2);
  clock.now += 2_000;
  put(model, sa(0xb2, { addSec: Math.floor((clock.now - 2000) / 1000), bytes: 700n, packets: 7n }));
  model.remove('sa', a.key);
  ev(model, 'sa-deleted', a);
  await settle();
  assert.equal(rotations.length, 2, 'the same rotation, updated');
  assert.equal(rotations[1]!.key, rotations[0]!.key);
  assert.equal(rotations[1]!.state, 'done');
  assert.equal(rotations[1]!.overlapMs, 2000);
  assert.equal((model.list('rotation') as unknown[]).length, 1, 'one rotation entity');
  const t = tunnels()[0]!;
  assert.equal(t.bytes, '5700', 'retired 5000 + live 700');
  assert.equal(t.packets, '57');
  assert.equal(t.rotations, 1);
  assert.equal(t.state, 'up');
  assert.deepEqual(t.sas, [b.key]);
});

test('causes: daemon rekey (no soft expire), hard expire (then a new SA), manual (DELSA then add)', async () => {
  const { model, clock, rotations, settle, tunnels, alarms } = rig();
  const now = () => Math.floor(clock.now / 1000);
  const a = sa(0x1);
  put(model, a);
  await settle();
  clock.now += 5000;
  put(model, sa(0x2, { addSec: now() }));
  await settle();
  assert.equal(rotations.at(-1)!.cause, 'daemon-rekey');
  model.remove('sa', a.key);
  await settle();
  // hard expire of the only SA: the source removes it, then logs EXPIRE hard
  const b = sa(0x2, { addSec: now() });
  model.remove('sa', b.key);
  ev(model, 'sa-hard-expire', b);
  await settle();
  assert.equal(tunnels()[0]!.state, 'down');
  assert.deepEqual(alarms().map((x) => x.type), ['hard-expired']);
  assert.equal(alarms()[0]!.severity, 'critical');
  clock.now += 3000;
  put(model, sa(0x3, { addSec: now() }));
  await settle();
  const hard = rotations.at(-1)!;
  assert.equal(hard.cause, 'hard-expire');
  assert.equal(hard.oldSpi, 0x2);
  assert.equal(hard.overlapMs, 0);
  assert.equal(hard.oldGoneAt, clock.now - 3000);
  assert.deepEqual(alarms(), [], 'cleared by the new SA');
  // manual: deleted without expire (torn down: a tunnel-down alarm until a new SA comes), then a new one
  model.remove('sa', sa(0x3).key);
  await settle();
  assert.equal(tunnels()[0]!.state, 'down');
  assert.deepEqual(alarms().map((x) => x.type), ['tunnel-down']);
  assert.equal(alarms()[0]!.severity, 'critical');
  put(model, sa(0x4, { addSec: now() }));
  await settle();
  assert.equal(rotations.at(-1)!.cause, 'manual');
  assert.equal(tunnels()[0]!.rotations, 3);
  assert.equal(tunnels().length, 1);
});

test('a torn-down tunnel keeps its alarm, is not rebuilt by the clock every second, and goes when its linger time is up', async () => {
  const { model, clock, tracker, settle, tunnels, alarms } = rig();
  const a = sa(0x51, { dst: '10.5.0.1' });
  put(model, a);
  await settle();
  model.remove('sa', a.key);
  await settle();
  assert.deepEqual(alarms().map((x) => x.type), ['tunnel-down']);
  const upserts: string[] = [];
  const upsert = model.upsert.bind(model);
  model.upsert = (kind, key, value) => {
    if (kind === 'tunnel') upserts.push(key);
    upsert(kind, key, value);
  };
  for (let i = 0; i < 5; i++) {
    clock.now += 1000;
    tracker.tick();
  }
  assert.deepEqual(upserts, [], 'nothing about a down tunnel changes with the clock until it lingers out');
  clock.now += 600_000;
  tracker.tick();
  assert.equal(tunnels().length, 0, 'dropped after the linger time');
  assert.deepEqual(alarms(), [], 'its alarm goes with it');
});

test('a mass change is published in passes of at most 1,000 tunnels, each on its own turn of the event loop', async () => {
  const { model, settle, tunnels } = rig();
  for (let i = 0; i < 2500; i++) put(model, sa(0x10000 + i, { dst: `10.7.${i >> 8}.${i & 0xff}` }));
  await settle();
  assert.equal(tunnels().length, 1000, 'the first pass');
  await settle();
  assert.equal(tunnels().length, 2000, 'the next turn');
  await settle();
  assert.equal(tunnels().length, 2500);
});

test('SAs the kernel had before sascope started are not rotations; other tunnels stay apart', async () => {
  const { model, rotations, settle, tunnels } = rig();
  const old = Math.floor(T0 / 1000) - 100;
  put(model, sa(0x10, { addSec: old - 10 }));
  put(model, sa(0x11, { addSec: old }));
  put(model, sa(0x20, { addSec: old, src: '10.0.0.2', dst: '10.0.0.1' }));
  put(model, sa(0x30, { addSec: old, reqid: 2 }));
  await settle();
  assert.equal(rotations.length, 0);
  assert.equal(tunnels().length, 3);
  const t = tunnels().find((x) => x.reqid === 1 && x.src === '10.0.0.1')!;
  assert.equal(t.current?.spi, 0x11, 'the newest is current');
  assert.equal(t.sas.length, 2);
  const rev = tunnels().find((x) => x.src === '10.0.0.2')!;
  assert.equal(t.reverse, rev.key);
  assert.equal(rev.reverse, t.key);
});

test('larval SAs (no algorithm yet) are not tunnels; an SA completed later joins with its fingerprint', async () => {
  const { model, clock, rotations, settle, tunnels } = rig();
  put(model, sa(0x1));
  await settle();
  clock.now += 1000;
  const larval = { ...sa(0x2, { addSec: Math.floor(clock.now / 1000) }), aead: undefined };
  model.upsert('sa', larval.key, larval);
  await settle();
  assert.equal(rotations.length, 0);
  put(model, sa(0x2, { addSec: Math.floor(clock.now / 1000) }));
  await settle();
  assert.equal(rotations.length, 1);
  assert.equal(rotations[0]!.newFingerprint, 'fp2');
  assert.equal(tunnels().length, 1);
});

test('countdowns: add- and use-based expiry, bytes/packets left, sequence space in percent (32 and 64 bit)', () => {
  const w = (s: SecurityAssociation) => JSON.parse(JSON.stringify(s, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))) as OnWire<SecurityAssociation>;
  const s = sa(1, { addSec: 1000, bytes: 400n, packets: 4n, cfg: { softByteLimit: 1000n, hardByteLimit: 2000n, softPacketLimit: 10n, softUseExpiresSeconds: 5n, hardUseExpiresSeconds: 50n }, antiReplay: { esn: false, seq: 0, oseq: 2 ** 31 } });
  s.lifetime.current.useTime = 1010n;
  const c = countdownOf(w(s));
  assert.equal(c.softExpiresAt, 1015_000, 'use-based soft (1010+5) is earlier than add-based (1000+20)');
  assert.equal(c.softBasis, 'use');
  assert.equal(c.hardExpiresAt, 1030_000);
  assert.equal(c.hardBasis, 'add');
  assert.equal(c.bytesToSoft, 600n);
  assert.equal(c.bytesToHard, 1600n);
  assert.equal(c.packetsToSoft, 6n);
  assert.equal(c.packetsToHard, undefined, 'no limit');
  assert.equal(c.sequenceUsedPercent, 50);
  assert.equal(c.sequenceBits, 32);
  const never = sa(2, { addSec: 1000, cfg: { softAddExpiresSeconds: 0n, hardAddExpiresSeconds: 0n, hardUseExpiresSeconds: 60n } });
  const n = countdownOf(w(never));
  assert.equal(n.hardExpiresAt, undefined);
  assert.equal(n.useLimitPending, true);
  const esn = countdownOf(w(sa(3, { antiReplay: { esn: true, seq: 0, oseq: 0, seqHi: 0, oseqHi: 1, replayWindow: 128, bitmapLength: 4 } })));
  assert.equal(esn.sequenceBits, 64);
  assert.equal(esn.sequenceUsedPercent, 2.32831e-8, '2^32 of 2^64');
});

test('alarms on the clock: expiring soon, rekey overdue; sequence space; integrity failures rising; offload fell back', async () => {
  const { model, clock, tracker, settle, alarms } = rig({ thresholds: { expiringSoonSeconds: 10, rekeyOverdueSeconds: 5, failureWindowSeconds: 60 } });
  const a = sa(0x1, { offload: true, antiReplay: { esn: false, seq: 0, oseq: 4000000000 } });
  put(model, a);
  await settle();
  const types = () => alarms().map((x) => x.type).sort();
  assert.deepEqual(types(), ['sequence-space']);
  clock.now += 21_000; // soft at +20 s, hard at +30 s
  tracker.tick();
  assert.deepEqual(types(), ['expiring-soon', 'sequence-space']);
  clock.now += 5_000;
  tracker.tick();
  assert.deepEqual(types(), ['expiring-soon', 'rekey-overdue', 'sequence-space']);
  put(model, sa(0x1, { offload: true, integrity: 3, antiReplay: { esn: false, seq: 0, oseq: 4000000000 } }));
  await settle();
  assert.ok(types().includes('integrity-failures'));
  const b = sa(0x2, { addSec: Math.floor(clock.now / 1000) });
  put(model, b);
  model.remove('sa', a.key);
  await settle();
  assert.ok(types().includes('offload-fallback'), types().join());
  assert.ok(!types().includes('rekey-overdue'));
  assert.ok(!types().includes('sequence-space'));
  clock.now += 61_000;
  tracker.tick();
  assert.ok(!types().includes('integrity-failures'), 'no new failures within the window');
  const evs = (model.list('event') as Array<{ type: string }>).map((e) => e.type);
  assert.ok(evs.includes('alarm') && evs.includes('alarm cleared'));
});

test('restart: counters continue from the saved state; SAs that died while down are retired once', async () => {
  const first = rig();
  put(first.model, sa(0x1, { bytes: 1000n }));
  put(first.model, sa(0x9, { bytes: 50n, reqid: 9 }));
  await first.settle();
  first.clock.now += 1000;
  put(first.model, sa(0x2, { addSec: Math.floor(first.clock.now / 1000), bytes: 10n }));
  first.model.remove('sa', sa(0x1).key);
  await first.settle();
  const state = first.tracker.exportState();
  assert.equal(first.tunnels().find((t) => t.reqid === 1)!.bytes, '1010');
  first.tracker.close();
  // Restart 60 s later: SA 2 still there with more bytes; SA 9 died while down; a new SA 3 came while down.
  const second = rig({ now: first.clock.now + 60_000 });
  second.tracker.restore(state);
  put(second.model, sa(0x2, { addSec: Math.floor((first.clock.now) / 1000), bytes: 30n }));
  put(second.model, sa(0x3, { addSec: Math.floor((first.clock.now + 30_000) / 1000), bytes: 5n, reqid: 9 }));
  await second.settle();
  // Read before settle() (the API answers while the first dumps of other sources run): never below the last stop.
  assert.equal(second.tunnels().find((t) => t.reqid === 1)!.bytes, '1030');
  assert.equal(second.tunnels().find((t) => t.reqid === 9)!.bytes, '55', 'SA 9 (50, gone) counts before settle too');
  second.tracker.settle();
  await second.settle();
  const t1 = second.tunnels().find((t) => t.reqid === 1)!;
  assert.equal(t1.bytes, '1030', 'retired 1000 + live 30');
  assert.equal(t1.rotations, 1, 'the count survives');
  const t9 = second.tunnels().find((t) => t.reqid === 9)!;
  assert.equal(t9.bytes, '55', 'the dead SA 9 (50) retired + new SA 3 (5)');
  assert.equal(second.rotations.length, 0, 'nothing invented for the time sascope was down');
  assert.equal(t1.firstSeen, T0);
});

test('ovpn: a key swap is a rotation; key-swap-needed and peer-deleted alarms; PSP key rotations', async () => {
  const { model, clock, rotations, settle, tunnels, alarms } = rig();
  const counters = { rxBytes: 100n, txBytes: 200n, rxPackets: 1n, txPackets: 2n };
  const peer = (keys: Array<{ slot: string; keyId: number }>, state = 'ok') => ({
    key: '5:1', ifindex: 5, device: 'ovpn0', id: 1, remoteAddress: '192.0.2.1', vpn: counters, link: counters,
    keys: keys.map((k) => ({ ...k, cipher: 'aes-gcm' })), state, rotations: 0,
  });
  model.upsert('ovpn-peer', '5:1', peer([{ slot: 'primary', keyId: 1 }, { slot: 'secondary', keyId: 2 }]));
  await settle();
  const t = tunnels()[0]!;
  assert.equal(t.family, 'ovpn');
  assert.equal(t.bytes, '300');
  assert.equal(t.keyId, 1);
  model.upsert('ovpn-peer', '5:1', peer([{ slot: 'primary', keyId: 1 }], 'rekey-needed'));
  await settle();
  assert.deepEqual(alarms().map((a) => a.type), ['ovpn-key-swap-needed']);
  model.upsert('ovpn-peer', '5:1', peer([{ slot: 'primary', keyId: 2 }, { slot: 'secondary', keyId: 1 }]));
  await settle();
  assert.equal(rotations.at(-1)!.cause, 'new-key', 'key 2 was no longer the secondary');
  model.upsert('ovpn-peer', '5:1', peer([{ slot: 'primary', keyId: 1 }, { slot: 'secondary', keyId: 2 }]));
  await settle();
  assert.equal(rotations.at(-1)!.cause, 'key-swap');
  assert.equal(rotations.at(-1)!.oldKeyId, 2);
  assert.deepEqual(alarms(), []);
  model.remove('ovpn-peer', '5:1');
  await settle();
  assert.deepEqual(alarms().map((a) => a.type), ['peer-deleted']);
  assert.equal(tunnels()[0]!.state, 'down');
  // PSP: the first sight is a baseline; an increase is a rotation.
  model.upsert('psp-dev', '1', { id: 1, ifindex: 2, versionsCapable: [], versionsEnabled: [], rotations: 0 });
  model.upsert('psp-dev', '1', { id: 1, ifindex: 2, versionsCapable: [], versionsEnabled: [], rotations: 1, lastRotation: clock.now });
  await settle();
  assert.equal(rotations.at(-1)!.family, 'psp');
  assert.equal(rotations.at(-1)!.cause, 'key-rotate');
});

test('a stale or failed source raises source-stale; ok clears it', async () => {
  const { model, settle, alarms } = rig();
  model.status({ id: 'xfrm-sa', label: 'XFRM SAs', state: 'stale', reason: 'no dump for 30 s', since: T0, resyncs: 0, decodeErrors: 0 });
  await settle();
  assert.equal(alarms()[0]?.type, 'source-stale');
  model.status({ id: 'xfrm-sa', label: 'XFRM SAs', state: 'ok', since: T0, resyncs: 0, decodeErrors: 0 });
  await settle();
  assert.deepEqual(alarms(), []);
});

test('direction and policies come from the policy templates that lead to the tunnel (indexed), also when the policy comes later', async () => {
  const { model, settle, tunnels } = rig();
  put(model, sa(0x1));
  put(model, sa(0x2, { src: '10.0.0.2', dst: '10.0.0.1' }));
  await settle();
  assert.equal(tunnels().find((t) => t.src === '10.0.0.1')!.direction, undefined);
  const tmpl = (src: string, dst: string, reqid: number) => ({ dst, spi: 0, proto: 'esp', family: 'inet', src, reqid, mode: 'tunnel', share: 'any', optional: false, aalgos: 0, ealgos: 0, calgos: 0 });
  model.upsert('policy', '8:out', { key: '8:out', dir: 'out', templates: [tmpl('10.0.0.1', '10.0.0.2', 1)] });
  model.upsert('policy', '9:in', { key: '9:in', dir: 'in', templates: [tmpl('10.0.0.2', '10.0.0.1', 1)] });
  model.upsert('policy', '10:fwd', { key: '10:fwd', dir: 'fwd', templates: [tmpl('10.0.0.2', '10.0.0.1', 1)] });
  model.upsert('policy', '11:out', { key: '11:out', dir: 'out', templates: [tmpl('0.0.0.0', '0.0.0.0', 7)] });
  await settle();
  const out = tunnels().find((t) => t.src === '10.0.0.1')!;
  const inb = tunnels().find((t) => t.src === '10.0.0.2')!;
  assert.equal(out.direction, 'out');
  assert.deepEqual(out.policies, ['8:out']);
  assert.equal(inb.direction, 'in', 'in wins over fwd');
  assert.deepEqual(inb.policies, ['10:fwd', '9:in']);
  model.remove('policy', '8:out');
  await settle();
  assert.equal(tunnels().find((t) => t.src === '10.0.0.1')!.direction, undefined);
});

test('a policy whose template leaves its addresses open (reqid only) leads to the tunnels of that reqid its selector holds, those before it and those after it', async () => {
  const { model, settle, tunnels } = rig();
  put(model, sa(0x1, { reqid: 5 }));
  put(model, sa(0x2, { reqid: 6, dst: '10.0.0.3' }));
  put(model, sa(0x5, { reqid: 5, src: '10.0.0.2', dst: '10.0.0.1' }));
  await settle();
  // as the decoder gives a template the kernel leaves open (strongSwan's transport mode): zero addresses, no prefix
  const open = { dst: '0.0.0.0', spi: 0, proto: 'esp', family: 'inet', src: '0.0.0.0', reqid: 5, mode: 'transport', share: 'any', optional: false, aalgos: 0, ealgos: 0, calgos: 0 };
  const selector = (src: string, dst: string) => ({ family: 'inet', src, dst, sport: 0, sportMask: 0, dport: 0, dportMask: 0, proto: 'any', ifindex: 0, user: 0 });
  model.upsert('policy', '1:out', { key: '1:out', dir: 'out', selector: selector('10.0.0.1/32', '10.0.0.0/24'), templates: [open] });
  model.upsert('policy', '2:in', { key: '2:in', dir: 'in', selector: selector('10.0.0.0/24', '10.0.0.1/32'), templates: [open] });
  await settle();
  const of = (dst: string) => tunnels().find((t) => t.dst === dst)!;
  assert.deepEqual([of('10.0.0.2').policies, of('10.0.0.2').direction], [['1:out'], 'out'], 'the tunnel that was there');
  assert.deepEqual([of('10.0.0.1').policies, of('10.0.0.1').direction], [['2:in'], 'in'], 'the other direction: the in policy only');
  assert.deepEqual(of('10.0.0.3').policies, [], 'another reqid');
  put(model, sa(0x3, { reqid: 5, dst: '10.0.0.4' }));
  put(model, sa(0x4, { reqid: 5, dst: '10.9.0.4' }));
  await settle();
  assert.deepEqual(of('10.0.0.4').policies, ['1:out'], 'a tunnel made after it');
  assert.deepEqual(of('10.9.0.4').policies, [], 'its reqid, but outside the selector');
  model.remove('policy', '1:out');
  model.remove('policy', '2:in');
  await settle();
  assert.deepEqual([of('10.0.0.2').policies, of('10.0.0.4').policies, of('10.0.0.1').policies], [[], [], []]);
});

test('the reverse direction is the tunnel with the addresses swapped, not one whose addresses share its index hash', async () => {
  const { model, settle, tunnels } = rig();
  // FNV-1a of "esp|10.3.38.148|10.0.0.1" and "esp|10.7.165.0|10.0.0.1" are equal: the address index finds both.
  put(model, sa(0x1, { src: '10.0.0.1', dst: '10.3.38.148' }));
  put(model, sa(0x2, { src: '10.7.165.0', dst: '10.0.0.1' }));
  await settle();
  const of = (src: string) => tunnels().find((t) => t.src === src)!;
  assert.deepEqual([of('10.0.0.1').reverse, of('10.7.165.0').reverse], [undefined, undefined]);
  put(model, sa(0x3, { src: '10.3.38.148', dst: '10.0.0.1' }));
  await settle();
  assert.equal(of('10.0.0.1').reverse, of('10.3.38.148').key);
  assert.equal(of('10.3.38.148').reverse, of('10.0.0.1').key);
});

test('a rekey that fails (the new SA goes, the old stays) is an aborted rotation, not counted; the next one chains from the old SA', async () => {
  const { model, clock, rotations, settle, tunnels } = rig();
  const now = () => Math.floor(clock.now / 1000);
  put(model, sa(0x1));
  await settle();
  clock.now += 1000;
  const failed = sa(0x2, { addSec: now() });
  put(model, failed);
  await settle();
  model.remove('sa', failed.key);
  await settle();
  assert.equal(rotations.at(-1)!.state, 'aborted');
  assert.equal(tunnels()[0]!.rotations, 0);
  assert.equal(tunnels()[0]!.state, 'up');
  clock.now += 1000;
  put(model, sa(0x3, { addSec: now() }));
  await settle();
  assert.equal(rotations.at(-1)!.oldSpi, 0x1);
  assert.equal(rotations.at(-1)!.newSpi, 0x3);
  assert.equal(tunnels()[0]!.rotations, 1);
});

test('expiries come from the typed signal: the tracker finds them whatever the event’s words, and never from words alone', async () => {
  const { model, clock, rotations, settle, tunnels, alarms } = rig();
  const now = () => Math.floor(clock.now / 1000);
  const a = sa(0xc1);
  put(model, a);
  await settle();
  // Words an operator could see (another wording, another language) with the codes: soft expire found.
  clock.now += 20_000;
  ev(model, 'sa-soft-expire', a, 'SA reached its soft limit');
  put(model, sa(0xc2, { addSec: now() }));
  await settle();
  assert.equal(rotations.at(-1)!.cause, 'soft-expire');
  // The old words without a code (a source that only logs): no expiry is inferred from them.
  const c = sa(0xd1, { dst: '10.0.0.9' });
  put(model, c);
  await settle();
  model.event({ source: 'xfrm-sa', type: 'EXPIRE soft', summary: 'EXPIRE soft', ref: `sa:${c.key}` });
  clock.now += 5_000;
  put(model, sa(0xd2, { dst: '10.0.0.9', addSec: now() }));
  await settle();
  assert.equal(rotations.at(-1)!.cause, 'daemon-rekey');
  // Hard expire in other words: the removal is a hard expiry (alarm hard-expired, not tunnel-down).
  model.remove('sa', sa(0xc1).key);
  const b = sa(0xc2, { addSec: now() });
  model.remove('sa', b.key);
  ev(model, 'sa-hard-expire', b, 'limite dure atteinte');
  await settle();
  const t = tunnels().find((x) => x.sas.length === 0)!;
  assert.equal(t.state, 'down');
  assert.deepEqual(alarms().filter((x) => x.ref === `tunnel:${t.key}`).map((x) => x.type), ['hard-expired']);
  // The event row keeps its typed subject, and its ref is made from it.
  const last = (model.list('event') as Array<OnWire<KernelEvent>>).filter((e) => e.code === 'sa-hard-expire').at(-1)!;
  assert.deepEqual([last.subject, last.ref], [{ kind: 'sa', key: b.key }, `sa:${b.key}`]);
});

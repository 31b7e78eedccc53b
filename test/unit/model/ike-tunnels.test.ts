// strongSwan's view joined with the kernel's tunnels: an XFRM tunnel named "conn/child (peer id)" through its
// SAs' SPIs and reqid (rows after SAs, SAs after rows, row gone → plain name), a configured child with no SA as
// a down 'ike' tunnel with why (giving way to the XFRM tunnel when its SAs come), an operator's rekey as the
// cause of the rotation it makes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../../server/model/model.ts';
import { TunnelTracker } from '../../../server/model/tunnels.ts';
import { XFRM_INF } from '../../../server/model/countdown.ts';
import { parseConfig } from '../../../server/config.ts';
import type { OnWire } from '../../../server/wire/entities.ts';
import type { Rotation, Tunnel } from '../../../server/wire/tunnels.ts';
import { saKey, type SecurityAssociation } from '../../../server/wire/xfrm.ts';
import { OPERATOR_REKEY_WINDOW_MS, type ViciAction, type ViciChildSa, type ViciConnection, type ViciIkeSa } from '../../../server/wire/vici.ts';

const T0 = 1_800_000_000_000;

function rig() {
  const model = new Model();
  const clock = { now: T0 };
  const rotations: Rotation[] = [];
  new TunnelTracker(model, { thresholds: parseConfig('t', '{}').alarms, now: () => clock.now, tickMs: 0, onRotation: (r) => rotations.push(r) });
  const settle = () => new Promise((r) => setImmediate(r));
  const tunnels = () => (model.list('tunnel') as Array<OnWire<Tunnel>>).sort((a, b) => a.key.localeCompare(b.key));
  return { model, clock, rotations, settle, tunnels };
}

/** An ESP SA from src to dst (added now, per the fake clock). */
function espSa(spi: number, src: string, dst: string, reqid: number, addSec = Math.floor(T0 / 1000)): SecurityAssociation {
  const none = { softByteLimit: XFRM_INF, hardByteLimit: XFRM_INF, softPacketLimit: XFRM_INF, hardPacketLimit: XFRM_INF, softAddExpiresSeconds: 0n, hardAddExpiresSeconds: 0n, softUseExpiresSeconds: 0n, hardUseExpiresSeconds: 0n };
  return {
    key: saKey('inet', 'esp', dst, spi), src, dst, spi, proto: 'esp', family: 'inet', mode: 'tunnel', reqid, seq: 0, replayWindow: 32, flags: [],
    selector: { family: 'inet', src: '0.0.0.0/0', dst: '0.0.0.0/0', sport: 0, sportMask: 0, dport: 0, dportMask: 0, proto: 0, ifindex: 0, user: 0 },
    lifetime: { config: none, current: { bytes: 0n, packets: 0n, addTime: BigInt(addSec), useTime: 0n } },
    stats: { replayWindow: 0, replay: 0, integrityFailed: 0 },
    aead: { name: 'rfc4106(gcm(aes))', keyBits: 160, icvBits: 128, fingerprint: `fp${spi}` },
  } as SecurityAssociation;
}

const child = (uniqueId: number, spiIn: number, spiOut: number, o: Partial<ViciChildSa> = {}): ViciChildSa => ({
  name: 'net', uniqueId, ikeName: 'site', ikeUniqueId: 3, reqid: 1, state: 'INSTALLED', mode: 'TUNNEL', protocol: 'ESP',
  spiIn: spiIn.toString(16).padStart(8, '0'), spiOut: spiOut.toString(16).padStart(8, '0'), localTs: ['10.1.0.0/24'], remoteTs: ['10.2.0.0/24'], ...o,
});
const ike: ViciIkeSa = { name: 'site', uniqueId: 3, state: 'ESTABLISHED', remoteId: 'CN=berlin' };
const conn: ViciConnection = {
  name: 'site', localAddrs: ['10.0.0.1'], remoteAddrs: ['10.0.0.2'], local: [{ round: 'local', class: 'pre-shared key' }],
  remote: [{ round: 'remote', class: 'pre-shared key', id: 'CN=berlin' }], children: [{ name: 'net', localTs: [], remoteTs: [] }],
};
const put = (m: Model, s: SecurityAssociation) => m.upsert('sa', s.key, s);

test('IKE join: SAs first then the vici rows, rows first then SAs; a wrong reqid does not join; row gone → plain name', async () => {
  const { model, settle, tunnels } = rig();
  const inSa = espSa(0xc1000001, '10.0.0.2', '10.0.0.1', 1);
  const outSa = espSa(0xc2000002, '10.0.0.1', '10.0.0.2', 1);
  put(model, inSa);
  put(model, outSa);
  await settle();
  assert.deepEqual(tunnels().map((t) => t.name), ['10.0.0.1 → 10.0.0.2 esp reqid 1', '10.0.0.2 → 10.0.0.1 esp reqid 1'].sort());
  model.upsert('vici-ike', '3', ike);
  model.upsert('vici-child', '7', child(7, 0xc1000001, 0xc2000002));
  await settle();
  assert.deepEqual(tunnels().map((t) => t.name), ['site/net (CN=berlin)', 'site/net (CN=berlin)']);
  assert.deepEqual(tunnels()[0]!.ike, { conn: 'site', child: 'net', peerId: 'CN=berlin', ikeSa: '3', childSa: '7' });
  // The peer's identity follows its IKE SA's row (a remote-access user's EAP identity comes first).
  model.upsert('vici-ike', '3', { ...ike, remoteEapId: 'alice' });
  await settle();
  assert.equal(tunnels()[0]!.name, 'site/net (alice)');
  model.remove('vici-child', '7');
  await settle();
  assert.deepEqual(tunnels().map((t) => t.ike), [undefined, undefined]);
  assert.match(tunnels()[0]!.name, /esp reqid 1$/);

  // Rows first, then SAs; an SA with the same SPI but another reqid (another peer's) stays plain.
  model.upsert('vici-child', '8', child(8, 0xd1000001, 0xd2000002, { reqid: 5 }));
  await settle();
  put(model, espSa(0xd1000001, '10.0.0.9', '10.0.0.1', 5));
  put(model, espSa(0xd2000002, '10.0.0.7', '10.0.0.8', 6));
  await settle();
  const byDst = new Map(tunnels().map((t) => [t.dst, t]));
  assert.equal(byDst.get('10.0.0.1')?.name, 'site/net (alice)', 'the reqid-5 SA is joined');
  assert.equal(byDst.get('10.0.0.8')?.ike, undefined, 'reqid 6 is not the child');
});

test("configured child without SA: a down 'ike' tunnel with why; its SAs' tunnel replaces it; it comes back when they go", async () => {
  const { model, clock, settle, tunnels } = rig();
  model.upsert('vici-conn', 'site', conn);
  await settle();
  assert.equal(tunnels().length, 1);
  const down = tunnels()[0]!;
  assert.equal(down.key, 'ike:site/net');
  assert.equal(down.family, 'ike');
  assert.equal(down.state, 'down');
  assert.equal(down.name, 'site/net (CN=berlin)');
  assert.equal(down.ike?.downReason, 'never-established');
  // A failure charon gave is the reason.
  model.patch('vici-conn', 'site', { lastReason: { code: 'auth-failed', time: clock.now } });
  await settle();
  assert.equal(tunnels()[0]!.ike?.downReason, 'auth-failed');
  // Up: the XFRM tunnels carry the name, the down row is gone (no two rows for the child).
  clock.now += 5000;
  put(model, espSa(0xc1000001, '10.0.0.2', '10.0.0.1', 1));
  model.upsert('vici-ike', '3', ike);
  model.upsert('vici-child', '7', child(7, 0xc1000001, 0xc2000002));
  await settle();
  assert.deepEqual(tunnels().map((t) => [t.family, t.name]), [['xfrm', 'site/net (CN=berlin)']]);
  // A CHILD SA that is only routed (a trap policy) has no SA: still down.
  model.upsert('vici-child', '7', child(7, 0xc1000001, 0xc2000002, { state: 'ROUTED' }));
  await settle();
  assert.equal(tunnels().find((t) => t.family === 'ike')?.ike?.downReason, 'went-down', 'the old auth failure is from before it was up');
  model.remove('vici-child', '7');
  model.remove('vici-conn', 'site');
  await settle();
  assert.deepEqual(tunnels().map((t) => t.family), ['xfrm'], 'no longer configured: no ike row');
});

test('an operator rekey of a CHILD SA is the cause of its tunnels’ next rotation (with who); a later one is the daemon’s', async () => {
  const { model, clock, settle, rotations } = rig();
  clock.now += 1000;
  put(model, espSa(0xc1000001, '10.0.0.2', '10.0.0.1', 1));
  put(model, espSa(0xc2000002, '10.0.0.1', '10.0.0.2', 1));
  model.upsert('vici-ike', '3', ike);
  model.upsert('vici-child', '7', child(7, 0xc1000001, 0xc2000002));
  await settle();
  const action: ViciAction = { key: `${clock.now}-1`, action: 'rekey', target: { childId: 7 }, by: 'alice', startedAt: clock.now, result: 'running', log: [] };
  model.upsert('vici-action', action.key, action);
  clock.now += 1000;
  const sec = Math.floor(clock.now / 1000);
  put(model, espSa(0xc3000003, '10.0.0.2', '10.0.0.1', 1, sec));
  put(model, espSa(0xc4000004, '10.0.0.1', '10.0.0.2', 1, sec));
  await settle();
  assert.deepEqual(rotations.map((r) => [r.cause, r.by, r.tunnelName]), [['operator', 'alice', 'site/net (CN=berlin)'], ['operator', 'alice', 'site/net (CN=berlin)']]);
  // The new CHILD SA; the next rekey after the window is charon's own.
  model.remove('vici-child', '7');
  model.upsert('vici-child', '9', child(9, 0xc3000003, 0xc4000004));
  clock.now += OPERATOR_REKEY_WINDOW_MS + 1;
  put(model, espSa(0xc5000005, '10.0.0.2', '10.0.0.1', 1, Math.floor(clock.now / 1000)));
  await settle();
  assert.equal(rotations.at(-1)!.cause, 'daemon-rekey');
  assert.equal(rotations.at(-1)!.by, undefined);
  // A rekey charon refused causes nothing: the daemon's own rekey right after it is the daemon's.
  const refused: ViciAction = { ...action, key: `${clock.now}-2`, target: { childId: 9 }, startedAt: clock.now };
  model.upsert('vici-action', refused.key, refused);
  model.upsert('vici-action', refused.key, { ...refused, result: 'failed', error: 'no' });
  clock.now += 1000;
  put(model, espSa(0xc6000006, '10.0.0.1', '10.0.0.2', 1, Math.floor(clock.now / 1000)));
  await settle();
  assert.equal(rotations.at(-1)!.newSpi, 0xc6000006);
  assert.equal(rotations.at(-1)!.cause, 'daemon-rekey');
  // A loaded charon answers late: the window runs from its answer, so the rotation after it is still the operator's.
  model.upsert('vici-child', '10', child(10, 0xc5000005, 0xc6000006));
  await settle();
  const slow: ViciAction = { ...action, key: `${clock.now}-3`, target: { childId: 10 }, by: 'bob', startedAt: clock.now };
  model.upsert('vici-action', slow.key, slow);
  clock.now += OPERATOR_REKEY_WINDOW_MS;
  model.upsert('vici-action', slow.key, { ...slow, result: 'ok', endedAt: clock.now });
  clock.now += OPERATOR_REKEY_WINDOW_MS - 1000;
  put(model, espSa(0xc7000007, '10.0.0.2', '10.0.0.1', 1, Math.floor(clock.now / 1000)));
  await settle();
  assert.deepEqual([rotations.at(-1)!.newSpi, rotations.at(-1)!.cause, rotations.at(-1)!.by], [0xc7000007, 'operator', 'bob']);
});

test("a responder-only template (remote %any: remote access) with no SA is an idle 'ike' tunnel waiting for a peer, not down", async () => {
  const { model, clock, settle, tunnels } = rig();
  model.upsert('vici-conn', 'rw', { ...conn, name: 'rw', remoteAddrs: ['%any'], remote: [{ round: 'remote', class: 'EAP', id: '%any' }] });
  await settle();
  const row = tunnels()[0]!;
  assert.deepEqual([row.key, row.state, row.name, row.ike?.downReason], ['ike:rw/net', 'idle', 'rw/net', 'waiting-for-peer']);
  // A client's failed attempt does not make the template down either (the alarm says the failure).
  model.patch('vici-conn', 'rw', { lastReason: { code: 'auth-failed', time: clock.now } });
  await settle();
  assert.equal(tunnels()[0]!.state, 'idle');
});

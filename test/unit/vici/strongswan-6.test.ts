// strongSwan 6.1.0 over VICI, from a real charon in the lab (test/fixtures/vici/*-6.1.0.*, by
// test/tools/vici-lab-6x.sh): its list-conns, list-sas and events decode through the same codec and entity
// decoders as 5.9.8's, as swanctl showed them in the same run; the alert events of four failures (PSK, traffic
// selectors, IKE proposal, no peer), on both sides, give the typed reasons for the right connections; and the
// source, given the responder's alert about an IKE SA that has no config yet ("(unnamed)"), blames none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../helpers.ts';
import { Model } from '../../../server/model/model.ts';
import { createLogger } from '../../../server/log.ts';
import { decodeFramedPacket, type ViciPacket, type ViciSection } from '../../../server/families/vici/spec.ts';
import { eventFacts } from '../../../server/families/vici/entities.ts';
import { reasonOfAlert } from '../../../server/families/vici/reasons.ts';
import { ViciSource } from '../../../server/families/vici/source.ts';
import type { ViciConnection } from '../../../server/wire/vici.ts';
import { decodeViciPacket } from './fixture-decoder.ts';
import { charonLike, FakeCharon } from './fake-charon.ts';

const dir = path.join(projectRoot, 'test/fixtures/vici');
const hexes = (f: string): string[] => (JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { messages: Array<{ hex: string }> }).messages.map((m) => m.hex);
const packets = (f: string): ViciPacket[] => hexes(f).map((h) => decodeFramedPacket(Buffer.from(h, 'hex')));

test('lab-pair-6.1.0: version 6.1.0 with alert; list-conns and list-sas decode to what swanctl showed in the same run', () => {
  const out = hexes('lab-pair-6.1.0.fixture.json').map((h) => decodeViciPacket(Buffer.from(h, 'hex')) as Record<string, any>);
  assert.equal(out[0]!.message.version, '6.1.0');
  // version, an unknown command, then 9 registrations (list-conn, list-sa, list-cert, the 6 events): alert is confirmed
  assert.deepEqual(out.slice(2, 11).map((p) => p.type), Array(9).fill('EVENT_CONFIRM'));
  const swanctl = readFileSync(path.join(dir, 'lab-pair-6.1.0.swanctl.txt'), 'utf8').split('=== swanctl --list-sas after')[0]!;
  const [, , ispi, rspi] = /^lab: #(\d+), ESTABLISHED, IKEv2, ([0-9a-f]{16})_i\* ([0-9a-f]{16})_r$/m.exec(swanctl)!;
  const child = (name: string) => new RegExp(`^  ${name}: #(\\d+), reqid (\\d+), INSTALLED, (\\w+), .*\\n.*\\n    in  ([0-9a-f]{8}),.*\\n    out ([0-9a-f]{8}),`, 'm').exec(swanctl)!;

  const [conn] = out.find((p) => p.name === 'list-conn')!.connections;
  assert.equal(conn.name, 'lab');
  assert.deepEqual([conn.localPort, conn.remotePort], [500, 500], '6.x adds local_port and remote_port');
  assert.deepEqual(conn.children.map((c: any) => [c.name, c.mode, c.localTs, c.remoteTs]), [
    ['net', 'TUNNEL', ['10.1.0.0/24'], ['10.2.0.0/24']],
    ['host', 'TRANSPORT', ['dynamic[icmp]'], ['dynamic[icmp]']],
  ]);
  // 6.x lists the configured proposals as sections; the decoder keeps them as unknown, never drops or throws
  assert.ok(conn.unknown.some((u: any) => u.key === 'proposals'));

  const { ikes, children } = out.find((p) => p.name === 'list-sa')!.sas;
  assert.deepEqual([ikes[0].initiatorSpi, ikes[0].responderSpi, ikes[0].state, ikes[0].version], [ispi, rspi, 'ESTABLISHED', 2]);
  for (const name of ['net', 'host']) {
    const [, id, reqid, mode, spiIn, spiOut] = child(name);
    const c = children.find((x: any) => x.name === name);
    assert.deepEqual([c.uniqueId, c.reqid, c.mode, c.spiIn, c.spiOut, c.ikeName], [Number(id), Number(reqid), mode, spiIn, spiOut, 'lab'], name);
  }
  assert.deepEqual(out.slice(16).map((p) => p.name), ['child-rekey', 'child-updown', 'child-updown', 'ike-rekey']);
});

/** Per capture: the alert types charon sent, in order, and the reasons they give (connections blamed). */
const FAILURES: Record<string, { alerts: string[]; reasons: Array<{ conns: string[]; code: string }> }> = {
  // a's check of b's AUTH fails (6.1.0 picks another PSK than b for badpsk-a@lab); b hears AUTHENTICATION_FAILED
  badpsk: { alerts: ['peer-auth-failed', 'invalid-ike-spi'], reasons: [{ conns: ['badpsk'], code: 'auth-failed' }] },
  'badpsk-responder': { alerts: ['local-auth-failed'], reasons: [{ conns: ['badpsk'], code: 'auth-failed' }] },
  badts: { alerts: ['ts-mismatch', 'keep-on-child-sa-failure'], reasons: [{ conns: ['badts'], code: 'ts-unacceptable' }] },
  // b picks its config by the identities, which are lab's: its IKE SA is named lab
  'badts-responder': { alerts: ['ts-mismatch', 'keep-on-child-sa-failure'], reasons: [{ conns: ['lab'], code: 'ts-unacceptable' }] },
  badprop: { alerts: ['proposal-mismatch-ike'], reasons: [{ conns: ['badprop'], code: 'no-proposal' }] },
  // IKE_SA_INIT fails before b chooses a config: "(unnamed)", no connection to blame
  'badprop-responder': { alerts: ['proposal-mismatch-ike'], reasons: [{ conns: [], code: 'no-proposal' }] },
  nopeer: {
    alerts: ['retransmit-send', 'retransmit-send', 'retransmit-send', 'retransmit-send-timeout', 'peer-init-unreachable'],
    reasons: [{ conns: ['nopeer'], code: 'peer-not-responding' }, { conns: ['nopeer'], code: 'peer-not-responding' }],
  },
  'nopeer-responder': { alerts: [], reasons: [] },
};

test("6.1.0's alerts in four failures, on both sides, give the typed reasons for their connections", () => {
  for (const [name, want] of Object.entries(FAILURES)) {
    const alerts = packets(`failure-6.1.0-${name}.fixture.json`).filter((p) => p.type === 'EVENT' && p.name === 'alert');
    const facts = alerts.map((p) => eventFacts('alert', p.message!, 0));
    assert.deepEqual(facts.map((f) => f.alertType), want.alerts, `${name}: alert types`);
    assert.deepEqual(facts.map((f) => reasonOfAlert(f.alertType, f.names)).filter((r) => r !== undefined), want.reasons, `${name}: reasons`);
  }
});

test("the source, given b's alert for an IKE SA with no config yet and then a's, blames badprop only", async (t) => {
  const conns = packets('failure-6.1.0-badprop.fixture.json').filter((p) => p.name === 'list-conn').map((p) => p.message as ViciSection);
  const charon = await new FakeCharon(charonLike({ conns, sas: [] })).listen();
  t.after(() => charon.close());
  const model = new Model();
  const s = new ViciSource(model, createLogger('silent'), { socketPath: charon.path, refreshMs: 0 });
  t.after(() => s.stop());
  await s.start();
  const alertOf = (f: string) => hexes(f).find((h) => decodeFramedPacket(Buffer.from(h, 'hex')).name === 'alert')!;
  charon.broadcast(Buffer.from(alertOf('failure-6.1.0-badprop-responder.fixture.json'), 'hex'));
  charon.broadcast(Buffer.from(alertOf('failure-6.1.0-badprop.fixture.json'), 'hex'));
  const conn = () => model.get('vici-conn', 'badprop') as ViciConnection | undefined;
  for (let i = 0; i < 300 && !conn()?.lastReason; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(conn()?.lastReason?.code, 'no-proposal');
  const failed = model.list('event').filter((e) => (e as { type: string }).type === 'negotiation-failed') as Array<{ ref?: string }>;
  assert.deepEqual(failed.map((e) => e.ref), ['vici-conn:badprop'], 'no failure for "(unnamed)"');
});

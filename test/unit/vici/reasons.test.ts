// Failure reasons: charon 5.9.8's log lines captured in the lab (test/fixtures/vici/log-5.9.8-*.jsonl, by
// test/tools/vici-lab-failures.sh) map to their typed codes, on the initiator's and the responder's side;
// no other captured line maps to any; 6.x alert types map the same way; and the source, on a charon without
// alert, registers the log stream and sets lastReason on the connection (kept across a re-read).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../helpers.ts';
import { Model } from '../../../server/model/model.ts';
import { createLogger } from '../../../server/log.ts';
import { ViciSource } from '../../../server/families/vici/source.ts';
import { reasonOfAlert, reasonOfLog } from '../../../server/families/vici/reasons.ts';
import type { ViciConnection } from '../../../server/wire/vici.ts';
import { charonLike, event, FakeCharon } from './fake-charon.ts';

const dir = path.join(projectRoot, 'test/fixtures/vici');
/** Each capture's file: which connection failed, and the code both sides' lines must give. */
const EXPECTED: Record<string, string> = { badpsk: 'auth-failed', badts: 'ts-unacceptable', badprop: 'no-proposal', nopeer: 'peer-not-responding' };

function lines(file: string): Array<Record<string, string>> {
  return readFileSync(path.join(dir, file), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>).filter((l) => 'msg' in l);
}

test("captured 5.9.8 log lines: each failure's lines give its code for its connection, and no other line gives one", () => {
  const files = readdirSync(dir).filter((f) => /^log-5\.9\.8-.*\.jsonl$/.test(f));
  assert.ok(files.length >= 4, `captures in ${dir}`);
  for (const f of files) {
    const name = f.replace(/^log-5\.9\.8-/, '').replace(/(-responder)?\.jsonl$/, '');
    const got = lines(f).map(reasonOfLog).filter((r) => r !== undefined);
    const codes = new Set(got.map((r) => r.code));
    if (f.includes('responder') && name === 'nopeer') assert.equal(got.length, 0, f);
    else assert.deepEqual([...codes], [EXPECTED[name]], `${f}: ${JSON.stringify(got)}`);
    for (const r of got) assert.ok(r.conn === name || f.includes('responder'), `${f}: ${r.conn}`);
  }
});

test('6.x alert types map to the same codes; others, and names that are no type of charon\'s, to none', () => {
  assert.deepEqual(reasonOfAlert('peer-auth-failed', ['lab']), { conns: ['lab'], code: 'auth-failed' });
  assert.equal(reasonOfAlert('ts-mismatch', [])?.code, 'ts-unacceptable');
  assert.equal(reasonOfAlert('proposal-mismatch-child', [])?.code, 'no-proposal');
  assert.equal(reasonOfAlert('retransmit-send-timeout', [])?.code, 'peer-not-responding');
  assert.equal(reasonOfAlert('shutdown-signal', ['lab']), undefined);
  for (const t of ['constructor', 'toString', '__proto__']) assert.equal(reasonOfAlert(t, ['lab']), undefined, t);
  assert.equal(reasonOfLog({ msg: 'received AUTHENTICATION_FAILED notify error' }), undefined, 'a line without its IKE SA names no connection');
});

test('the source on a charon without alert: log registered, lastReason set on the connection and kept by a re-read', async (t) => {
  const charon = await new FakeCharon(charonLike({ conns: [{ lab: { local_addrs: ['10.0.0.1'], remote_addrs: ['10.0.0.2'], children: {} } }], sas: [], lacks: ['alert'] })).listen();
  t.after(() => charon.close());
  const model = new Model();
  const s = new ViciSource(model, createLogger('silent'), { socketPath: charon.path, refreshMs: 0 });
  t.after(() => s.stop());
  await s.start();
  assert.ok(charon.requests.some((r) => r.packet.type === 'EVENT_REGISTER' && r.packet.name === 'log'));
  const [line] = lines('log-5.9.8-badpsk.jsonl').filter((l) => reasonOfLog(l)?.code === 'auth-failed');
  charon.broadcast(event('log', { ...line!, 'ikesa-name': 'lab' }));
  const conn = () => model.get('vici-conn', 'lab') as ViciConnection;
  for (let i = 0; i < 300 && !conn().lastReason; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(conn().lastReason?.code, 'auth-failed');
  assert.ok(model.list('event').some((e) => (e as { type: string }).type === 'negotiation-failed'));
  await s.resync('test');
  assert.equal(conn().lastReason?.code, 'auth-failed', 'a re-read of list-conns keeps it');
});

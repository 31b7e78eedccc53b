// The vici source against a fake charon: its rows after the first read, events that drop what is gone and
// re-read what they name, a daemon without some events (EVENT_UNKNOWN: a state, not an error), no socket
// (not available, its rows gone), charon dying and coming back (stale, then ok again by itself), a slow
// charon (stale with the reason, then recovers), a bad row (counted, the rest kept).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, chownSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../helpers.ts';
import { Model } from '../../../server/model/model.ts';
import { createLogger } from '../../../server/log.ts';
import { ViciSource, type ViciSourceOptions } from '../../../server/families/vici/source.ts';
import { encodePacket, type EncodableSection } from '../../../server/families/vici/spec.ts';
import { charonLike, event, FakeCharon, type Handler } from './fake-charon.ts';

const log = createLogger('silent');

const CONN: EncodableSection = {
  lab: {
    local_addrs: ['10.0.0.1'], remote_addrs: ['10.0.0.2'], version: 'IKEv2', reauth_time: '0', rekey_time: '900',
    local: { class: 'pre-shared key', id: '10.0.0.1', groups: [], certs: [], cacerts: [] },
    remote: { class: 'pre-shared key', id: '10.0.0.2', groups: [], certs: [], cacerts: [] },
    children: { net: { mode: 'TUNNEL', rekey_time: '20', rekey_bytes: '0', rekey_packets: '0', 'local-ts': ['10.1.0.0/24'], 'remote-ts': ['10.2.0.0/24'], dpd_action: 'clear' } },
    unique: 'UNIQUE_NO',
  },
};

function sa(uniqueid: string, children: Record<string, { uniqueid: string; spiIn: string }>): EncodableSection {
  return {
    lab: {
      uniqueid, version: '2', state: 'ESTABLISHED', 'local-host': '10.0.0.1', 'local-port': '500', 'local-id': '10.0.0.1',
      'remote-host': '10.0.0.2', 'remote-port': '500', 'remote-id': '10.0.0.2', initiator: 'yes',
      'initiator-spi': 'a1b2c3d4e5f60718', 'responder-spi': '0102030405060708', 'encr-alg': 'AES_CBC', 'encr-keysize': '128',
      'integ-alg': 'HMAC_SHA2_256_128', 'prf-alg': 'PRF_HMAC_SHA2_256', 'dh-group': 'CURVE_25519', established: '10', 'rekey-time': '800',
      'child-sas': Object.fromEntries(Object.entries(children).map(([name, c]) => [`${name}-${c.uniqueid}`, {
        name, uniqueid: c.uniqueid, reqid: '1', state: 'INSTALLED', mode: 'TUNNEL', protocol: 'ESP', 'spi-in': c.spiIn, 'spi-out': 'c0ffee01',
        'encr-alg': 'AES_GCM_16', 'encr-keysize': '128', 'bytes-in': '18446744073709551615', 'packets-in': '3', 'bytes-out': '0', 'packets-out': '0',
        'rekey-time': '15', 'life-time': '25', 'install-time': '5', 'local-ts': ['10.1.0.0/24'], 'remote-ts': ['10.2.0.0/24'],
      }])),
    },
  };
}

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A fake charon (listening unless told not to) and a vici source on it, both ended after the test. */
async function setUp(t: TestContext, handler: Handler, opts: Omit<ViciSourceOptions, 'socketPath'> = {}, listen = true) {
  const charon = new FakeCharon(handler);
  if (listen) await charon.listen();
  t.after(() => charon.close());
  const model = new Model();
  const s = new ViciSource(model, log, { socketPath: charon.path, refreshMs: 0, ...opts });
  t.after(() => s.stop());
  return { charon, model, s };
}

/** Row keys of a kind: a connection's name, an SA's unique id. */
const keys = (model: Model, kind: 'vici-conn' | 'vici-ike' | 'vici-child') =>
  (model.list(kind) as Array<{ name: string; uniqueId?: number }>).map((r) => String(r.uniqueId ?? r.name)).sort();

test('first read: connections, IKE and CHILD SAs; a charon without alert says so in its ok reason', async (t) => {
  const state = { conns: [CONN], sas: [sa('1', { net: { uniqueid: '3', spiIn: 'c1d2e3f4' } })], lacks: ['alert', 'ike-update'] };
  const { charon, model, s } = await setUp(t, charonLike(state));
  await s.start();
  assert.equal(s.status.state, 'ok');
  assert.equal(s.status.reason, 'charon 5.9.8; events this version does not have: ike-update, alert');
  const conn = model.get('vici-conn', 'lab') as Record<string, unknown>;
  assert.deepEqual(conn.children, [{ name: 'net', mode: 'TUNNEL', rekeyTimeSeconds: 20, rekeyBytes: '0', rekeyPackets: '0', localTs: ['10.1.0.0/24'], remoteTs: ['10.2.0.0/24'], unknown: [{ key: 'dpd_action', length: 5 }] }]);
  assert.deepEqual(conn.unknown, [{ key: 'unique', length: 9 }], 'unknown keys by name and length only, never their value');
  assert.deepEqual((conn.local as unknown[])[0], { round: 'local', class: 'pre-shared key', id: '10.0.0.1', groups: [], certs: [], cacerts: [] });
  const ike = model.get('vici-ike', '1') as Record<string, unknown>;
  assert.equal(ike.state, 'ESTABLISHED');
  assert.equal(ike.initiatorSpi, 'a1b2c3d4e5f60718');
  assert.ok(Math.abs((ike.establishedAt as number) - (Date.now() - 10_000)) < 2000);
  const child = model.get('vici-child', '3') as Record<string, unknown>;
  assert.deepEqual([child.name, child.ikeName, child.ikeUniqueId, child.spiIn, child.bytesIn], ['net', 'lab', 1, 'c1d2e3f4', '18446744073709551615']);
  const registered = charon.requests.filter((r) => r.packet.type === 'EVENT_REGISTER').map((r) => r.packet.name);
  assert.deepEqual(registered, ['list-conn', 'list-sa', 'list-cert', 'ike-updown', 'ike-rekey', 'ike-update', 'child-updown', 'child-rekey', 'alert', 'log'], 'without alert, the log stream (failure reasons)');
});

test('events: a child rekey puts the new CHILD SA in from the event, drops the old one and re-reads that connection; ike down drops its SAs', async (t) => {
  const state = { conns: [CONN], sas: [sa('1', { net: { uniqueid: '3', spiIn: 'c1d2e3f4' } })] };
  const { charon, model, s } = await setUp(t, charonLike(state));
  await s.start();
  assert.deepEqual(keys(model, 'vici-child'), ['3']);
  // charon rekeys net: new child 4; the event names old 3 and new 4
  state.sas = [sa('1', { net: { uniqueid: '4', spiIn: 'c5c6c7c8' } })];
  const rekey = sa('1', {});
  (rekey.lab as EncodableSection)['child-sas'] = { 'net-3': { old: { name: 'net', uniqueid: '3', state: 'REKEYED' }, new: { name: 'net', uniqueid: '4', state: 'INSTALLED' } } };
  const sent = charon.requests.length;
  const ops: string[] = [];
  model.onChange((c) => void (c.kind === 'vici-child' && ops.push(`${c.op} ${c.key}`)));
  sendEvent(charon, 'child-rekey', rekey);
  await until(() => keys(model, 'vici-child').join() === '4', 'the rekeyed child');
  assert.equal((model.get('vici-child', '4') as { spiIn: string }).spiIn, 'c5c6c7c8');
  // The new child from the event itself, before the old one goes: a join never sees the child without a row.
  assert.deepEqual(ops.slice(0, 2), ['upsert 4', 'remove 3']);
  const events = (model.list('event') as Array<{ source: string; type: string; summary: string }>).filter((e) => e.source === 'vici');
  assert.deepEqual(events.map((e) => [e.type, e.summary]), [['child-rekey', 'lab: CHILD SA rekeyed']]);
  assert.ok(charon.requests.slice(sent).some((r) => r.packet.name === 'list-sas' && r.packet.message?.ike === 'lab'), 're-read by name');
  // IKE SA down: its rows go at once, before any re-read
  state.sas = [];
  sendEvent(charon, 'ike-updown', sa('1', {}));
  await until(() => keys(model, 'vici-ike').length === 0 && keys(model, 'vici-child').length === 0, 'IKE SA and children gone');
  assert.deepEqual(keys(model, 'vici-conn'), ['lab'], 'the configured connection stays');
});

test('events: an IKE rekey puts the new IKE SA in at once and moves the CHILD SAs under it before the old one goes', async (t) => {
  const state = { conns: [CONN], sas: [sa('1', { net: { uniqueid: '3', spiIn: 'c1d2e3f4' } })] };
  const { charon, model, s } = await setUp(t, charonLike(state));
  await s.start();
  const ops: string[] = [];
  model.onChange((c) => void ((c.kind === 'vici-ike' || c.kind === 'vici-child') && ops.push(`${c.op} ${c.kind} ${c.key}`)));
  // charon hangs on to the re-read's answer: what the model has then came from the event alone
  state.sas = [sa('2', { net: { uniqueid: '3', spiIn: 'c1d2e3f4' } })];
  const rekey: EncodableSection = { lab: { old: (sa('1', {}).lab as EncodableSection), new: (sa('2', {}).lab as EncodableSection) } };
  sendEvent(charon, 'ike-rekey', rekey);
  await until(() => keys(model, 'vici-ike').join() === '2', 'the new IKE SA');
  assert.deepEqual(ops.slice(0, 3), ['upsert vici-ike 2', 'upsert vici-child 3', 'remove vici-ike 1']);
  assert.equal((model.get('vici-child', '3') as { ikeUniqueId: number }).ikeUniqueId, 2);
});

/** charon raises an event: on every open connection of the fake (the source's). */
function sendEvent(charon: FakeCharon, name: string, m: EncodableSection): void {
  charon.broadcast(event(name, m));
}

test('no socket: not available with the reason; charon appears later: ok by itself', async (t) => {
  const { charon, model, s } = await setUp(t, charonLike({ conns: [CONN], sas: [sa('1', {})] }), { reconnectMinMs: 20, reconnectMaxMs: 50 }, false);
  await s.start();
  assert.equal(s.status.state, 'not-available');
  assert.match(s.status.reason!, /ENOENT \(no socket at .*charon\.vici: charon is not running, or its vici plugin is not loaded\)/);
  await charon.listen();
  await until(() => s.status.state === 'ok', 'ok after charon started');
  assert.deepEqual(keys(model, 'vici-ike'), ['1']);
});

test('charon dies: stale with the reason, reconnects when it is back and reads again; gone for good: not available, rows gone', async (t) => {
  const state = { conns: [CONN], sas: [sa('1', { net: { uniqueid: '3', spiIn: 'c1d2e3f4' } })] };
  const { charon, model, s } = await setUp(t, charonLike(state), { reconnectMinMs: 200, reconnectMaxMs: 400 });
  await s.start();
  await charon.dropConnections();
  await until(() => s.status.state === 'stale', 'stale');
  assert.match(s.status.reason!, /charon closed the connection; reconnecting/);
  assert.deepEqual(keys(model, 'vici-ike'), ['1'], 'stale rows stay while it reconnects');
  state.sas = [sa('7', {})]; // charon restarted: new unique ids
  await until(() => s.status.state === 'ok', 'ok again');
  assert.deepEqual(keys(model, 'vici-ike'), ['7']);
  assert.deepEqual(keys(model, 'vici-child'), []);
  await charon.stop();
  await until(() => s.status.state === 'not-available', 'not available');
  assert.deepEqual([keys(model, 'vici-conn'), keys(model, 'vici-ike')], [[], []], 'charon not running holds nothing');
});

test('a charon that does not answer: stale with the timeout in words, then ok once it answers again', async (t) => {
  const state = { conns: [CONN], sas: [sa('1', {})] };
  const answer = charonLike(state);
  let hang = false;
  const { s } = await setUp(t, (p, c) => (hang && p.name === 'list-sas' ? [] : answer(p, c)), { refreshMs: 100, timeoutMs: 150, reconnectMinMs: 50, reconnectMaxMs: 100 });
  await s.start();
  hang = true;
  await until(() => s.status.state === 'stale', 'stale');
  assert.match(s.status.reason!, /vici: list-sas: no answer in 150 ms \(charon busy or hung\); connection closed; reconnecting/);
  hang = false;
  await until(() => s.status.state === 'ok', 'ok again');
});

test('a row that does not decode is counted and skipped; the others stay', async (t) => {
  const bad = sa('2', {});
  (bad.lab as EncodableSection).uniqueid = 'two';
  const { charon, model, s } = await setUp(t, charonLike({ conns: [CONN], sas: [sa('1', {}), { other: (bad.lab as EncodableSection) }] }));
  await s.start();
  assert.equal(s.status.state, 'ok');
  assert.deepEqual(keys(model, 'vici-ike'), ['1']);
  assert.equal(s.status.decodeErrors, 1);
  assert.match(s.status.lastDecodeError!, /list-sa other: uniqueid: "two" is not a decimal number/);
});

test('a failure the source closes the connection for is said once, not also as a lost connection', async (t) => {
  const answer = charonLike({ conns: [], sas: [] });
  const { model, s } = await setUp(t, (p, c) => (p.type === 'EVENT_REGISTER' && p.name === 'list-sa' ? [encodePacket('EVENT_UNKNOWN')] : answer(p, c)), { reconnectMinMs: 60_000 });
  const reasons: string[] = [];
  const status = model.status.bind(model);
  model.status = (st) => (reasons.push(`${st.state}: ${st.reason}`), status(st));
  await s.start();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(reasons, ["stale: vici: register list-sa: charon has no such event (EVENT_UNKNOWN): it cannot list; reconnecting"]);
});

test("a socket open to charon's owner and group only: no permission, with the fix in words", { skip: process.getuid?.() !== 0 && 'needs root to run the source as another user' }, async (t) => {
  const { charon } = await setUp(t, charonLike({ conns: [], sas: [] }));
  chmodSync(charon.dir, 0o755);
  chmodSync(charon.path, 0o660); // as charon makes it (stream_service_unix.c: umask u+x g+x o+rwx, its user and group)
  // Run without blocking: the fake charon answers from this process.
  const statusAs = async (groups: string[]) => JSON.parse((await promisify(execFile)('setpriv', ['--reuid=65534', '--regid=65534', ...groups, process.execPath, '--import', 'tsx', path.join(import.meta.dirname, 'status-once.ts'), charon.path], { cwd: projectRoot, encoding: 'utf8', env: { ...process.env, HOME: '/tmp' } })).stdout) as { state: string; reason: string };
  const st = await statusAs(['--clear-groups']);
  assert.equal(st.state, 'no-permission');
  assert.equal(st.reason, `vici: connect ${charon.path}: EACCES (permission denied: charon's VICI socket ${charon.path} is open to its owner and group only — put sascope's user in charon's group: charon.group in strongswan.conf, SupplementaryGroups= in sascope's unit; docs/install.md)`);
  // The fix in words, done: the socket's group (charon.group) is one of sascope's supplementary groups (SupplementaryGroups=).
  const VICI_GROUP = 64_999;
  chownSync(charon.path, 0, VICI_GROUP);
  const fixed = await statusAs([`--groups=${VICI_GROUP}`]);
  assert.equal(fixed.state, 'ok', fixed.reason);
});

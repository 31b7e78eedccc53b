// Key material never leaves the backend (non-negotiable 3; issue 21): the whole single-host pipeline
// (startKernel: sources, tunnels, alarms, history, metrics) against a fake charon that sends a PSK, a private
// key and IKE key bytes under keys the tables do not know — in a connection, an authentication round, an IKE
// SA, a CHILD SA, a certificate and an alert — then an operator's rekey. Afterwards neither the history
// database's files nor /metrics nor the logs hold any of those bytes (as text, hex or raw), while they do hold
// what was recorded (the connection's failure, the operator's action: the check is not vacuous).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startKernel } from '../../../server/main.ts';
import { ConfigSchema } from '../../../server/config.ts';
import type { ViciAction } from '../../../server/wire/vici.ts';
import { memoryLogger } from '../memlog.ts';
import { charonLike, event, FakeCharon, response, type Handler } from './fake-charon.ts';

const PSK = 'sascope-test-PSK-Wz9q7Lx2Vb';
const IKE_KEY_HEX = '9f8e7d6c5b4a39281706f5e4d3c2b1a0ffeeddccbbaa99887766554433221100';
const ESP_KEY_HEX = '0123456789abcdeffedcba98765432100badc0ffee15900d';

test('no PSK, private key or IKE key bytes reach the history database, /metrics or the logs', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sascope-nosecret-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.der'), '-outform', 'DER', '-days', '30', '-subj', '/CN=moon.lab'], { stdio: 'ignore' });
  const privateKey = readFileSync(path.join(dir, 'k.pem'), 'utf8');
  const keyBody = privateKey.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
  const secrets: Array<[string, Buffer]> = [
    ['PSK', Buffer.from(PSK)],
    ['private key (PEM body)', Buffer.from(keyBody.slice(0, 48))],
    ['private key (DER)', Buffer.from(keyBody, 'base64').subarray(8, 40)],
    ['IKE key (hex)', Buffer.from(IKE_KEY_HEX)],
    ['IKE key (bytes)', Buffer.from(IKE_KEY_HEX, 'hex')],
    ['ESP key (hex)', Buffer.from(ESP_KEY_HEX)],
  ];
  const conn = {
    lab: {
      local_addrs: ['10.0.0.1'], remote_addrs: ['10.0.0.2'], version: 'IKEv2', secret: PSK, 'private-key': privateKey,
      local: { class: 'pre-shared key', id: 'moon', psk: PSK }, remote: { class: 'pre-shared key', id: 'sun', secret: PSK },
      children: { net: { mode: 'TUNNEL', 'local-ts': ['10.1.0.0/24'], 'remote-ts': ['10.2.0.0/24'], 'encr-key': ESP_KEY_HEX } },
    },
  };
  const ikeSa = {
    uniqueid: '1', version: '2', state: 'ESTABLISHED', 'local-host': '10.0.0.1', 'remote-host': '10.0.0.2', 'remote-id': 'sun',
    'sk-ei': IKE_KEY_HEX, 'sk-er': Buffer.from(IKE_KEY_HEX, 'hex'), 'shared-key': PSK,
    'child-sas': { 'net-2': { name: 'net', uniqueid: '2', reqid: '1', state: 'INSTALLED', 'spi-in': 'c1000001', 'spi-out': 'c2000002', 'encr-key-in': ESP_KEY_HEX, 'local-ts': [], 'remote-ts': [] } },
  };
  const base = charonLike({ conns: [conn], sas: [{ lab: ikeSa }] });
  const handler: Handler = (p, c) => {
    if (p.type !== 'CMD_REQUEST') return base(p, c);
    if (p.name === 'list-certs') return [event('list-cert', { type: 'X509', flag: 'NONE', has_privkey: 'yes', data: readFileSync(path.join(dir, 'c.der')), privkey: privateKey }), response()];
    if (p.name === 'rekey') return [event('log', { group: 'IKE', level: '1', 'ikesa-name': 'lab', 'ikesa-uniqueid': '1', msg: 'initiating IKE_SA lab[1] rekeying' }), response({ success: 'yes' })];
    return base(p, c);
  };
  const charon = await new FakeCharon(handler).listen();
  t.after(() => charon.close());
  const mem = memoryLogger();
  const config = ConfigSchema.parse({ vici: { socket: charon.path }, history: { flushMs: 50 } });
  const k = startKernel(mem.log, { dataDir: dir, config, history: true });
  let stopped = false;
  t.after(() => stopped || k.stop());
  await k.ready;
  const vici = k.sources.find((s) => s.id === 'vici')!;
  const until = async (what: string, ok: () => boolean) => {
    for (const end = Date.now() + 5000; !ok(); await new Promise((r) => setTimeout(r, 20))) if (Date.now() > end) throw new Error(`timed out: ${what}`);
  };
  await until('the vici source ok', () => vici.status.state === 'ok');
  // A 6.x alert with the same secrets beside what it says (its failure reason is typed, its words ours).
  charon.broadcast(event('alert', { type: 'peer-auth-failed', 'ike-sa': { lab: { ...ikeSa, 'child-sas': {} } }, secret: PSK }));
  const started = k.actions.vici!('rekey', { ikeId: 1 }, 'alice');
  assert.ok(started.started);
  await until('the rekey recorded', () => (k.model.list('vici-action') as ViciAction[]).some((a) => a.result !== 'running'));
  await until('the failure event', () => (k.model.list('event') as Array<{ type: string }>).some((e) => e.type === 'negotiation-failed'));
  const metrics = await k.metrics.text();
  k.stop();
  stopped = true;
  const files = readdirSync(dir).filter((f) => !['k.pem', 'c.der'].includes(f));
  const db = Buffer.concat(files.flatMap((f) => { try { return [readFileSync(path.join(dir, f))]; } catch { return []; } }));
  assert.ok(db.includes('alice') && db.includes('negotiation-failed'), `history holds the action and the failure (files: ${files.join(', ')})`);
  assert.match(metrics, /sascope_source_up\{source="vici"\} 1/);
  const logs = Buffer.from(mem.lines.map((l) => JSON.stringify(l)).join('\n'));
  for (const [what, bytes] of secrets) {
    assert.ok(!db.includes(bytes), `${what} in the history database`);
    assert.ok(!Buffer.from(metrics).includes(bytes), `${what} in /metrics`);
    assert.ok(!logs.includes(bytes), `${what} in the logs`);
  }
});

// charon's certificates: list-certs' DER (bytes through the codec unchanged) parsed with X509Certificate into
// subject, issuer, serial and dates, the private key only as a flag; cert-expiring within certWarnDays,
// cert-expired past notAfter, nothing for one far from expiry; a charon without list-certs has none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { Model } from '../../../server/model/model.ts';
import { AlarmBook } from '../../../server/model/alarms.ts';
import { certAlarms, ViciAlarms } from '../../../server/model/vici-alarms.ts';
import { createLogger } from '../../../server/log.ts';
import { ViciSource } from '../../../server/families/vici/source.ts';
import type { ViciCertificate } from '../../../server/wire/vici.ts';
import { charonLike, event, FakeCharon, response, type Handler } from './fake-charon.ts';

/** A self-signed certificate valid for `days`, as DER (openssl, as an operator would make one). */
function certDer(days: number): Buffer {
  const dir = mkdtempSync(path.join(tmpdir(), 'sascope-cert-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.der'), '-outform', 'DER', '-days', String(days), '-subj', '/CN=moon.lab'], { stdio: 'ignore' });
  return readFileSync(path.join(dir, 'c.der'));
}

test('list-certs: the DER parsed (subject, dates, fingerprint), the private key only as a flag; alarms by expiry', async (t) => {
  const der = certDer(3);
  const base = charonLike({ conns: [], sas: [] });
  const handler: Handler = (p, conn) =>
    p.type === 'CMD_REQUEST' && p.name === 'list-certs' ? [event('list-cert', { type: 'X509', flag: 'NONE', has_privkey: 'yes', data: der }), event('list-cert', { type: 'X509_CRL', data: Buffer.of(1, 2) }), response()] : base(p, conn);
  const charon = await new FakeCharon(handler).listen();
  t.after(() => charon.close());
  const model = new Model();
  const s = new ViciSource(model, createLogger('silent'), { socketPath: charon.path, refreshMs: 0 });
  t.after(() => s.stop());
  await s.start();
  assert.equal(s.status.state, 'ok', s.status.reason);
  const certs = model.list('vici-cert') as ViciCertificate[];
  assert.equal(certs.length, 1, 'a CRL is not a certificate row');
  const x = new X509Certificate(der);
  assert.deepEqual({ ...certs[0], key: undefined }, { key: undefined, fingerprint: x.fingerprint256, subject: 'CN=moon.lab', issuer: 'CN=moon.lab', serial: x.serialNumber, notBefore: Date.parse(x.validFrom), notAfter: Date.parse(x.validTo), flag: 'NONE', hasPrivateKey: true });
  assert.equal(charon.requests.find((r) => r.packet.name === 'list-certs')!.packet.message!['type'], 'X509');

  const book = new AlarmBook(model, () => 0);
  const alarms = new ViciAlarms(model, book, { certWarnDays: 7 });
  t.after(() => alarms.close());
  alarms.evaluate();
  assert.deepEqual(book.all().map((a) => `${a.type} ${a.severity} ${a.value}/${a.threshold}`), ['cert-expiring warning 3/7']);
  const c = certs[0]!;
  assert.deepEqual(certAlarms(c, c.notAfter + 1, 7 * 86400_000).map((a) => a.type), ['cert-expired']);
  assert.deepEqual(certAlarms(c, c.notAfter - 30 * 86400_000, 7 * 86400_000), []);
});

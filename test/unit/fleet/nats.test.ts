// NATS settings as the agent and console take them: URLs (credentials in a URL refused), one way to
// authenticate, files read at start with the file and errno named, TLS options, the inbox prefix of the
// identity, and the reconnect backoff's bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NatsSettingsError, natsConnectionOptions, natsServers, reconnectDelayMs } from '../../../server/fleet/nats.ts';

test('servers: nats:// and tls:// URLs, host:port alone, several comma-separated; anything else refused in words', () => {
  assert.deepEqual(natsServers('nats://127.0.0.1:4222, tls://nats.example:4443,10.0.0.1:4222'), ['nats://127.0.0.1:4222', 'tls://nats.example:4443', '10.0.0.1:4222']);
  const bad: Array<[string, RegExp]> = [
    ['', /no NATS server given/],
    ['http://x:1', /scheme must be nats:\/\/ or tls:\/\//],
    ['nats://user:pw@x:4222', /carries credentials/],
    ['nats://x:4222/path', /nothing after/],
    ['nats://[bad', /bad NATS URL/],
  ];
  for (const [url, re] of bad) {
    assert.throws(() => natsServers(url), (e) => e instanceof NatsSettingsError && re.test(e.message) && !e.message.includes('pw@'), url);
  }
});

test('connection options: the identity\'s inbox prefix and client name; one way to authenticate; pairs go together', () => {
  const o = natsConnectionOptions({ url: 'nats://127.0.0.1:4222', identity: 'gw1' });
  assert.equal(o.inboxPrefix, '_INBOX_gw1');
  assert.equal(o.name, 'sascope gw1');
  assert.equal(o.tls, undefined);
  assert.deepEqual(natsConnectionOptions({ url: 'tls://127.0.0.1:4222', identity: 'gw1' }).tls, {}, 'a tls:// URL asks for TLS');
  const u = natsConnectionOptions({ url: 'nats://127.0.0.1:4222', identity: 'gw1', user: 'gw1', password: 'pw' });
  assert.equal(u.user, 'gw1');
  assert.equal(u.pass, 'pw');
  assert.throws(() => natsConnectionOptions({ url: 'nats://x:1', identity: 'gw1', user: 'gw1' }), /--nats-user and --nats-password go together/);
  assert.throws(() => natsConnectionOptions({ url: 'nats://x:1', identity: 'gw1', user: 'a', password: 'b', nkeyFile: '/x' }), /one way to authenticate/);
  assert.throws(() => natsConnectionOptions({ url: 'nats://x:1', identity: 'gw1', tlsCert: '/x' }), /--nats-tls-cert and --nats-tls-key go together/);
});

test('files are read at start: a missing one names the option, the file and the errno; a seed file must hold a seed', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sascope-nats-'));
  assert.throws(() => natsConnectionOptions({ url: 'nats://x:1', identity: 'gw1', credsFile: path.join(dir, 'none.creds') }), /--nats-creds .*none\.creds: cannot read it: ENOENT/);
  assert.throws(() => natsConnectionOptions({ url: 'nats://x:1', identity: 'gw1', tlsCa: path.join(dir, 'ca.pem') }), /--nats-tls-ca .*ca\.pem: cannot read it: ENOENT/);
  writeFileSync(path.join(dir, 'bad.nk'), 'not a seed\n');
  assert.throws(() => natsConnectionOptions({ url: 'nats://x:1', identity: 'gw1', nkeyFile: path.join(dir, 'bad.nk') }), /not an nkey seed/);
  writeFileSync(path.join(dir, 'ca.pem'), 'CA');
  writeFileSync(path.join(dir, 'c.pem'), 'CERT');
  writeFileSync(path.join(dir, 'k.pem'), 'KEY');
  const t = natsConnectionOptions({ url: 'nats://x:1', identity: 'gw1', tlsCa: path.join(dir, 'ca.pem'), tlsCert: path.join(dir, 'c.pem'), tlsKey: path.join(dir, 'k.pem') });
  assert.deepEqual(t.tls, { ca: 'CA', cert: 'CERT', key: 'KEY' });
});

test('reconnect backoff: about 1 s first, doubling, never past 30 s (±20 % jitter)', () => {
  for (let i = 0; i < 50; i++) {
    const first = reconnectDelayMs(0);
    assert.ok(first >= 800 && first <= 1200, String(first));
    const later = reconnectDelayMs(20);
    assert.ok(later >= 24_000 && later <= 36_000, String(later));
  }
  assert.ok(reconnectDelayMs(2) > reconnectDelayMs(0));
});

// NATS settings as the agent and console take them: URLs (credentials in a URL refused), one way to
// authenticate, files read at start with the file and errno named, TLS options, the inbox prefix of the
// identity, and the reconnect backoff's bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NatsSettingsError, natsConnectionOptions, natsServers, reconnectDelayMs, redialWaitMs } from '../../../server/fleet/nats.ts';

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

/**
 * The client's reconnect loop as @nats-io/nats-core runs it (protocol.js dialLoop): every turn asks for the
 * wait, dials when the last dial is older than that, else sleeps the rest of it. Returns when the first dial
 * at or after `backMs` (the server is up again) happens.
 */
function firstDialAfter(backMs: number, wait: (nowMs: number) => number): number {
  let now = 0;
  let lastDial = -Infinity;
  for (;;) {
    const w = wait(now);
    if (lastDial + w <= now) {
      lastDial = now;
      if (now >= backMs) return now;
    } else now += Math.min(w, lastDial + w - now);
  }
}

test("a server back after a restart is redialled within about a second while the outage is short, within a third of it when long, never past 30 s", () => {
  for (const jitter of [0.8, 1, 1.2]) {
    const ours = (now: number) => redialWaitMs(now, jitter);
    assert.ok(firstDialAfter(3000, ours) <= 3000 + 1200, `3 s outage, jitter ${jitter}: ${firstDialAfter(3000, ours)}`);
    assert.ok(firstDialAfter(60_000, ours) <= 60_000 * 1.4, `60 s outage: ${firstDialAfter(60_000, ours)}`);
    assert.ok(firstDialAfter(600_000, ours) <= 600_000 + 36_000);
  }
  // the count of calls the old handler was (reconnectDelayMs(calls++)) put the redial after a 3 s outage 30 s out
  let calls = 0;
  assert.ok(firstDialAfter(3000, () => reconnectDelayMs(calls++)) >= 20_000);
});

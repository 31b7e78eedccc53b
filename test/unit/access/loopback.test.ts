// Open loopback against DNS rebinding and same-host proxies: a loopback connection is let in without a
// token only with a Host naming this machine, a browser Origin naming this server, and no forwarding
// headers; a token is accepted whatever the Host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Auth, hostName } from '../../../server/hub/auth.ts';

const VIEWER = 'viewer-token-0123456789-0123456789-abc';
const open = new Auth({ tokens: [{ name: 'wall', role: 'viewer', token: VIEWER }], openLoopback: true, allowedOrigins: ['https://noc.example.net'], tls: false, listenHost: 'gw.lan' });
const req = (headers: Record<string, string>, remote = '127.0.0.1') => ({ headers, socket: { remoteAddress: remote } }) as unknown as IncomingMessage;
const who = (headers: Record<string, string>, remote?: string) => {
  const r = open.identify(req(headers, remote), new URL('/', 'http://x'));
  return r.ok ? r.principal.via : `${r.status} ${r.code}`;
};

test('open loopback: a Host naming this machine is let in without a token', () => {
  for (const host of ['127.0.0.1:7300', 'localhost:7300', 'localhost', '[::1]:7300', '127.1.2.3', 'app.localhost:7300', 'gw.lan:7300', 'noc.example.net', 'LOCALHOST:7300']) {
    assert.equal(who({ host }), 'loopback', host);
  }
  assert.equal(who({}), 'loopback', 'no Host at all (HTTP/1.0): not a browser');
  assert.equal(who({ host: 'localhost:7300' }, '::1'), 'loopback');
});

test('open loopback: DNS rebinding — a foreign Host, or a foreign Origin, is refused', () => {
  assert.equal(who({ host: 'attacker.example:7300', origin: 'http://attacker.example:7300' }), '401 foreign-host');
  assert.equal(who({ host: 'attacker.example' }), '401 foreign-host');
  assert.equal(who({ host: '127.0.0.1.attacker.example' }), '401 foreign-host');
  assert.equal(who({ host: 'localhost.attacker.example' }), '401 foreign-host');
  assert.equal(who({ host: 'localhost@attacker.example' }), '401 foreign-host', 'not host[:port]');
  assert.equal(who({ host: 'localhost:7300', origin: 'http://attacker.example' }), '403 bad-origin');
  assert.equal(who({ host: 'localhost:7300', origin: 'http://localhost:7300' }), 'loopback', "the page's own origin");
  assert.equal(who({ host: 'localhost:7300', origin: 'https://noc.example.net' }), 'loopback', 'an allowed origin');
});

test('open loopback: a request through a proxy (forwarding headers) is not loopback', () => {
  assert.equal(who({ host: 'localhost:7300', 'x-forwarded-for': '203.0.113.9' }), '401 proxied');
  assert.equal(who({ host: 'localhost:7300', forwarded: 'for=203.0.113.9' }), '401 proxied');
  assert.equal(who({ host: 'localhost:7300', 'x-real-ip': '203.0.113.9' }), '401 proxied');
});

test('a token is accepted whatever the Host (a dashboard reached by IP or name; a rebinding page has none)', () => {
  assert.equal(who({ host: 'attacker.example', authorization: `Bearer ${VIEWER}` }), 'header');
  assert.equal(who({ host: '192.0.2.7:7300', cookie: `sascope_token=${VIEWER}` }, '192.0.2.9'), 'cookie');
  assert.equal(who({ host: 'localhost', 'x-forwarded-for': '203.0.113.9', authorization: `Bearer ${VIEWER}` }), 'header');
});

test('hostName: host[:port] only', () => {
  assert.equal(hostName('[::1]:7300'), '[::1]');
  assert.equal(hostName('Example.NET:80'), 'example.net');
  assert.equal(hostName('a b'), undefined);
  assert.equal(hostName('a/b'), undefined);
});

// Tokens: redacted from logged URLs however the parameter name is encoded; a per-address backoff after
// wrong tokens; configured tokens of at least 32 characters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Auth, WrongTokenBackoff, redactedUrl } from '../../../server/hub/auth.ts';
import { parseConfig } from '../../../server/config.ts';

test('redactedUrl: the token parameter however its name is written', () => {
  assert.equal(redactedUrl('/?%74oken=abc'), '/?%74oken=[redacted]');
  assert.equal(redactedUrl('/x?a=1&%74%6F%6B%65%6E=abc&b=2'), '/x?a=1&%74%6F%6B%65%6E=[redacted]&b=2');
  assert.equal(redactedUrl('/?TOKEN=abc'), '/?TOKEN=[redacted]');
  assert.equal(redactedUrl('/?access_token=abc'), '/?access_token=[redacted]');
  assert.equal(redactedUrl('/?token'), '/?token=[redacted]');
  assert.equal(redactedUrl('/ws?since=3&token=abc&x=1'), '/ws?since=3&token=[redacted]&x=1');
  assert.equal(redactedUrl('/?tokens=1&mytoken=2'), '/?tokens=1&mytoken=2', 'other names stay');
  assert.equal(redactedUrl('/plain'), '/plain');
  // What the server reads as the token is what is redacted.
  const url = '/?%74oken=secret-secret';
  assert.equal(new URL(url, 'http://x').searchParams.get('token'), 'secret-secret');
  assert.ok(!redactedUrl(url).includes('secret'));
});

test('backoff: free tries, then 1 s, 2 s, 4 s … per address, at most 60 s; forgotten after 15 minutes', () => {
  const clock = { t: 0 };
  const b = new WrongTokenBackoff(() => clock.t);
  for (let i = 0; i < WrongTokenBackoff.FREE_WRONG; i++) b.wrong('a');
  assert.equal(b.waitMs('a'), 0);
  b.wrong('a');
  assert.equal(b.waitMs('a'), 1000);
  b.wrong('a');
  assert.equal(b.waitMs('a'), 2000);
  assert.equal(b.waitMs('b'), 0, 'another address is not slowed');
  for (let i = 0; i < 20; i++) b.wrong('a');
  assert.equal(b.waitMs('a'), 60_000);
  clock.t += 60_000;
  assert.equal(b.waitMs('a'), 0);
  b.wrong('a');
  assert.equal(b.waitMs('a'), 60_000, 'still remembered');
  clock.t += 16 * 60_000;
  b.wrong('a');
  assert.equal(b.waitMs('a'), 0, 'forgotten: free again');
});

test('backoff in Auth: a wrong-token flood from one address gets 429, a right token from it too while it waits', () => {
  const clock = { t: 0 };
  const OP = 'operator-token-0123456789-0123456789-xyz';
  const auth = new Auth({ tokens: [{ name: 'op', role: 'operator', token: OP }], openLoopback: false, allowedOrigins: [], tls: false, now: () => clock.t });
  const req = (authorization: string, remote = '192.0.2.9') => ({ headers: { authorization }, socket: { remoteAddress: remote } }) as unknown as IncomingMessage;
  const u = new URL('/', 'http://x');
  const codes = Array.from({ length: 300 }, (_, i) => {
    const r = auth.identify(req(`Bearer guess-${i}`), u);
    return r.ok ? 'ok' : r.code;
  });
  assert.equal(codes.filter((c) => c === 'bad-token').length, WrongTokenBackoff.FREE_WRONG + 1, 'only the free tries (and the one that started the wait) were looked at');
  const right = auth.identify(req(`Bearer ${OP}`), u);
  assert.equal(!right.ok && right.status, 429, 'no oracle while waiting');
  assert.ok(!right.ok && right.retryAfterMs! > 0);
  assert.equal(auth.identify(req(`Bearer ${OP}`, '192.0.2.10'), u).ok, true, 'another address');
  clock.t += 1000;
  assert.equal(auth.identify(req(`Bearer ${OP}`), u).ok, true, 'after the wait');
  // Wrong cookies and URL tokens count too; no credential at all does not.
  const cookieReq = { headers: { cookie: 'sascope_token=stale' }, socket: { remoteAddress: '192.0.2.11' } } as unknown as IncomingMessage;
  for (let i = 0; i < 12; i++) auth.identify(cookieReq, u);
  assert.equal((auth.identify(cookieReq, u) as { status: number }).status, 429);
  const urlReq = { headers: {}, socket: { remoteAddress: '192.0.2.12' } } as unknown as IncomingMessage;
  for (let i = 0; i < 12; i++) auth.identify(urlReq, new URL('/?token=nope', 'http://x'));
  assert.equal((auth.identify(urlReq, new URL('/?token=nope', 'http://x')) as { status: number }).status, 429);
  const bare = { headers: {}, socket: { remoteAddress: '192.0.2.13' } } as unknown as IncomingMessage;
  for (let i = 0; i < 30; i++) auth.identify(bare, u);
  assert.equal((auth.identify(bare, u) as { code: string }).code, 'no-token');
});

test('config: a configured token shorter than 32 characters is a clear error (without echoing it)', () => {
  const cfg = (token: string) => `{"tokens":[{"name":"wall","role":"viewer","token":"${token}"}]}`;
  assert.throws(() => parseConfig('/etc/sascope.json', cfg('0123456789abcdef0123456789abcde')), (e: Error) => {
    assert.match(e.message, /^\/etc\/sascope\.json: tokens\[0\]\.token: a token needs at least 32 characters/);
    assert.ok(!e.message.includes('0123456789abcdef'));
    return true;
  });
  assert.equal(parseConfig('c', cfg('0123456789abcdef0123456789abcdef')).tokens?.length, 1);
});

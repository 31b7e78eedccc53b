// Config validation (path + offending key), token creation (0600, once), token lookup, Origin, redaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import { ConfigError, loadConfig, loadTokens, parseConfig, resolveServeConfig } from '../../../server/config.ts';
import { Auth, isLoopback, redactedUrl, safeNext } from '../../../server/hub/auth.ts';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'sascope-unit-'));

test('config: defaults, and a bad key is named with the file', () => {
  const c = parseConfig('/x/config.json', '{}');
  assert.equal(c.openLoopback, false);
  assert.equal(c.history.retentionDays, 7);
  assert.equal(c.alarms.sequenceUsedPercent, 80);
  assert.equal(c.metrics.maxTunnelSeries, 200);
  assert.throws(() => parseConfig('/x/config.json', '{"history":{"retentionDays":-1}}'), (e: Error) => e instanceof ConfigError && /^\/x\/config\.json: history\.retentionDays: /.test(e.message));
  assert.throws(() => parseConfig('/x/c.json', '{"bogus":1}'), /\/x\/c\.json: unknown key bogus/);
  assert.throws(() => parseConfig('/x/c.json', '{"tokens":[{"name":"a","role":"viewer","token":"short"}]}'), /tokens\[0\]\.token: a token needs at least 32 characters/);
  const dup = '{"tokens":[{"name":"a","role":"viewer","token":"0123456789abcdef0123456789abcdef"},{"name":"a","role":"operator","token":"0123456789abcdef0123456789abcdeX"}]}';
  assert.throws(() => parseConfig('/x/c.json', dup), /tokens\[1\]\.name: 'a' is used twice/);
});

test('config: an explicit --config must exist; the data-dir default may be absent', () => {
  const dir = tmp();
  assert.equal(loadConfig({ dataDir: dir }).file, undefined);
  assert.throws(() => loadConfig({ dataDir: dir, configPath: path.join(dir, 'nope.json') }), /nope\.json: cannot read \(ENOENT\)/);
  writeFileSync(path.join(dir, 'config.json'), '{"openLoopback":true}');
  assert.equal(loadConfig({ dataDir: dir }).config.openLoopback, true);
});

test('tokens: created once (operator + viewer, mode 0600), then read back; config tokens win', () => {
  const dir = tmp();
  const cfg = parseConfig('c', '{}');
  const a = loadTokens(cfg, dir);
  assert.equal(a.created, path.join(dir, 'tokens.json'));
  assert.deepEqual(a.tokens.map((t) => t.role).sort(), ['operator', 'viewer']);
  assert.equal(statSync(a.created!).mode & 0o777, 0o600);
  const b = loadTokens(cfg, dir);
  assert.equal(b.created, undefined);
  assert.deepEqual(b.tokens, a.tokens);
  const withTokens = parseConfig('c', '{"tokens":[{"name":"wall","role":"viewer","token":"wall-token-0123456789-0123456789-0123"}]}');
  assert.equal(loadTokens(withTokens, dir).from, 'config');
  writeFileSync(path.join(dir, 'tokens.json'), '{"tokens":[]}');
  assert.throws(() => loadTokens(cfg, dir), /tokens\.json: tokens: /);
});

test('tokens: an unwritable data dir is a problem, fatal only without open loopback', () => {
  // A "directory" under a regular file: ENOTDIR even for root (a chmod 0500 directory would not stop root).
  const file = path.join(tmp(), 'a-file');
  writeFileSync(file, '');
  const dir = path.join(file, 'data');
  assert.match(loadTokens(parseConfig('c', '{}'), dir).problem ?? '', /cannot (create|read) .*tokens\.json \((EACCES|ENOTDIR)\)/);
  assert.throws(() => resolveServeConfig({ dataDir: dir }), /nobody could sign in/);
  assert.equal(resolveServeConfig({ dataDir: dir, openLoopback: true }).tokens.tokens.length, 0);
});

test('tls: both files or neither', () => {
  const dir = tmp();
  assert.throws(() => resolveServeConfig({ dataDir: dir, tlsCert: '/x' }), /go together/);
  assert.throws(() => resolveServeConfig({ dataDir: dir, tlsCert: '/nonexistent.pem', tlsKey: '/k' }), /\/nonexistent\.pem: cannot read the TLS certificate/);
});

function req(h: Record<string, string>, remote = '192.0.2.9'): IncomingMessage {
  return { headers: h, socket: { remoteAddress: remote } } as unknown as IncomingMessage;
}

test('auth: header, cookie, URL (viewer only), loopback only when open', () => {
  const tokens = [
    { name: 'op', role: 'operator' as const, token: 'operator-token-0123456789' },
    { name: 'wall', role: 'viewer' as const, token: 'viewer-token-0123456789' },
  ];
  const auth = new Auth({ tokens, openLoopback: false, allowedOrigins: ['https://wall.example'], tls: false });
  const u = (s = '/') => new URL(s, 'http://h');
  const ok = (r: ReturnType<Auth['identify']>) => (r.ok ? r.principal : undefined);
  assert.equal(ok(auth.identify(req({ authorization: 'Bearer operator-token-0123456789' }), u()))?.role, 'operator');
  assert.equal(ok(auth.identify(req({ cookie: 'a=b; sascope_token=viewer-token-0123456789' }), u()))?.name, 'wall');
  assert.equal(ok(auth.identify(req({}), u('/?token=viewer-token-0123456789')))?.via, 'query');
  const opInUrl = auth.identify(req({}), u('/?token=operator-token-0123456789'));
  assert.equal(opInUrl.ok, false);
  assert.equal(!opInUrl.ok && opInUrl.code, 'token-in-url');
  const none = auth.identify(req({}, '127.0.0.1'), u());
  assert.equal(!none.ok && none.status, 401, 'loopback is not open by default');
  const open = new Auth({ tokens, openLoopback: true, allowedOrigins: [], tls: false });
  assert.equal(ok(open.identify(req({}, '::ffff:127.0.0.1'), u()))?.via, 'loopback');
  assert.equal(open.identify(req({}, '192.0.2.1'), u()).ok, false, 'open loopback is loopback only');
  assert.equal(open.identify(req({ authorization: 'Bearer wrong-wrong-wrong-wrong' }, '127.0.0.1'), u()).ok, false, 'a wrong token is wrong even on loopback');
  // Origin
  assert.equal(auth.originAllowed(req({ host: 'h:7300' })), true, 'no Origin: not a browser');
  assert.equal(auth.originAllowed(req({ host: 'h:7300', origin: 'http://h:7300' })), true);
  assert.equal(auth.originAllowed(req({ host: 'h:7300', origin: 'https://h:7300' })), false, 'scheme differs');
  assert.equal(auth.originAllowed(req({ host: 'h:7300', origin: 'https://wall.example' })), true, 'allow-listed');
  assert.equal(auth.originAllowed(req({ host: 'h:7300', origin: 'http://evil.example' })), false);
  assert.equal(auth.originAllowed(req({ host: 'h:7300', origin: 'null' })), false);
  assert.match(auth.cookie('t'), /HttpOnly; SameSite=Strict/);
  assert.doesNotMatch(auth.cookie('t'), /Secure/);
  assert.match(new Auth({ tokens, openLoopback: false, allowedOrigins: [], tls: true }).cookie('t'), /Secure/);
});

test('helpers: loopback, redaction, safe next', () => {
  assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('::ffff:127.1.2.3'));
  assert.ok(!isLoopback('10.0.0.1') && !isLoopback(undefined) && !isLoopback('::ffff:10.0.0.1'));
  assert.equal(redactedUrl('/ws?since=3&token=abc&x=1'), '/ws?since=3&token=[redacted]&x=1');
  assert.equal(redactedUrl('/?TOKEN=abc'), '/?TOKEN=[redacted]');
  assert.equal(safeNext('//evil'), '/');
  assert.equal(safeNext('/\\evil'), '/');
  assert.equal(safeNext('https://evil'), '/');
  assert.equal(safeNext('/policies?x=1'), '/policies?x=1');
});

test('the tokens file holds what loadTokens returned (JSON with name/role/token)', () => {
  const dir = tmp();
  const a = loadTokens(parseConfig('c', '{}'), dir);
  const f = JSON.parse(readFileSync(path.join(dir, 'tokens.json'), 'utf8')) as { tokens: unknown[] };
  assert.deepEqual(f.tokens, a.tokens);
});

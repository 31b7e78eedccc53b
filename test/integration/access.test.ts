// Access, end to end against a real `sascope serve` started without open loopback: tokens created on
// first start (mode 0600, never printed), 401 without a token on HTTP and on the WebSocket upgrade, the
// login page and its cookie, the wall's ?token= exchange, viewer vs operator (the AF_ALG probe), Origin.
// A second server runs with --open-loopback (and a config file): DNS rebinding, forwarding headers, framing.
// Both: redirects stay on this server, tokens are redacted and throttled, data files 0600, response headers, /healthz.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request, type IncomingHttpHeaders } from 'node:http';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { projectRoot, requireTestNetns, startServer, type RunningServer } from '../helpers.ts';

requireTestNetns();

let server: RunningServer;
let tokens: { operator: string; viewer: string };
/** --open-loopback, started under umask 022 in a data dir that already exists, with a config file. */
let open: RunningServer;
before(async () => {
  const openDir = mkdtempSync(path.join(tmpdir(), 'sascope-open-'));
  writeFileSync(path.join(openDir, 'config.json'), JSON.stringify({ wallFrameAncestors: ['https://noc.example.net'] }));
  const started = await Promise.allSettled([
    startServer({ access: 'tokens', args: ['--log-level', 'debug'] }),
    startServer({ access: 'open-loopback', dataDir: openDir, wrap: ['sh', '-c', 'umask 022; exec "$0" "$@"'] }),
  ]);
  [server, open] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined!));
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  tokens = server.tokens();
});
after(async () => {
  assert.equal(await server?.stop(), 0);
  assert.equal(await open?.stop(), 0);
});

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

/** A request exactly as written (fetch would normalise the path and refuses to set Host), optionally from another loopback address. */
function raw(to: RunningServer, pathAndQuery: string, opts: { method?: string; headers?: Record<string, string>; body?: string; from?: string } = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: to.port, path: pathAndQuery, method: opts.method ?? 'GET', headers: opts.headers, localAddress: opts.from, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Open a WebSocket; resolves with the first message, or the HTTP status the upgrade was refused with. */
function wsOutcome(headers: Record<string, string>, pathAndQuery = '/ws', to: RunningServer = server): Promise<{ status?: number; first?: { type: string } }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${to.url.replace('http', 'ws')}${pathAndQuery}`, { headers });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode });
      ws.terminate();
    });
    ws.once('message', (d) => {
      resolve({ first: JSON.parse(String(d)) as { type: string } });
      ws.close();
    });
    ws.once('error', () => undefined);
  });
}

test('first start created an operator and a viewer token, mode 0600, and printed only where they are', () => {
  const st = statSync(path.join(server.dataDir, 'tokens.json'));
  assert.equal(st.mode & 0o777, 0o600);
  assert.notEqual(tokens.operator, tokens.viewer);
  assert.ok(tokens.operator.length >= 40);
  const out = server.output();
  assert.match(out, /tokens\.json/);
  assert.ok(!out.includes(tokens.operator) && !out.includes(tokens.viewer), 'token values never appear in the output');
});

test('without a token: 401 JSON on the API and on /metrics, the login page for a browser', async () => {
  for (const p of ['/api/v1/snapshot', '/api/v1/health', '/api/v1/sas', '/metrics']) {
    const r = await fetch(`${server.url}${p}`);
    assert.equal(r.status, 401, p);
    const body = (await r.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'no-token');
  }
  const bad = await fetch(`${server.url}/api/v1/snapshot`, { headers: bearer('not-a-real-token-at-all') });
  assert.equal(bad.status, 401);
  assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'bad-token');
  const page = await fetch(`${server.url}/`, { headers: { accept: 'text/html' } });
  assert.equal(page.status, 401);
  assert.match(await page.text(), /<form method="post" action="\/login"/);
});

test('/metrics with a viewer token: Prometheus text with bounded labels', async () => {
  const r = await fetch(`${server.url}/metrics`, { headers: bearer(tokens.viewer) });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
  const text = await r.text();
  assert.match(text, /# TYPE sascope_tunnel_bytes_total counter/);
  assert.match(text, /sascope_source_up\{source="link"\} 1/);
  assert.match(text, /sascope_history_ok 1/);
});

test('a token in the Authorization header reads the API', async () => {
  const r = await fetch(`${server.url}/api/v1/snapshot`, { headers: bearer(tokens.viewer) });
  assert.equal(r.status, 200);
  const snap = (await r.json()) as { sources: unknown[]; sas: unknown[] };
  assert.ok(Array.isArray(snap.sources) && Array.isArray(snap.sas));
});

test('the login page sets an HttpOnly SameSite=Strict cookie that then opens the API', async () => {
  const wrong = await fetch(`${server.url}/login`, { method: 'POST', body: new URLSearchParams({ token: 'nope-nope-nope-nope' }), redirect: 'manual' });
  assert.equal(wrong.status, 401);
  assert.match(await wrong.text(), /not valid/);
  const r = await fetch(`${server.url}/login`, { method: 'POST', body: new URLSearchParams({ token: tokens.viewer, next: '/policies' }), redirect: 'manual' });
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/policies');
  const cookie = r.headers.get('set-cookie') ?? '';
  assert.match(cookie, /^sascope_token=/);
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  const jar = cookie.split(';')[0]!;
  const api = await fetch(`${server.url}/api/v1/sources`, { headers: { cookie: jar } });
  assert.equal(api.status, 200);
  // An open redirect is not possible through next=.
  const evil = await fetch(`${server.url}/login`, { method: 'POST', body: new URLSearchParams({ token: tokens.viewer, next: '//evil.example/' }), redirect: 'manual' });
  assert.equal(evil.headers.get('location'), '/');
});

test('the wall: a viewer token in the URL becomes the cookie and is stripped by a redirect; an operator token is refused there', async () => {
  const r = await fetch(`${server.url}/?view=wall&token=${encodeURIComponent(tokens.viewer)}`, { redirect: 'manual' });
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/?view=wall');
  assert.match(r.headers.get('set-cookie') ?? '', /sascope_token=.*HttpOnly/);
  const op = await fetch(`${server.url}/api/v1/sources?token=${encodeURIComponent(tokens.operator)}`);
  assert.equal(op.status, 401);
  assert.equal(((await op.json()) as { error: { code: string } }).error.code, 'token-in-url');
});

test('WebSocket: no token → upgrade refused with 401; a token → snapshot; a foreign Origin → 403', async () => {
  assert.deepEqual(await wsOutcome({}), { status: 401 });
  assert.equal((await wsOutcome(bearer(tokens.viewer))).first?.type, 'snapshot');
  assert.equal((await wsOutcome({}, `/ws?token=${encodeURIComponent(tokens.viewer)}`)).first?.type, 'snapshot', "the lead's client passes the page's ?token=");
  assert.equal((await wsOutcome({ ...bearer(tokens.viewer), origin: server.url })).first?.type, 'snapshot', 'same origin');
  assert.deepEqual(await wsOutcome({ ...bearer(tokens.viewer), origin: 'http://evil.example' }), { status: 403 });
  assert.deepEqual(await wsOutcome({ ...bearer(tokens.operator), origin: `http://127.0.0.1:${server.port + 1}` }), { status: 403 }, 'another port is another origin');
});

test('a viewer cannot start the AF_ALG probe (403); an operator can (not 403)', async () => {
  const v = await fetch(`${server.url}/api/v1/crypto/probe`, { method: 'POST', headers: bearer(tokens.viewer) });
  assert.equal(v.status, 403);
  assert.equal(((await v.json()) as { error: { code: string } }).error.code, 'forbidden');
  const o = await fetch(`${server.url}/api/v1/crypto/probe`, { method: 'POST', headers: bearer(tokens.operator) });
  assert.notEqual(o.status, 403);
  assert.notEqual(o.status, 401);
  await o.text();
  // A state change from a foreign page is refused even with a valid cookie.
  const x = await fetch(`${server.url}/api/v1/crypto/probe`, { method: 'POST', headers: { ...bearer(tokens.operator), origin: 'http://evil.example' } });
  assert.equal(x.status, 403);
});

test('a bad config file stops start-up with its path and the offending key (exit 2)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sascope-cfg-'));
  const file = path.join(dir, 'config.json');
  const run = (cfg: string) => {
    writeFileSync(file, cfg);
    return spawnSync(process.execPath, [path.join(projectRoot, 'server/bin.mjs'), 'serve', '--listen', '127.0.0.1:1', '--data-dir', dir, '--config', file], { cwd: projectRoot, encoding: 'utf8', timeout: 60_000 });
  };
  const a = run('{"openLoopback": "yes"}');
  assert.equal(a.status, 2, a.stderr);
  assert.match(a.stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}: openLoopback`));
  const b = run('{"alarms": {"expiringSoonSecs": 5}}');
  assert.equal(b.status, 2);
  assert.match(b.stderr, /unknown key alarms\.expiringSoonSecs/);
  const c = run('{"tokens": [{"name": "x", "role": "admin", "token": "0123456789abcdef"}]}');
  assert.equal(c.status, 2);
  assert.match(c.stderr, /tokens\[0\]\.role/);
  const short = run('{"tokens": [{"name": "x", "role": "viewer", "token": "0123456789abcdef0123"}]}');
  assert.equal(short.status, 2);
  assert.match(short.stderr, /tokens\[0\]\.token: a token needs at least 32 characters/);
  assert.doesNotMatch(short.stderr, /0123456789abcdef0123/, 'the token is not echoed');
  const d = run('not json');
  assert.equal(d.status, 2);
  assert.match(d.stderr, /not valid JSON/);
  const missing = spawnSync(process.execPath, [path.join(projectRoot, 'server/bin.mjs'), 'serve', '--data-dir', dir, '--config', path.join(dir, 'nope.json')], { cwd: projectRoot, encoding: 'utf8', timeout: 60_000 });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /nope\.json: cannot read \(ENOENT\)/);
});

test('open loopback, DNS rebinding: a foreign Host with its own Origin is refused on GET, POST and the WebSocket; loopback names are let in', async () => {
  const rebound = { host: `attacker.example:${open.port}`, origin: `http://attacker.example:${open.port}` };
  const get = await raw(open, '/api/v1/snapshot', { headers: rebound });
  assert.equal(get.status, 401);
  assert.match(get.body, /"code":"foreign-host"/);
  assert.equal((await raw(open, '/api/v1/crypto/probe', { method: 'POST', headers: rebound })).status, 401);
  assert.deepEqual(await wsOutcome(rebound, '/ws', open), { status: 401 });
  assert.equal((await raw(open, '/api/v1/sources', { headers: { host: `attacker.example:${open.port}` } })).status, 401, 'Host alone');
  for (const host of [`127.0.0.1:${open.port}`, `localhost:${open.port}`, `[::1]:${open.port}`]) {
    assert.equal((await raw(open, '/api/v1/sources', { headers: { host } })).status, 200, host);
  }
  assert.equal((await raw(open, '/api/v1/sources', { headers: { host: `localhost:${open.port}`, origin: `http://localhost:${open.port}` } })).status, 200, 'its own page');
  assert.equal((await raw(open, '/api/v1/sources', { headers: { host: `localhost:${open.port}`, origin: 'http://attacker.example' } })).status, 403, 'a foreign Origin, even on GET');
  assert.equal((await wsOutcome({ origin: open.url }, '/ws', open)).first?.type, 'snapshot');
  // A token is accepted whatever the Host (the open server made tokens.json too).
  assert.equal((await raw(open, '/api/v1/sources', { headers: { ...rebound, ...bearer(open.tokens().viewer) } })).status, 200);
});

test('open loopback: a request carrying forwarding headers (a reverse proxy on this host) needs a token', async () => {
  for (const h of [{ 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }] as Array<Record<string, string>>) {
    const r = await raw(open, '/api/v1/sources', { headers: h });
    assert.equal(r.status, 401, JSON.stringify(h));
    assert.match(r.body, /"code":"proxied"/);
    assert.equal((await raw(open, '/api/v1/sources', { headers: { ...h, ...bearer(open.tokens().viewer) } })).status, 200);
  }
});

test('redirects stay on this server: /login?next= and the URL token exchange, however the path is written', async () => {
  const page = await raw(server, '/login?next=/%09/evil.example');
  assert.match(page.body, /name="next" value="\/"/);
  for (const next of ['/\t/evil.example', '/\\evil.example', '//evil.example', '/.//evil.example', '/\n/evil.example']) {
    const r = await raw(server, '/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: tokens.viewer, next }).toString() });
    assert.equal(r.status, 303);
    assert.doesNotMatch(r.headers.location!, /^\/[\\/\t\n]|evil\.example\//, JSON.stringify(next));
  }
  const exchange = await raw(server, `/.//evil.example/x?token=${encodeURIComponent(tokens.viewer)}`);
  assert.equal(exchange.status, 303);
  assert.equal(exchange.headers.location, '/', 'the path the server saw was //evil.example/x: not a local path');
  const encoded = await raw(server, `/%2e%2e//evil.example/x?token=${encodeURIComponent(tokens.viewer)}`);
  assert.ok(!encoded.headers.location!.startsWith('//'), encoded.headers.location);
});

test('tokens: ?%74oken= is redacted in the request log; ?token= is stripped also when a cookie already signs in', async () => {
  const r = await fetch(`${server.url}/api/v1/sources?%74oken=${encodeURIComponent(tokens.viewer)}`);
  assert.equal(r.status, 200, 'the server reads %74oken as token');
  await r.text();
  await new Promise((res) => setTimeout(res, 200));
  assert.match(server.output(), /%74oken=\[redacted\]/);
  assert.ok(!server.output().includes(tokens.viewer), 'the token is not in the log');
  const cookie = `sascope_token=${encodeURIComponent(tokens.viewer)}`;
  const again = await raw(server, `/policies?token=${encodeURIComponent(tokens.viewer)}&x=1`, { headers: { cookie } });
  assert.equal(again.status, 303);
  assert.equal(again.headers.location, '/policies?x=1');
  const stale = await raw(server, '/policies?token=not-a-token-at-all', { headers: { cookie } });
  assert.equal(stale.status, 303, 'a wrong URL token beside a good cookie is stripped too');
  assert.equal(stale.headers.location, '/policies');
  assert.equal(stale.headers['set-cookie'], undefined, 'the cookie stays');
});

test('tokens: wrong tokens from one address are slowed down (429 with Retry-After, right token too), other addresses are not', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 30; i++) statuses.push((await raw(server, '/api/v1/sources', { headers: bearer(`wrong-token-${i}`), from: '127.0.0.2' })).status);
  assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401), 'ten free tries');
  assert.ok(statuses.filter((s) => s === 429).length >= 15, `throttled: ${statuses.join(' ')}`);
  const right = await raw(server, '/api/v1/sources', { headers: bearer(tokens.viewer), from: '127.0.0.2' });
  assert.equal(right.status, 429, 'a right token waits too: no oracle');
  assert.ok(Number(right.headers['retry-after']) >= 1);
  const login = await raw(server, '/login', { method: 'POST', from: '127.0.0.2', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(tokens.viewer)}` });
  assert.equal(login.status, 429, 'the sign-in form too');
  assert.equal((await raw(server, '/api/v1/sources', { headers: bearer(tokens.viewer) })).status, 200, 'from 127.0.0.1');
});

test('data files are 0600 in a data dir that already existed, under umask 022: tokens.json, fingerprint.key, history.sqlite, -wal, -shm', () => {
  for (const dir of [server.dataDir, open.dataDir]) {
    for (const f of ['tokens.json', 'fingerprint.key', 'history.sqlite', 'history.sqlite-wal', 'history.sqlite-shm']) {
      assert.equal((statSync(path.join(dir, f)).mode & 0o777).toString(8), '600', `${dir}/${f}`);
    }
  }
});

test('headers: no-store on pages and API answers (not Next\'s s-maxage), nosniff, no framing; the wall framed only where the config says', async () => {
  const page = await raw(server, '/', { headers: { ...bearer(tokens.viewer), accept: 'text/html' } });
  assert.equal(page.status, 200);
  const api = await raw(server, '/api/v1/sources', { headers: bearer(tokens.viewer) });
  const login = await raw(server, '/login');
  for (const [what, r] of Object.entries({ page, api, login })) {
    assert.equal(r.headers['cache-control'], 'no-store', what);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', what);
    assert.equal(r.headers['content-security-policy'], "frame-ancestors 'none'", what);
    assert.equal(r.headers['x-frame-options'], 'DENY', what);
  }
  const wall = await raw(server, '/wall', { headers: bearer(tokens.viewer) });
  assert.equal(wall.headers['x-frame-options'], 'DENY', 'the wall refuses framing by default');
  const framed = await raw(open, '/wall');
  assert.equal(framed.status, 200);
  assert.equal(framed.headers['content-security-policy'], 'frame-ancestors https://noc.example.net');
  assert.equal(framed.headers['x-frame-options'], undefined);
  assert.equal(framed.headers['cache-control'], 'no-store');
  assert.equal((await raw(open, '/')).headers['x-frame-options'], 'DENY', 'only the wall');
});

test('/healthz: no token, any Host, forwarded or not; the status only', async () => {
  for (const [to, headers] of [[server, {}], [server, { host: 'lb.example' }], [open, { host: 'attacker.example', 'x-forwarded-for': '203.0.113.9' }]] as const) {
    const r = await raw(to, '/healthz', { headers });
    assert.equal(r.status, 200, JSON.stringify(headers));
    assert.deepEqual(JSON.parse(r.body), { status: 'ok' });
  }
});

// Headers on every answer (setResponseHeaders, set before any handler): no-store that a handler cannot
// loosen (Next marks pre-rendered pages s-maxage=31536000), nosniff, no framing except the wall for the
// configured origins; and /healthz: no token, the status only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendHealthz, setResponseHeaders } from '../../../server/hub/http.ts';
import { parseConfig } from '../../../server/config.ts';

/** Serve one request through setResponseHeaders and `handler` on loopback; the answer's headers and body. */
async function answer(pathname: string, handler: (req: IncomingMessage, res: ServerResponse) => void, frame: string[] = [], method = 'GET') {
  const server = createServer((req, res) => {
    setResponseHeaders(res, new URL(req.url ?? '/', 'http://x').pathname, frame);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const r = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${pathname}`, { method });
    return { status: r.status, headers: r.headers, body: await r.text() };
  } finally {
    server.close();
  }
}

/** What Next does for a pre-rendered page. */
const nextLike = (_req: IncomingMessage, res: ServerResponse) => {
  res.setHeader('Cache-Control', 's-maxage=31536000, stale-while-revalidate');
  res.writeHead(200, { 'Content-Type': 'text/html', 'Cache-Control': 'public, max-age=60' });
  res.end('<html></html>');
};

test('a page: no-store replaces what the handler set, nosniff, framing refused', async () => {
  const r = await answer('/policies', nextLike);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(r.headers.get('content-security-policy'), "frame-ancestors 'none'");
  assert.equal(r.headers.get('x-frame-options'), 'DENY');
});

test("Next's content-hashed build assets keep their caching (code, no data)", async () => {
  const r = await answer('/_next/static/chunks/app.js', (_q, res) => {
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.end('x');
  });
  assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
});

test('the wall may be framed by the configured origins only; other pages never', async () => {
  const frame = parseConfig('c', '{"wallFrameAncestors":["https://noc.example.net"]}').wallFrameAncestors;
  const wall = await answer('/wall', nextLike, frame);
  assert.equal(wall.headers.get('content-security-policy'), 'frame-ancestors https://noc.example.net');
  assert.equal(wall.headers.get('x-frame-options'), null);
  assert.equal(wall.headers.get('cache-control'), 'no-store');
  assert.equal((await answer('/', nextLike, frame)).headers.get('x-frame-options'), 'DENY');
  assert.equal((await answer('/wall', nextLike)).headers.get('content-security-policy'), "frame-ancestors 'none'", 'by default the wall too');
});

test('config: wallFrameAncestors takes origins only', () => {
  assert.deepEqual(parseConfig('c', '{}').wallFrameAncestors, []);
  for (const bad of ['noc.example.net', 'https://noc.example.net/wall', 'https://noc.example.net/', "'self'", '*', 'javascript:alert(1)']) {
    assert.throws(() => parseConfig('/c.json', JSON.stringify({ wallFrameAncestors: [bad] })), /\/c\.json: wallFrameAncestors\[0\]: an origin/, bad);
  }
  assert.deepEqual(parseConfig('c', '{"wallFrameAncestors":["http://noc.lan:8080"]}').wallFrameAncestors, ['http://noc.lan:8080']);
});

test('/healthz: the status only, 503 while starting, GET and HEAD only', async () => {
  const up = await answer('/healthz', (q, s) => sendHealthz(q, s, true));
  assert.equal(up.status, 200);
  assert.deepEqual(JSON.parse(up.body), { status: 'ok' });
  assert.equal(up.headers.get('cache-control'), 'no-store');
  const starting = await answer('/healthz', (q, s) => sendHealthz(q, s, false));
  assert.equal(starting.status, 503);
  assert.deepEqual(JSON.parse(starting.body), { status: 'starting' });
  assert.equal((await answer('/healthz', (q, s) => sendHealthz(q, s, true), [], 'POST')).status, 405);
  assert.equal((await answer('/healthz', (q, s) => sendHealthz(q, s, true), [], 'HEAD')).status, 200);
});

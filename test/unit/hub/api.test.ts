// The /api/v1 route table: every route documented in the OpenAPI document (and nothing else), query
// parameters validated with the parameter named, 404/405, memory fallbacks with a note when history is off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseQuery } from '../../../server/hub/http.ts';
import { handleApi, EventsQuery, ROUTES } from '../../../server/hub/routes.ts';
import { openApiDocument } from '../../../server/hub/openapi.ts';
import { Hub } from '../../../server/hub/hub.ts';
import { Model } from '../../../server/model/model.ts';
import { memoryLogger } from '../memlog.ts';

function rig() {
  const model = new Model();
  const hub = new Hub(model, { version: 't', hostname: 'h', netns: 'n', heartbeatMs: 60_000 }, memoryLogger().log);
  const call = (method: string, url: string) => {
    const out = { status: 0, headers: {} as Record<string, string>, body: undefined as any };
    const req = { method, url, headers: {}, resume() {} } as unknown as IncomingMessage;
    const res = {
      writeHead(s: number, h: Record<string, string>) {
        out.status = s;
        out.headers = h;
      },
      end(b: string) {
        out.body = JSON.parse(b);
      },
    } as unknown as ServerResponse;
    assert.equal(handleApi(hub, req, res), true);
    return out;
  };
  return { model, hub, call };
}

test('every route is in the OpenAPI document, and every documented /api path is a route', () => {
  const doc = openApiDocument(ROUTES) as { openapi: string; paths: Record<string, Record<string, { parameters: Array<{ name: string }>; 'x-sascope-role': string }>> };
  assert.equal(doc.openapi, '3.1.0');
  for (const r of ROUTES) {
    const op = doc.paths[r.path]?.[r.method.toLowerCase()];
    assert.ok(op, `${r.method} ${r.path} is documented`);
    assert.equal(op['x-sascope-role'], r.role);
    assert.deepEqual(op.parameters.map((p) => p.name).sort(), Object.keys(r.query?.shape ?? {}).sort(), `${r.path} parameters`);
  }
  for (const [p, ops] of Object.entries(doc.paths)) {
    if (!p.startsWith('/api/')) continue;
    for (const m of Object.keys(ops)) assert.ok(ROUTES.some((r) => r.path === p && r.method.toLowerCase() === m), `documented ${m} ${p} exists`);
  }
  for (const must of ['snapshot', 'sas', 'policies', 'tunnels', 'rotations', 'events', 'devices', 'ovpn', 'psp', 'crypto', 'sources', 'alarms']) {
    assert.ok(ROUTES.some((r) => r.path === `/api/v1/${must}`), must);
  }
  assert.doesNotThrow(() => JSON.stringify(doc));
});

test('query parameters: validated, the bad one named; token is always allowed; times as ms or ISO', () => {
  const p = (s: string) => parseQuery(EventsQuery, new URLSearchParams(s));
  assert.deepEqual(p('limit=5&source=xfrm-sa&token=abc'), { ok: true, value: { limit: 5, source: 'xfrm-sa' } });
  const iso = p('since=2026-01-02T03:04:05Z');
  assert.ok(iso.ok && iso.value['since'] === Date.parse('2026-01-02T03:04:05Z'));
  const num = p('since=1700000000000');
  assert.ok(num.ok && num.value['since'] === 1700000000000);
  const bad = p('limit=lots');
  assert.ok(!bad.ok && /^parameter 'limit'/.test(bad.message));
  const big = p('limit=999999');
  assert.ok(!big.ok && /'limit'/.test(big.message));
  const badTime = p('since=yesterday');
  assert.ok(!badTime.ok && /parameter 'since'.*ISO 8601/.test(badTime.message));
  const unknown = p('sorce=x');
  assert.ok(!unknown.ok && /unknown parameter 'sorce'/.test(unknown.message));
  const twice = p('type=a&type=b');
  assert.ok(!twice.ok && /'type' is given twice/.test(twice.message));
  const none = parseQuery(undefined, new URLSearchParams('x=1'));
  assert.ok(!none.ok && /takes none/.test(none.message));
});

test('routes answer from the model; 400/404/405 are JSON errors with the right status', () => {
  const { model, call } = rig();
  model.event({ source: 'xfrm-sa', type: 'NEWSA', summary: 'a', ref: 'sa:1' });
  model.event({ source: 'link', type: 'NEWLINK', summary: 'b' });
  const ev = call('GET', '/api/v1/events?source=xfrm-sa');
  assert.equal(ev.status, 200);
  assert.equal(ev.body.events.length, 1);
  assert.match(ev.body.note, /memory only/);
  assert.deepEqual(call('GET', '/api/v1/tunnels').body, { tunnels: [] });
  assert.deepEqual(call('GET', '/api/v1/alarms').body.active, []);
  assert.equal(call('GET', '/api/v1/rotations').body.rotations.length, 0);
  assert.equal(call('GET', '/api/v1/history').body.available, false);
  const bad = call('GET', '/api/v1/events?limit=0');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'bad-parameter');
  assert.match(bad.body.error.message, /'limit'/);
  assert.equal(call('GET', '/api/v1/nothing').status, 404);
  const m = call('DELETE', '/api/v1/events');
  assert.equal(m.status, 405);
  assert.equal(m.headers['allow'], 'GET');
  assert.equal(call('HEAD', '/api/v1/health').status, 200);
  const snap = call('GET', '/api/v1/snapshot').body;
  for (const k of ['sources', 'links', 'policies', 'sas', 'tunnels', 'rotations', 'alarms', 'events']) assert.ok(Array.isArray(snap[k]), k);
  assert.equal(call('GET', '/api/v1/openapi.json').body.openapi, '3.1.0');
});

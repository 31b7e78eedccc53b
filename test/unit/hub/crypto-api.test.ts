// POST /api/v1/crypto/probe and /api/v1/pfkey/register: started (202), refused while one runs (409, the runner's message), not wired
// (503); other POSTs stay 405. GET /api/v1/crypto returns the panel's data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiActions } from '../../../server/hub/http.ts';
import { handleApi } from '../../../server/hub/routes.ts';
import { Model } from '../../../server/model/model.ts';
import { ProbeBusyError, ProbeRunner } from '../../../server/families/alg/runner.ts';
import { createLogger } from '../../../server/log.ts';

function call(method: string, url: string, actions?: ApiActions, hub: unknown = {}): { status: number; body: any } {
  const out = { status: 0, body: undefined as any };
  const req = { method, url, resume() {} } as unknown as IncomingMessage;
  const res = {
    writeHead(s: number) { out.status = s; },
    end(b: string) { out.body = JSON.parse(b); },
  } as unknown as ServerResponse;
  assert.equal(handleApi(hub as never, req, res, actions), true);
  return out;
}

test('crypto probe API: 202 when started, 409 with a clear message while one runs, 503 when not wired', async () => {
  const model = new Model();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const runner = new ProbeRunner({
    sink: model, log: createLogger('silent'), uses: () => [], algorithms: () => [], reread: async () => undefined, unavailable: () => undefined,
    measure: async () => (await gate, { bytes: 1, seconds: 1 }),
  });
  const actions: ApiActions = {
    startCryptoProbe() {
      try {
        void runner.start();
        return { started: true, row: model.get('crypto-probe', 'probe') };
      } catch (err) {
        if (err instanceof ProbeBusyError) return { started: false, message: err.message };
        throw err;
      }
    },
    startPfkeyRegister: () => ({ started: false, message: 'not in this test' }),
  };
  const a = call('POST', '/api/v1/crypto/probe', actions);
  assert.equal(a.status, 202);
  assert.equal(a.body.probe.state, 'running');
  const b = call('POST', '/api/v1/crypto/probe', actions);
  assert.equal(b.status, 409);
  assert.equal(b.body.error.code, 'probe-running');
  assert.match(b.body.error.message, /a crypto probe is already running/);
  release();
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(call('POST', '/api/v1/crypto/probe', actions).status, 202);
  release();
  assert.equal(call('POST', '/api/v1/crypto/probe').status, 503);
  assert.equal(call('POST', '/api/v1/policies', actions).status, 405);
  assert.equal(call('DELETE', '/api/v1/crypto/probe', actions).status, 405);
});

test('GET /api/v1/crypto: info, uses, probe and algorithms from the snapshot', () => {
  const entities = { 'crypto-info': [{ key: 'crypto' }], 'crypto-use': [], 'crypto-probe': [{ key: 'probe', state: 'idle' }], 'crypto-alg': [{ key: 'x' }] };
  const r = call('GET', '/api/v1/crypto', undefined, { snapshot: () => ({ entities }) });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { info: { key: 'crypto' }, uses: [], probe: { key: 'probe', state: 'idle' }, algorithms: [{ key: 'x' }] });
});

test('PF_KEY REGISTER API: 202 with the running state, 409 with the reason while one runs, 503 when not wired', () => {
  let running = false;
  const actions: ApiActions = {
    startCryptoProbe: () => ({ started: false, message: 'not in this test' }),
    startPfkeyRegister() {
      if (running) return { started: false, message: 'SADB_REGISTER is already running (started 2026-11-23T00:00:00.000Z)' };
      running = true;
      return { started: true, row: { key: 'register', state: 'running', startedAt: 1 } };
    },
  };
  const a = call('POST', '/api/v1/pfkey/register', actions);
  assert.deepEqual([a.status, a.body.register.state], [202, 'running']);
  const b = call('POST', '/api/v1/pfkey/register', actions);
  assert.deepEqual([b.status, b.body.error.code], [409, 'register-refused']);
  assert.match(b.body.error.message, /already running/);
  assert.equal(call('POST', '/api/v1/pfkey/register').status, 503);
  assert.equal(call('GET', '/api/v1/pfkey/register', actions).status, 405);
});

// POST /api/v1/vici/{initiate,terminate,rekey} through the gate: a viewer gets 403, a foreign Origin 403,
// an operator 202 with the action's row (the token's name as who), a second action on the same SA 409 with
// the refusal in words, bad parameters 400; GET /api/v1/vici/actions is the audit list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiActions } from '../../../server/hub/http.ts';
import { handleApi } from '../../../server/hub/routes.ts';
import { Auth, gate } from '../../../server/hub/auth.ts';
import type { ViciActionName, ViciActionTarget } from '../../../server/wire/vici.ts';

const auth = new Auth({
  tokens: [
    { name: 'alice', role: 'operator', token: 'operator-token-0123456789abcdef0123' },
    { name: 'wall', role: 'viewer', token: 'viewer-token-0123456789abcdef012345' },
  ],
  openLoopback: false, allowedOrigins: [], tls: false,
});

async function call(method: string, url: string, token: string, actions?: ApiActions, hub: unknown = {}, origin?: string): Promise<{ status: number; body: any }> {
  const out = { status: 0, body: undefined as any };
  const req = { method, url, headers: { host: 'h', authorization: `Bearer ${token}`, ...(origin ? { origin } : {}) }, socket: { remoteAddress: '192.0.2.9' }, resume() {} } as unknown as IncomingMessage;
  const res = {
    writeHead(s: number) { out.status = s; },
    end(b: string) { out.body = JSON.parse(b); },
  } as unknown as ServerResponse;
  if (await gate(auth, req, res, new URL(url, 'http://h'))) assert.equal(handleApi(hub as never, req, res, actions), true);
  return out;
}

function fakeVici(): { actions: ApiActions; calls: Array<[ViciActionName, ViciActionTarget, string]> } {
  const calls: Array<[ViciActionName, ViciActionTarget, string]> = [];
  const busy = new Set<string>();
  return {
    calls,
    actions: {
      startCryptoProbe: () => ({ started: false, message: 'no' }),
      startPfkeyRegister: () => ({ started: false, message: 'no' }),
      vici(action, target, by) {
        calls.push([action, target, by]);
        const k = JSON.stringify(target);
        if (busy.has(k)) return { started: false, message: `an action on ${k} is still running; ${action} refused` };
        busy.add(k);
        return { started: true, row: { key: '1', action, target, by, result: 'running', log: [] } };
      },
    },
  };
}

const OP = 'operator-token-0123456789abcdef0123';
const VIEWER = 'viewer-token-0123456789abcdef012345';

test('vici actions: viewer 403, foreign origin 403, operator 202 then 409 on the same SA', async () => {
  const f = fakeVici();
  const v = await call('POST', '/api/v1/vici/terminate?ike-id=3', VIEWER, f.actions);
  assert.equal(v.status, 403);
  assert.match(v.body.error.message, /needs the operator role/);
  assert.equal((await call('POST', '/api/v1/vici/terminate?ike-id=3', OP, f.actions, {}, 'http://evil.example')).status, 403);
  assert.equal(f.calls.length, 0, 'neither reached the action');
  const a = await call('POST', '/api/v1/vici/terminate?ike-id=3', OP, f.actions);
  assert.equal(a.status, 202);
  assert.deepEqual(a.body.action.target, { ikeId: 3 });
  assert.equal(a.body.action.by, 'alice');
  const b = await call('POST', '/api/v1/vici/rekey?ike-id=3', OP, f.actions);
  assert.equal(b.status, 409);
  assert.equal(b.body.error.code, 'action-running');
  assert.match(b.body.error.message, /still running; rekey refused/);
  assert.equal((await call('POST', '/api/v1/vici/initiate?conn=site&child=net', OP, f.actions)).status, 202);
  assert.deepEqual(f.calls.at(-1), ['initiate', { conn: 'site', child: 'net' }, 'alice']);
});

test('vici actions: bad parameters are 400 naming them; 503 without a vici source', async () => {
  const f = fakeVici();
  const both = await call('POST', '/api/v1/vici/rekey?ike-id=3&child-id=4', OP, f.actions);
  assert.equal(both.status, 400);
  assert.match(both.body.error.message, /exactly one of 'ike-id' and 'child-id'/);
  assert.equal((await call('POST', '/api/v1/vici/rekey', OP, f.actions)).status, 400);
  assert.match((await call('POST', '/api/v1/vici/terminate?child-id=x', OP, f.actions)).body.error.message, /parameter 'child-id'/);
  assert.match((await call('POST', '/api/v1/vici/initiate', OP, f.actions)).body.error.message, /parameter 'conn'/);
  assert.equal(f.calls.length, 0);
  assert.equal((await call('POST', '/api/v1/vici/rekey?ike-id=1', OP, { startCryptoProbe: f.actions.startCryptoProbe, startPfkeyRegister: f.actions.startPfkeyRegister })).status, 503);
});

test('GET /api/v1/vici/actions without history: the rows in memory, newest first, with the note', async () => {
  const hub = { list: (k: string) => (k === 'vici-action' ? [{ key: 'a', startedAt: 1 }, { key: 'b', startedAt: 2 }] : []) };
  const r = await call('GET', '/api/v1/vici/actions', VIEWER, undefined, hub);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.actions.map((a: { key: string }) => a.key), ['b', 'a']);
  assert.match(r.body.note, /history is off/);
});

test('vici actions with ?host=: a fleet console asks that host (the target and who go along); elsewhere 400; a viewer still 403', async () => {
  const asked: unknown[] = [];
  const fleet: ApiActions = {
    startCryptoProbe: () => ({ started: false, message: 'no' }),
    startPfkeyRegister: () => ({ started: false, message: 'no' }),
    onHost: async (host, action, by) => {
      asked.push([host, action, by]);
      return { started: true, row: { key: `${host}/1`, host } };
    },
  };
  const r = await call('POST', '/api/v1/vici/rekey?child-id=7&host=gw1', OP, fleet);
  assert.equal(r.status, 202);
  assert.equal(r.body.action.key, 'gw1/1');
  await call('POST', '/api/v1/vici/initiate?conn=site&child=net&host=gw2', OP, fleet);
  assert.deepEqual(asked, [['gw1', { vici: 'rekey', target: { childId: 7 } }, 'alice'], ['gw2', { vici: 'initiate', target: { conn: 'site', child: 'net' } }, 'alice']]);
  assert.equal((await call('POST', '/api/v1/vici/terminate?ike-id=3&host=gw1', VIEWER, fleet)).status, 403);
  assert.equal(asked.length, 2, 'the viewer did not reach the host');
  const single = await call('POST', '/api/v1/vici/terminate?ike-id=3&host=gw1', OP, fakeVici().actions);
  assert.equal(single.status, 400);
  assert.match(single.body.error.message, /not a fleet console/);
  // The console has no vici of its own: without ?host= it says so.
  assert.equal((await call('POST', '/api/v1/vici/terminate?ike-id=3', OP, fleet)).status, 503);
});

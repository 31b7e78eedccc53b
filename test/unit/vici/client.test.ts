// The VICI client against a fake charon on a unix socket: one exchange at a time, events between a request
// and its response, streamed rows, EVENT_UNKNOWN as an answer, CMD_UNKNOWN, a timeout, charon dying
// mid-command, a length beyond 512 KiB on the stream, connect errors in words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWords, ViciClient, ViciError } from '../../../server/families/vici/client.ts';
import { encodePacket, type ViciSection } from '../../../server/families/vici/spec.ts';
import { charonLike, confirm, event, FakeCharon, response, unknownEvent } from './fake-charon.ts';

const isVici = (code: string, re: RegExp) => (err: unknown) => err instanceof ViciError && err.code === code && re.test(err.message);

test('commands queue: the second request goes out only after the first one is answered', async (t) => {
  const charon = await new FakeCharon((p) => [50, response({ echo: p.name! })]).listen();
  t.after(() => charon.close());
  const c = await ViciClient.connect({ path: charon.path });
  t.after(() => c.close());
  const seen: number[] = [];
  const a = c.command('first').then((r) => (seen.push(charon.requests.length), r.response));
  const b = c.command('second').then((r) => r.response);
  assert.equal(charon.requests.length <= 1, true);
  assert.deepEqual(await Promise.all([a, b]), [{ echo: 'first' }, { echo: 'second' }]);
  assert.deepEqual(seen, [1], 'when the first answer came, charon had seen one request only');
});

test('events between a request and its response go to onEvent; a streamed command gets its rows', async (t) => {
  const charon = await new FakeCharon((p) => {
    if (p.type === 'EVENT_REGISTER') return [confirm()];
    return [event('ike-updown', { up: 'yes' }), event('list-sa', { a: { uniqueid: '1' } }), event('log', { msg: 'x' }), event('list-sa', { b: { uniqueid: '2' } }), response()];
  }).listen();
  t.after(() => charon.close());
  const events: Array<[string, ViciSection]> = [];
  const c = await ViciClient.connect({ path: charon.path, onEvent: (n, m) => events.push([n, m]) });
  t.after(() => c.close());
  assert.equal(await c.register('list-sa'), true);
  const r = await c.command('list-sas', { noblock: 'yes' }, 'list-sa');
  assert.deepEqual(r.streamed, [{ a: { uniqueid: '1' } }, { b: { uniqueid: '2' } }]);
  assert.deepEqual(events.map((e) => e[0]), ['ike-updown', 'log']);
  assert.deepEqual(charon.requests[1]!.packet, { type: 'CMD_REQUEST', name: 'list-sas', message: { noblock: 'yes' } });
});

test('EVENT_UNKNOWN answers a registration with false (a state, not an error); CMD_UNKNOWN rejects in words', async (t) => {
  const charon = await new FakeCharon((p) => (p.type === 'EVENT_REGISTER' ? [p.name === 'alert' ? unknownEvent() : confirm()] : [encodePacket('CMD_UNKNOWN')])).listen();
  t.after(() => charon.close());
  const c = await ViciClient.connect({ path: charon.path });
  t.after(() => c.close());
  assert.equal(await c.register('alert'), false);
  assert.equal(await c.register('ike-updown'), true);
  await assert.rejects(c.command('frobnicate'), isVici('unknown-command', /vici: frobnicate: charon does not know this command \(CMD_UNKNOWN\)/));
  assert.equal(await c.register('child-updown'), true, 'the connection goes on');
});

test('no answer within the timeout: the exchange and those queued behind it fail, the connection closes', async (t) => {
  const charon = await new FakeCharon(() => []).listen();
  t.after(() => charon.close());
  let closed: ViciError | undefined;
  const c = await ViciClient.connect({ path: charon.path, timeoutMs: 100, onClose: (e) => (closed = e) });
  const slow = c.command('list-sas');
  const queued = c.command('version');
  await assert.rejects(slow, isVici('timeout', /vici: list-sas: no answer in 100 ms \(charon busy or hung\); connection closed/));
  await assert.rejects(queued, isVici('timeout', /vici: version: /));
  assert.equal(closed?.code, 'timeout');
  assert.equal(c.closed, true);
});

test('charon dying in the middle of a streamed command fails it with why', async (t) => {
  const charon = await new FakeCharon(() => [event('list-sa', { a: {} }), Buffer.from([0, 0, 0, 9, 7]), 'die']).listen();
  t.after(() => charon.close());
  let closed: ViciError | undefined;
  const c = await ViciClient.connect({ path: charon.path, onClose: (e) => (closed = e) });
  await assert.rejects(c.command('list-sas', {}, 'list-sa'), isVici('closed', /list-sas: charon closed the connection in the middle of a packet/));
  assert.equal(closed?.code, 'closed');
  await assert.rejects(c.command('version'), isVici('closed', /vici: version: charon closed the connection/));
});

test('a length beyond 512 KiB on the stream ends the connection (no other framing to go on with)', async (t) => {
  const charon = await new FakeCharon(() => [Buffer.from([0, 8, 0, 1, 1])]).listen();
  t.after(() => charon.close());
  const c = await ViciClient.connect({ path: charon.path });
  await assert.rejects(c.command('version'), isVici('protocol', /length 524289 too large \(at most 524288\)/));
  assert.equal(c.closed, true);
});

test('an answer that does not decode fails its exchange only; a bad event is reported; the connection goes on', async (t) => {
  let n = 0;
  const charon = await new FakeCharon(() => (n++ === 0 ? [Buffer.from([0, 0, 0, 3, 7, 5, 0x78]), Buffer.from([0, 0, 0, 2, 1, 9])] : [response({ ok: 'yes' })])).listen();
  t.after(() => charon.close());
  const bad: string[] = [];
  const c = await ViciClient.connect({ path: charon.path, onDecodeError: (e) => bad.push(e.message) });
  t.after(() => c.close());
  await assert.rejects(c.command('version'), (e: Error) => /unknown element type 9/.test(e.message));
  assert.equal(bad.length, 1, 'the truncated event');
  assert.match(bad[0]!, /truncated/);
  assert.deepEqual((await c.command('version')).response, { ok: 'yes' });
});

test('an answer nobody asked for is a protocol error', async (t) => {
  const charon = await new FakeCharon(() => [confirm()]).listen();
  t.after(() => charon.close());
  const c = await ViciClient.connect({ path: charon.path });
  await assert.rejects(c.command('version'), isVici('protocol', /EVENT_CONFIRM from charon while version waits for its answer/));
});

test('connect errors say what is wrong with the socket, in words', async () => {
  await assert.rejects(ViciClient.connect({ path: '/nonexistent/charon.vici' }), isVici('ENOENT', /vici: connect \/nonexistent\/charon\.vici: ENOENT \(no socket at \/nonexistent\/charon\.vici: charon is not running, or its vici plugin is not loaded\)/));
  const charon = await new FakeCharon(charonLike({ conns: [], sas: [] })).listen();
  await charon.stop(); // the socket file stays, nobody listens
  await assert.rejects(ViciClient.connect({ path: charon.path }), (e) => e instanceof ViciError && (e.code === 'ECONNREFUSED' || e.code === 'ENOENT'));
  await charon.close();
  assert.match(connectWords('/run/charon.vici', 'EACCES', ''), /^EACCES \(permission denied: charon's VICI socket \/run\/charon\.vici is open to its owner and group only — put sascope's user in charon's group: charon\.group/);
  assert.match(connectWords('/run/charon.vici', 'ECONNREFUSED', ''), /nothing listens on \/run\/charon\.vici: charon is not running/);
});

// strongSwan as the console sees it (issue 21): `sascope serve` (tokens, --no-ui) watching lab-a's charon over
// VICI while the pair carries four connections — lab (PSK, children net and host; up), badpsk (the sides'
// secrets differ), cert (certificates of a lab CA valid 3 days; up), rw (a gateway with a pool; B's rw-client
// up as alice@lab with a virtual IP). On the WebSocket and /api/v1: the names, states and reasons (badpsk down,
// peer authentication failed, initiated through the API), the user's virtual IP, the certificate's
// cert-expiring alarm, the tunnels named 'conn/child (peer id)' and badpsk's child a down tunnel with the reason;
// initiate, terminate and rekey through POST /api/v1/vici move the kernel's XFRM SAs (ip xfrm state) and the
// tunnels (down, back, an operator rotation) and land in the audit list, a viewer and a foreign Origin get
// 403, a second action on a running one 409; then no PSK, private key, IKE key (charon B's own log at ike level 4) or ESP key in any
// HTTP body, WebSocket frame, log line, /metrics or the history database.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { LiveClient, startServer, type RunningServer } from '../../helpers.ts';
import { cleanupAll, netnsPair, requireLab, sh, strongswanConns, strongswanPair, waitFor, type StrongswanConns, type StrongswanPair } from '../scenarios/index.ts';
import { keyHits, serverOutputs } from '../lib/outputs.ts';
import type { EntityKind, EntityKinds } from '../../../server/wire/protocol.ts';
import type { ViciAction } from '../../../server/wire/vici.ts';

const RUN = process.env.LAB_RUN ?? '/tmp/sascope-lab';
const DATA = path.join(RUN, 'sascope-data-vici');
let pair: StrongswanPair | undefined;
let conns: StrongswanConns | undefined;
let server: RunningServer | undefined;
let ws: LiveClient | undefined;
const frames: string[] = [];
let tokens: Array<{ name: string; role: string; token: string }> = [];

before(async () => {
  requireLab();
  await cleanupAll();
  await netnsPair();
  process.env['LAB_SS_KEYLOG'] = '1'; // charon B writes its IKE keys to its own log: the search's needles
  pair = await strongswanPair({ rekeySeconds: 300, traffic: false });
  conns = await strongswanConns();
  mkdirSync(DATA, { recursive: true });
  const config = path.join(DATA, 'config.json');
  writeFileSync(config, JSON.stringify({ vici: { socket: `${pair.runDirs.a}/run/charon.vici` } }));
  server = await startServer({ access: 'tokens', args: ['--netns', 'lab-a', '--config', config, '--log-level', 'debug'], dataDir: DATA, timeoutMs: 600_000 });
  tokens = (JSON.parse(readFileSync(path.join(DATA, 'tokens.json'), 'utf8')) as { tokens: typeof tokens }).tokens;
  ws = new LiveClient(server.url, { token: token('viewer'), headers: { origin: server.url } });
  ws.ws.on('message', (d) => frames.push(String(d)));
  await ws.opened();
});
after(async () => {
  ws?.close();
  await server?.stop();
  await pair?.down();
  await cleanupAll();
});

const token = (role: 'viewer' | 'operator') => tokens.find((t) => t.role === role)!.token;
const nameOf = (role: 'viewer' | 'operator') => tokens.find((t) => t.role === role)!.name;
const api = async <T>(p: string, role: 'viewer' | 'operator' = 'viewer'): Promise<T> => (await fetch(`${server!.url}${p}`, { headers: { authorization: `Bearer ${token(role)}` } })).json() as Promise<T>;
/** POST /api/v1/vici/<what>?<query> as the console does: a token and this server's Origin. */
const post = (what: string, query: string, role: 'viewer' | 'operator' = 'operator', origin = server!.url) =>
  fetch(`${server!.url}/api/v1/vici/${what}?${query}`, { method: 'POST', headers: { authorization: `Bearer ${token(role)}`, origin } });

/** A kind's rows as the WebSocket client holds them now: the snapshot, then every delta. */
function rows<K extends EntityKind>(kind: K): Array<EntityKinds[K]> {
  const m = new Map<string, EntityKinds[K]>();
  for (const r of (ws!.snapshot()?.entities[kind] ?? []) as Array<EntityKinds[K] & { key: string }>) m.set(r.key, r);
  for (const { delta: d } of ws!.deltas()) {
    if (d.kind !== kind) continue;
    if (d.op === 'upsert') m.set(d.key, d.value as EntityKinds[K]);
    else if (d.op === 'remove') m.delete(d.key);
    else m.clear();
  }
  return [...m.values()];
}
const installed = (conn: string, child: string) => rows('vici-child').find((c) => c.ikeName === conn && c.name === child && c.state === 'INSTALLED');
const xfrm = () => sh('ip xfrm state', { ns: 'lab-a' });
const hasSpi = (text: string, spi: string | undefined) => new RegExp(`spi 0x${spi} `).test(text);

/** The audit row of an action once it has ended. */
async function ended(key: string): Promise<ViciAction> {
  return waitFor(`action ${key} ended`, async () => (await audit()).find((a) => a.key === key && a.result !== 'running'), 90_000, 500);
}
const audit = async () => (await api<{ actions: ViciAction[] }>('/api/v1/vici/actions')).actions;

test('the WebSocket names the four connections with their states: lab (net, host) and cert up, rw with alice@lab on 10.9.0.1, badpsk down — peer authentication failed; cert-expiring for the 3-day certificate', async () => {
  await waitFor('snapshot', async () => ws!.snapshot(), 60_000, 200);
  await waitFor('the four connections', async () => rows('vici-conn').length === 4 || undefined, 60_000);
  assert.deepEqual(rows('vici-conn').map((c) => c.name).sort(), ['badpsk', 'cert', 'lab', 'rw']);
  // badpsk, initiated through the API: charon's answer is a failure, its reason typed from charon's log
  const r = await post('initiate', 'conn=badpsk&child=net');
  assert.equal(r.status, 202, await r.clone().text());
  const started = ((await r.json()) as { action: ViciAction }).action;
  const failed = await ended(started.key);
  assert.equal(failed.result, 'failed', JSON.stringify(failed));
  await waitFor('badpsk has its reason', async () => rows('vici-conn').find((c) => c.name === 'badpsk')?.lastReason?.code === 'auth-failed' || undefined, 30_000);

  const ikes = rows('vici-ike');
  const up = (name: string) => ikes.filter((i) => i.name === name && i.state === 'ESTABLISHED');
  assert.equal(up('lab').length, 1);
  assert.equal(up('cert').length, 1);
  assert.equal(up('cert')[0]!.remoteId, 'b.lab');
  assert.deepEqual(ikes.filter((i) => i.name === 'badpsk'), [], 'badpsk has no IKE SA');
  const user = up('rw')[0];
  assert.ok(user, JSON.stringify(ikes));
  assert.deepEqual([user.remoteId, user.remoteVips], ['alice@lab', ['10.9.0.1']]);
  for (const [conn, child] of [['lab', 'net'], ['lab', 'host'], ['cert', 'net'], ['rw', 'net']] as const) assert.ok(installed(conn, child), `${conn}/${child} INSTALLED`);
  // the remote-access users view's data: IKE SAs with a virtual IP, from /api/v1
  const vici = await api<{ ikeSas: Array<EntityKinds['vici-ike']> }>('/api/v1/vici');
  assert.deepEqual(vici.ikeSas.filter((i) => i.remoteVips?.length).map((i) => `${i.name} ${i.remoteId} ${i.remoteVips!.join(',')}`), ['rw alice@lab 10.9.0.1']);
  // the CHILD SAs are the kernel's
  const states = await xfrm();
  for (const c of rows('vici-child')) for (const spi of [c.spiIn, c.spiOut]) assert.ok(hasSpi(states, spi), `${c.ikeName}/${c.name} SPI ${spi} in ip xfrm state`);

  // the join: each CHILD SA's XFRM tunnels are named 'conn/child (peer id)'; badpsk's child is a down tunnel with charon's reason
  const named = ['lab/net (10.0.0.2)', 'lab/host (10.0.0.2)', 'cert/net (b.lab)', 'rw/net (alice@lab)'];
  await waitFor('the tunnels named by strongSwan', async () => {
    const names = new Set(rows('tunnel').filter((t) => t.state !== 'down').map((t) => t.name));
    return named.every((n) => names.has(n)) || undefined;
  }, 30_000);
  const bad = rows('tunnel').find((t) => t.key === 'ike:badpsk/net');
  assert.deepEqual([bad?.family, bad?.state, bad?.name, bad?.ike?.downReason], ['ike', 'down', 'badpsk/net (badpsk-b@lab)', 'auth-failed']);
  const alarms = await waitFor('alarms', async () => {
    const a = rows('alarm');
    return a.some((x) => x.type === 'cert-expiring') && a.some((x) => x.type === 'ike-auth-failed') ? a : undefined;
  }, 30_000);
  const expiring = alarms.filter((a) => a.type === 'cert-expiring');
  // A's own and B's (sent in IKE_AUTH, cached by charon); not the CA's 30 days
  assert.deepEqual(expiring.map((a) => [a.severity, a.summary.split(':')[0]]).sort(), [['warning', 'CN=a.lab'], ['warning', 'CN=b.lab']]);
  for (const a of expiring) assert.ok(a.value! <= 3, JSON.stringify(a));
  assert.deepEqual(alarms.filter((a) => a.ref === 'vici-conn:badpsk').map((a) => a.type).sort(), ['ike-auth-failed', 'ike-down']);
  assert.ok(!alarms.some((a) => /^vici-conn:(lab|cert|rw)$/.test(a.ref)), 'no alarm on a connection that is up');
});

test('initiate, terminate and rekey through POST /api/v1/vici: the XFRM SAs go, come back and rotate; each in the audit list; viewer and foreign Origin 403, a second action on a running one 409', async () => {
  const cert = installed('cert', 'net')!;
  assert.equal((await post('terminate', `child-id=${cert.uniqueId}`, 'viewer')).status, 403, 'a viewer');
  assert.equal((await post('terminate', `child-id=${cert.uniqueId}`, 'operator', 'http://evil.example')).status, 403, 'a foreign Origin');
  assert.ok(hasSpi(await xfrm(), cert.spiIn), 'nothing happened');

  // terminate, and at once a rekey of the same CHILD SA: refused while the terminate runs
  const [t, again] = await Promise.all([post('terminate', `child-id=${cert.uniqueId}`), post('rekey', `child-id=${cert.uniqueId}`)]);
  assert.equal(t.status, 202, await t.clone().text());
  assert.equal(again.status, 409, await again.clone().text());
  assert.match(((await again.json()) as { error: { message: string } }).error.message, /still running; rekey of CHILD SA #\d+ refused/);
  const terminated = await ended(((await t.json()) as { action: ViciAction }).action.key);
  assert.equal(terminated.result, 'ok', terminated.error);
  await waitFor('its XFRM SAs gone', async () => (!hasSpi(await xfrm(), cert.spiIn) && !hasSpi(await xfrm(), cert.spiOut)) || undefined);
  await waitFor('no cert/net on the WebSocket', async () => !installed('cert', 'net') || undefined);
  await waitFor('cert/net a down tunnel that went down', async () => rows('tunnel').find((x) => x.key === 'ike:cert/net' && x.state === 'down' && x.ike?.downReason === 'went-down'));

  const i = await post('initiate', 'conn=cert&child=net');
  assert.equal(i.status, 202);
  const initiated = await ended(((await i.json()) as { action: ViciAction }).action.key);
  assert.equal(initiated.result, 'ok', initiated.error);
  const back = await waitFor('cert/net up again', async () => installed('cert', 'net'));
  assert.notEqual(back.spiIn, cert.spiIn);
  assert.ok(hasSpi(await xfrm(), back.spiIn), `the new SPI ${back.spiIn} in ip xfrm state`);
  await waitFor('its down tunnel gone', async () => !rows('tunnel').some((x) => x.key === 'ike:cert/net') || undefined);

  const net = installed('lab', 'net')!;
  const k = await post('rekey', `child-id=${net.uniqueId}`);
  assert.equal(k.status, 202);
  const rekeyed = await ended(((await k.json()) as { action: ViciAction }).action.key);
  assert.equal(rekeyed.result, 'ok', rekeyed.error);
  const rotated = await waitFor('lab/net rekeyed', async () => rows('vici-child').find((c) => c.ikeName === 'lab' && c.name === 'net' && c.uniqueId !== net.uniqueId && c.state === 'INSTALLED'));
  await waitFor('the new SPI in the kernel, the old one gone', async () => {
    const s = await xfrm();
    return (hasSpi(s, rotated.spiIn) && !hasSpi(s, net.spiIn)) || undefined;
  }, 60_000);
  const who = nameOf('operator');
  const rotation = await waitFor("lab/net's rotation, the operator's", async () => rows('rotation').find((r) => r.tunnelName === 'lab/net (10.0.0.2)' && r.newSpi === parseInt(rotated.spiIn!, 16)));
  assert.deepEqual([rotation.cause, rotation.by], ['operator', who]);

  const line = (a: ViciAction) => `${a.action} ${JSON.stringify(a.target)} ${a.result} ${a.by}`;
  const want = [
    `initiate {"conn":"badpsk","child":"net"} failed ${who}`,
    `terminate {"childId":${cert.uniqueId}} ok ${who}`,
    `initiate {"conn":"cert","child":"net"} ok ${who}`,
    `rekey {"childId":${net.uniqueId}} ok ${who}`,
  ];
  const actions = await audit();
  assert.deepEqual(actions.map(line).sort(), want.sort(), 'each action once, with its result (the refused one is not an action)');
  for (const a of actions) assert.ok(a.endedAt! >= a.startedAt && (a.action === 'rekey' || a.log.length > 0), `${a.action}: its end, charon's control-log lines: ${JSON.stringify(a)}`);
  // Everything charon said through four connections, failures, rekeys and actions decoded (a row that does not is dropped).
  const vici = (await api<{ sources: Array<{ id: string; decodeErrors: number; lastDecodeError?: string }> }>('/api/v1/sources')).sources.find((s) => s.id === 'vici')!;
  assert.equal(vici.decodeErrors, 0, vici.lastDecodeError);
});

test('no PSK, private key, IKE key or ESP key in any HTTP body, WebSocket frame, log line, /metrics or the history database', async () => {
  // the needles: every secret as bytes
  const secrets = new Map<string, Buffer>();
  secrets.set('lab PSK', Buffer.from(pair!.psk, 'hex'));
  for (const [n, v] of Object.entries(conns!.secrets)) secrets.set(`${n} PSK`, Buffer.from(v, 'hex'));
  for (const [side, file] of Object.entries(conns!.keys)) {
    secrets.set(`private key ${side} (DER)`, Buffer.from(readFileSync(file, 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64'));
    const text = execFileSync('openssl', ['pkey', '-in', file, '-noout', '-text'], { encoding: 'utf8' });
    secrets.set(`private key ${side} (scalar)`, Buffer.from(/priv:\s*([0-9a-f:\s]+?)\s*pub:/.exec(text)![1]!.replace(/[:\s]/g, ''), 'hex'));
  }
  // charon B's IKE keys ("Sk_ei secret => 16 bytes @ …" and hex dump lines below it)
  let current: string | undefined;
  let hex = '';
  for (const line of readFileSync(`${pair!.runDirs.b}/run/charon.log`, 'utf8').split('\n')) {
    const dump = /\[IKE\]\s+\d+: ((?:[0-9A-F]{2} )+)/.exec(line);
    if (current && dump) (hex += dump[1]!.replace(/ /g, ''));
    else if (current) (secrets.set(`IKE ${current} ${secrets.size}`, Buffer.from(hex, 'hex')), (current = undefined));
    const head = /\[IKE\] (Sk_\w+|shared Diffie Hellman) secret =>/.exec(line);
    if (head) (current = head[1]), (hex = '');
  }
  assert.ok([...secrets.keys()].filter((k) => k.startsWith('IKE Sk_')).length >= 7 * 3, 'the IKE keys of at least three IKE SAs');
  for (const ns of ['lab-a', 'lab-b']) {
    for (const m of (await sh('ip xfrm state', { ns })).matchAll(/^\s+(?:enc|auth|auth-trunc|aead) \S+ 0x([0-9a-f]+)/gm)) secrets.set(`ESP key ${m[1]!.slice(0, 8)}… (${ns})`, Buffer.from(m[1]!, 'hex'));
  }

  // the haystack: every GET route, the audit list, /metrics, the WebSocket, the log, the history database
  ws!.close();
  const { outputs: hay, status } = await serverOutputs(server!, frames, { headers: { authorization: `Bearer ${token('operator')}` } });
  server = undefined;
  assert.equal(status, 0);
  assert.ok(hay.some((h) => h.name === 'history.sqlite' && h.bytes.includes('badpsk')), 'the history database holds the audit rows searched');

  for (const [what, raw] of secrets) assert.ok(raw.length >= 16, `${what}: ${raw.length} bytes`);
  const hits = keyHits(new Map([...secrets].map(([what, raw]) => [raw.toString('hex'), what])), hay);
  console.log(`vici key search: ${secrets.size} secrets × 5 forms in ${hay.length} artifacts (${hay.reduce((s, h) => s + h.bytes.length, 0)} bytes); hits: ${hits.length}`);
  assert.deepEqual(hits, []);
});

// The OpenAPI document against the code: each enum in it is exactly a const array of server/wire (the
// lists the emitters' types come from), and real answers (a model fed with byte fixtures through the real
// sources and the tunnel tracker, read through every GET route) validate against its schemas. Also: the
// server's modules import each other without a cycle (http.ts ⇄ openapi.ts worked only by lazy reads).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { openApiDocument, wire } from '../../../server/hub/openapi.ts';
import { handleApi, ROUTES } from '../../../server/hub/routes.ts';
import type { ApiActions } from '../../../server/hub/http.ts';
import { ProbeRunner } from '../../../server/families/alg/runner.ts';
import { Hub } from '../../../server/hub/hub.ts';
import { Model } from '../../../server/model/model.ts';
import { TunnelTracker } from '../../../server/model/tunnels.ts';
import { parseConfig } from '../../../server/config.ts';
import { History } from '../../../server/history/history.ts';
import { XfrmSaSource } from '../../../server/families/xfrm/sa-source.ts';
import { XfrmPolicySource } from '../../../server/families/xfrm/policy-source.ts';
import { LinkSource } from '../../../server/families/link/source.ts';
import { XFRM_MSG } from '../../../server/families/xfrm/spec.ts';
import { RTM } from '../../../server/families/link/spec.ts';
import { OvpnSource } from '../../../server/families/ovpn/source.ts';
import { OVPN_CMD, keyconfAttrs } from '../../../server/families/ovpn/spec.ts';
import { CryptoSource } from '../../../server/families/crypto/source.ts';
import { DerivedViews } from '../../../server/model/views.ts';
import { decodeAttrs } from '../../../server/netlink/spec.ts';
import { parseMessages, type NetlinkMessage } from '../../../server/netlink/message.ts';
import { EVENT_CODES, SOURCE_STATES, type OnWire } from '../../../server/wire/entities.ts';
import { ENTITY_KINDS } from '../../../server/wire/protocol.ts';
import { HOST_STATES, hostKey, type FleetHost } from '../../../server/wire/fleet.ts';
import {
  ALARM_SEVERITIES, ALARM_TYPES, EXPIRY_BASES, GAP_ENDINGS, ROTATION_CAUSES, ROTATION_FAMILIES, ROTATION_STATES, SEQUENCE_BITS, TUNNEL_FAMILIES, TUNNEL_STATES,
  type Alarm, type HistoryGap,
} from '../../../server/wire/tunnels.ts';
import { CRYPTO_USE_ROLES, MODULE_STATES, NO_DRIVER_CAUSES, PROBE_BASES, PROBE_KINDS, PROBE_STATES } from '../../../server/wire/crypto.ts';
import { OFFLOADED_SA_STATES, OFFLOAD_DIRECTIONS, OFFLOAD_MODES } from '../../../server/wire/ethtool.ts';
import { OVPN_PEER_STATES } from '../../../server/wire/ovpn.ts';
import { PFKEY_CHECK_STATUSES, REGISTER_STATES, UNREPRESENTABLE_CAUSES } from '../../../server/wire/pfkey.ts';
import { fakeTransport, multipart, nlError } from '../netlink/fake.ts';
import { genlDo, genlDump, genlFake } from '../netlink/genl-fake.ts';
import { linkFake } from '../netlink/link-fake.ts';
import { algo, delSa, expire, newSa } from '../xfrm/build.ts';
import type { AttrWriter } from '../../../server/netlink/attr.ts';
import { memoryLogger } from '../memlog.ts';
import '../decoders.ts'; // the fixtures' fingerprint secret
import { LinkWatch } from '../../../server/families/link/watch.ts';
import { IKE_DOWN_REASONS, VICI_ACTIONS, VICI_ACTION_RESULTS } from '../../../server/wire/vici.ts';
import { Role } from '../../../server/config.ts';

type Schema = { [k: string]: unknown };
interface Doc {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>>;
  components: { schemas: Record<string, Schema> };
}
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const doc = openApiDocument(ROUTES) as unknown as Doc;
const schemas = doc.components.schemas;

/** The schema at a path of property names below a component ('items' steps into an array). */
function at(component: string, ...names: string[]): Schema {
  let s = schemas[component]!;
  for (const n of names) s = (n === 'items' ? s['items'] : (s['properties'] as Record<string, Schema>)[n]) as Schema;
  assert.ok(s, `${component}.${names.join('.')} is in the document`);
  return s;
}

// Where each wire enum appears in the document.
const ENUMS: Array<[string, Schema, readonly unknown[]]> = [
  ['EntityKind', at('EntityKind'), ENTITY_KINDS],
  ['Source.state', at('Source', 'state'), SOURCE_STATES],
  ['Event.code', at('Event', 'code'), EVENT_CODES],
  ['Alarm.type', at('Alarm', 'type'), ALARM_TYPES],
  ['Alarm.severity', at('Alarm', 'severity'), ALARM_SEVERITIES],
  ['Tunnel.alarms', at('Tunnel', 'alarms', 'items'), ALARM_TYPES],
  ['Tunnel.family', at('Tunnel', 'family'), TUNNEL_FAMILIES],
  ['Tunnel.state', at('Tunnel', 'state'), TUNNEL_STATES],
  ['Rotation.family', at('Rotation', 'family'), ROTATION_FAMILIES],
  ['Rotation.cause', at('Rotation', 'cause'), ROTATION_CAUSES],
  ['Rotation.state', at('Rotation', 'state'), ROTATION_STATES],
  ['Countdown.softBasis', at('Countdown', 'softBasis'), EXPIRY_BASES],
  ['Countdown.sequenceBits', at('Countdown', 'sequenceBits'), SEQUENCE_BITS],
  ['Gap.how', at('Gap', 'how'), GAP_ENDINGS],
  ['CryptoProbe.state', at('CryptoProbe', 'state'), PROBE_STATES],
  ['CryptoProbe.basis', at('CryptoProbe', 'basis'), PROBE_BASES],
  ['ProbeResult.type', at('ProbeResult', 'type'), PROBE_KINDS],
  ['PfkeyRegister.state', at('PfkeyRegister', 'state'), REGISTER_STATES],
  ['PfkeyCheck.status', at('PfkeyCheck', 'status'), PFKEY_CHECK_STATUSES],
  ['PfkeyCheck.causes', at('PfkeyCheck', 'causes', 'items', 'code'), UNREPRESENTABLE_CAUSES],
  ['OvpnPeer.state', at('OvpnPeer', 'state'), OVPN_PEER_STATES],
  ['OffloadDevice.sas.dir', at('OffloadDevice', 'sas', 'items', 'dir'), OFFLOAD_DIRECTIONS],
  ['OffloadDevice.sas.mode', at('OffloadDevice', 'sas', 'items', 'mode'), OFFLOAD_MODES],
  ['OffloadDevice.sas.state', at('OffloadDevice', 'sas', 'items', 'state'), OFFLOADED_SA_STATES],
  ['CryptoUse.role', at('CryptoUse', 'role'), CRYPTO_USE_ROLES],
  ['CryptoUse.noDriver', at('CryptoUse', 'noDriver'), NO_DRIVER_CAUSES],
  ['CryptoInfo.afAlg.modules.state', at('CryptoInfo', 'afAlg', 'modules', 'items', 'state'), MODULE_STATES],
  ['Host.state', at('Host', 'state'), HOST_STATES],
  ['ViciAction.action', at('ViciAction', 'action'), VICI_ACTIONS],
  ['ViciAction.result', at('ViciAction', 'result'), VICI_ACTION_RESULTS],
  ['TunnelIke.downReason', at('TunnelIke', 'downReason'), IKE_DOWN_REASONS],
  ['whoami.role', ((doc.paths['/api/v1/whoami']!['get']!.responses['200']!.content!['application/json']!.schema['properties'] as Record<string, Schema>)['role'])!, Role.options],
];

test('every enum the server emits is listed exactly (alarm types with tunnel-down, entity kinds, source states, event codes …), and the document has no other', () => {
  for (const [name, s, values] of ENUMS) assert.deepEqual(s['enum'], [...values], name);
  assert.ok((at('Alarm', 'type')['enum'] as string[]).includes('tunnel-down'));
  // Any enum anywhere in the document (query parameters too) is one of the wire lists, not a copy by hand.
  const lists = new Set(ENUMS.map(([, , v]) => JSON.stringify(v)));
  const walk = (x: unknown, where: string): void => {
    if (Array.isArray(x)) return x.forEach((y, i) => walk(y, `${where}[${i}]`));
    if (!x || typeof x !== 'object') return;
    for (const [k, v] of Object.entries(x)) {
      if (k === 'enum') assert.ok(lists.has(JSON.stringify(v)), `${where}.enum ${JSON.stringify(v)} is a wire list`);
      else walk(v, `${where}.${k}`);
    }
  };
  walk(doc, 'doc');
});

/**
 * A JSON Schema (2020-12) validator for the keywords the document uses. An unknown keyword throws, so a
 * new construct in the document cannot pass unchecked.
 */
function validate(value: unknown, schema: Schema | boolean, where = '$'): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${where}: no value allowed`];
  const out: string[] = [];
  const fail = (msg: string) => out.push(`${where}: ${JSON.stringify(value)?.slice(0, 80)} ${msg}`);
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const props = (schema['properties'] ?? {}) as Record<string, Schema>;
  for (const [k, v] of Object.entries(schema)) {
    switch (k) {
      case 'description':
        break;
      case '$ref': {
        const name = /^#\/components\/schemas\/(.+)$/.exec(v as string)?.[1];
        assert.ok(name && schemas[name], `${where}: $ref ${String(v)} resolves`);
        out.push(...validate(value, schemas[name]!, where));
        break;
      }
      case 'type': {
        const ok = (t: string) =>
          t === 'integer' ? Number.isInteger(value) : t === 'null' ? value === null : t === 'array' ? Array.isArray(value) : t === 'object' ? isObject(value) : typeof value === t;
        if (!(Array.isArray(v) ? v : [v]).some(ok)) fail(`is not of type ${JSON.stringify(v)}`);
        break;
      }
      case 'enum':
        if (!(v as unknown[]).includes(value)) fail(`is not one of ${JSON.stringify(v)}`);
        break;
      case 'const':
        if (value !== v) fail(`is not ${JSON.stringify(v)}`);
        break;
      case 'pattern':
        if (typeof value === 'string' && !new RegExp(v as string, 'u').test(value)) fail(`does not match ${String(v)}`);
        break;
      case 'format':
        assert.equal(v, 'date-time', `${where}: format ${String(v)} is known to the validator`);
        if (typeof value === 'string' && Number.isNaN(Date.parse(value))) fail('is not a date-time');
        break;
      case 'minimum':
      case 'maximum':
        if (typeof value === 'number' && (k === 'minimum' ? value < (v as number) : value > (v as number))) fail(`breaks ${k} ${String(v)}`);
        break;
      case 'maxItems':
        if (Array.isArray(value) && value.length > (v as number)) fail(`has more than ${String(v)} items`);
        break;
      case 'items':
        if (Array.isArray(value)) value.forEach((x, i) => out.push(...validate(x, v as Schema, `${where}[${i}]`)));
        break;
      case 'properties':
        if (isObject(value)) for (const [p, s] of Object.entries(v as Record<string, Schema>)) if (value[p] !== undefined) out.push(...validate(value[p], s, `${where}.${p}`));
        break;
      case 'required':
        if (isObject(value)) for (const p of v as string[]) if (!(p in value)) fail(`lacks ${p}`);
        break;
      case 'additionalProperties':
        if (isObject(value)) for (const p of Object.keys(value)) if (!(p in props)) out.push(...validate(value[p], v as Schema | boolean, `${where}.${p}`));
        break;
      case 'anyOf':
        if (!(v as Schema[]).some((s) => validate(value, s, where).length === 0)) fail(`matches none of anyOf (${(v as Schema[]).map((s) => validate(value, s, where)[0]).join('; ')})`);
        break;
      default:
        throw new Error(`${where}: the test's validator does not know the keyword ${k}`);
    }
  }
  return out;
}

const fixture = (file: string) =>
  (JSON.parse(readFileSync(path.join(root, 'test/fixtures', file), 'utf8')) as { messages: Array<{ hex: string }> }).messages.map((m) => parseMessages(Buffer.from(m.hex, 'hex'))[0]!);

/** A KEY_GET request's attributes: the device and which slot. */
const ovpnRequestAttrs = { name: 'key-get', redactUnknown: false, attrs: new Map([[1, { name: 'ifindex', type: 'u32' as const }], [3, { name: 'keyconf', type: 'nest' as const, nest: keyconfAttrs }]]) };

interface Fed {
  model: Model;
  hub: Hub;
  history: History;
}

/**
 * A server's model fed by the real sources with captured kernel bytes, and the tunnel tracker on a test
 * clock; `check` looks at it while the ovpn peer is up, and at the end.
 */
async function fedModel(check: (fed: Fed, when: string) => void): Promise<void> {
  const { log } = memoryLogger();
  const model = new Model();
  const hub = new Hub(model, { version: 't', hostname: 'h', netns: 'n', heartbeatMs: 60_000 }, log);
  const clock = { now: Date.parse('2026-06-01T12:00:00Z') };
  const history = new History(model, log, { dataDir: mkdtempSync(path.join(tmpdir(), 'sascope-openapi-')), retentionDays: 7, sampleSeconds: 60, flushMs: 60_000, now: () => clock.now });
  const tracker = new TunnelTracker(model, {
    thresholds: parseConfig('t', '{}').alarms, now: () => clock.now, tickMs: 0,
    onRotation: (r) => history.rotation(r), alarms: { raised: (a) => history.alarmRaised(a), cleared: (a, at) => history.alarmCleared(a, at) },
  });
  tracker.restore(history.open());
  history.trackStateFrom(() => tracker.exportState());
  const dump = (type: number, replies: NetlinkMessage[]) =>
    fakeTransport((req) => (req.type === type ? multipart(req, replies[0]!.type, replies.map((m) => m.payload)) : [nlError(req, 95 /* EOPNOTSUPP */)]));
  const sas = new XfrmSaSource(model, log, { transport: dump(XFRM_MSG.GETSA, fixture('xfrm/sa-dump-zoo.fixture.json')), refreshIntervalMs: 0 });
  const policies = new XfrmPolicySource(model, log, { transport: dump(XFRM_MSG.GETPOLICY, fixture('xfrm/policy-dump-two.fixture.json')) });
  const links = new LinkSource(model, log, new LinkWatch({ transport: dump(RTM.GETLINK, fixture('link/link-dump-veth.fixture.json')) }), { statsIntervalMs: 0 });
  // ovpn: the lab's mp hub (ifindex 4) with its captured peer-get and key-get replies.
  const peerGet = fixture('ovpn/peer-get-dump-mp.fixture.json').map((m) => m.payload.subarray(4));
  const [primary, secondary] = fixture('ovpn/key-get-both-slots.fixture.json').map((m) => m.payload.subarray(4));
  const genl = genlFake([{ name: 'ovpn', id: 0x25, ops: [1, 2, 3, 4, 6, 7, 8, 10], groups: { peers: 9 } }], (req) => {
    if (req.cmd === OVPN_CMD.PEER_GET) return genlDump(req, OVPN_CMD.PEER_GET, peerGet);
    const slot = (decodeAttrs(ovpnRequestAttrs, req.attrs)['keyconf'] as { slot: string }).slot;
    return genlDo(req, OVPN_CMD.KEY_GET, slot === 'primary' ? primary! : secondary!);
  });
  const ovpn = new OvpnSource(model, log, new LinkWatch({ transport: linkFake([{ index: 4, name: 'ovpn-hub', kind: 'ovpn', ovpnMode: 1 }]) }), { genlTransport: genl, refreshIntervalMs: 0 });
  // Kernel crypto from the lab's /proc/crypto; the views derive crypto uses and offload from the SAs.
  const procCrypto = readFileSync(path.join(root, 'test/fixtures/crypto/lab-debian-7.2.proc-crypto.txt'), 'utf8');
  const crypto = new CryptoSource(model, log, { fs: { read: (f) => (f === '/proc/crypto' ? procCrypto : undefined), exists: (f) => f === '/proc/crypto' }, socket: () => ({ ok: true }), intervalMs: 0 });
  const views = new DerivedViews(model, 0);
  const sources = [sas, policies, links, ovpn, crypto];
  for (const s of sources) await s.start();
  const settle = () => new Promise((r) => setImmediate(r));
  await settle();
  // A rekey (soft EXPIRE, the new SA, the old one deleted), then the lab's event capture: new SAs,
  // aevents, soft and hard expires, an UPDSA, an ACQUIRE, a DELSA and a flush.
  const key = (spi: number) => (w: AttrWriter) => w.bytes(18, algo('rfc4106(gcm(aes))', Buffer.alloc(20, spi), 128));
  const rekey = [newSa({ spi: 0xa1 }, key(0xa1)), expire({ spi: 0xa1 }, false), newSa({ spi: 0xb2 }, key(0xb2)), delSa({ spi: 0xa1 })];
  for (const m of [...rekey, ...fixture('xfrm/sa-events.fixture.json')]) {
    sas.onEvent(m);
    clock.now += 1000;
    await settle();
  }
  history.flush();
  check({ model, hub, history }, 'with the ovpn peer up');
  // The kernel deletes the ovpn peer (its captured peer-del-ntf).
  const [del] = fixture('ovpn/peer-del-ntf-userspace.fixture.json');
  ovpn.onNotification({ cmd: OVPN_CMD.PEER_DEL_NTF, version: 1, attrs: del!.payload.subarray(4), name: 'peer-del-ntf' });
  await settle();
  views.recompute();
  // The operator's AF_ALG probe over the algorithms in use, its measurement stubbed (no AF_ALG needed).
  const probe = new ProbeRunner({
    sink: model, log, uses: () => views.uses(), algorithms: () => crypto.algorithms(), reread: () => crypto.reread(), unavailable: () => undefined,
    measure: async () => ({ bytes: 1 << 20, seconds: 0.01 }),
  });
  probe.publish();
  let run: Promise<unknown> | undefined;
  const actions: ApiActions = {
    startCryptoProbe: () => ((run = probe.start()), { started: true, row: model.get('crypto-probe', 'probe') }),
    startPfkeyRegister: () => ({ started: false, message: 'no PF_KEY here' }),
  };
  const started = answer(hub, 'POST', '/api/v1/crypto/probe', actions);
  assert.equal(started.status, 202);
  assert.deepEqual(validate(started.body, bodySchema('POST', '/api/v1/crypto/probe', '202')), [], 'POST /api/v1/crypto/probe');
  await run;
  await settle();
  // A minute on: clock alarms are evaluated; torn-down tunnels and the deleted peer still linger with theirs.
  clock.now += 60_000;
  tracker.tick();
  await settle();
  history.sample();
  history.flush();
  try {
    check({ model, hub, history }, 'at the end');
  } finally {
    for (const s of sources) s.stop();
    views.close();
    tracker.close();
    hub.close();
    history.close();
  }
}

/** A route's answer, as handleApi gives it. */
function answer(hub: Hub, method: string, url: string, actions?: ApiActions, history?: History): { status: number; body: unknown } {
  let status = 0;
  let body = '';
  const req = { method, url, headers: {}, resume() {} } as unknown as IncomingMessage;
  const res = { writeHead: (s: number) => void (status = s), setHeader() {}, end: (b: string) => void (body = b) } as unknown as ServerResponse;
  handleApi(hub, req, res, actions, history);
  return { status, body: JSON.parse(body) };
}

const bodySchema = (method: string, path: string, status: string) => doc.paths[path]![method.toLowerCase()]!.responses[status]!.content!['application/json']!.schema;

/** Every GET route, answered from history and from memory (history off), against the document. */
function checkRoutes({ model, hub, history }: Fed, when: string): void {
  const tunnel = (model.list('tunnel') as Array<{ key: string }>)[0]!.key;
  for (const from of [history, undefined]) {
    for (const r of ROUTES.filter((x) => x.method === 'GET')) {
      const url = r.path === '/api/v1/history/samples' ? `${r.path}?tunnel=${encodeURIComponent(tunnel)}` : r.path;
      const a = answer(hub, 'GET', url, undefined, from);
      assert.equal(a.status, 200, `${url}: ${JSON.stringify(a.body)}`);
      assert.deepEqual(validate(a.body, bodySchema('GET', r.path, '200')), [], `GET ${url} (${from ? 'history' : 'memory'}, ${when})`);
    }
  }
}

test('a model fed with byte fixtures: every GET route answers what the document says (tunnels, rotations, alarms, events, ovpn, crypto …)', async () => {
  await fedModel((fed, when) => {
    if (when === 'with the ovpn peer up') assert.ok(fed.model.count('ovpn-peer') > 0, 'the fixtures give an ovpn peer');
    else {
      // The run has something of each documented kind to check.
      for (const kind of ['source', 'sa', 'policy', 'link', 'ovpn-dev', 'tunnel', 'rotation', 'alarm', 'event', 'crypto-alg', 'crypto-info', 'crypto-use', 'offload-info'] as const) {
        assert.ok(fed.model.count(kind) > 0, `the fixtures give a ${kind}`);
      }
      const alarmTypes = new Set((fed.model.list('alarm') as Array<{ type: string }>).map((a) => a.type));
      for (const t of ['tunnel-down', 'hard-expired', 'peer-deleted']) assert.ok(alarmTypes.has(t), `${t} in ${[...alarmTypes].join()}`);
      const probe = fed.model.get('crypto-probe', 'probe') as { state: string; results: unknown[] };
      assert.ok(probe.state === 'done' && probe.results.length > 0, JSON.stringify(probe));
    }
    checkRoutes(fed, when);
  });
});

test("the fleet console's model (rows with host and host keys, host rows, a host alarm): every GET route answers what the document says, also with ?host=", async () => {
  await fedModel((fed, when) => {
    if (when !== 'at the end') return;
    // What server/fleet/console.ts makes of an agent's rows: `host` added, the key "<host>/<key>".
    const model = new Model();
    const hub = new Hub(model, { version: 't', hostname: 'h', netns: 'self', fleet: true, heartbeatMs: 60_000 }, memoryLogger().log);
    for (const kind of ENTITY_KINDS) for (const r of fed.model.list(kind) as Array<{ key: string }>) model.upsert(kind, hostKey('gw1', r.key), { ...r, host: 'gw1' });
    model.status({ id: 'nats', label: 'NATS', state: 'ok', since: 0, resyncs: 0, decodeErrors: 0 });
    const host: FleetHost = { key: 'gw1', host: 'gw1', state: 'stale', lastSeen: 1, since: 2, proto: 1, agentVersion: '0.1.0', boot: '0123456789abcdef', seq: 9, counts: { sa: 1, tunnel: 1, alarm: 1, policy: 1 }, sourcesNotOk: ['pfkey'], dropped: 1 };
    model.upsert('host', 'gw1', host);
    model.upsert('alarm', hostKey('gw1', 'host'), { key: 'gw1/host', host: 'gw1', type: 'host-stale', severity: 'warning', ref: 'host:gw1', summary: 'gw1 stale', since: 2, threshold: 20 });
    const tunnel = (model.list('tunnel') as Array<{ key: string }>)[0]!.key;
    for (const r of ROUTES.filter((x) => x.method === 'GET')) {
      const byHost = r.query !== undefined && 'host' in r.query.shape;
      for (const q of byHost ? ['', 'host=gw1', 'host=gw2'] : ['']) {
        const params = new URLSearchParams(q);
        if (r.path === '/api/v1/history/samples') params.set('tunnel', tunnel);
        const url = `${r.path}${params.size ? `?${params}` : ''}`;
        const a = answer(hub, 'GET', url);
        assert.equal(a.status, 200, `${url}: ${JSON.stringify(a.body)}`);
        assert.deepEqual(validate(a.body, bodySchema('GET', r.path, '200')), [], `GET ${url} (fleet console)`);
      }
    }
    const hosts = (url: string) => (answer(hub, 'GET', url).body as { hosts: FleetHost[] }).hosts.map((h) => h.host);
    assert.deepEqual(hosts('/api/v1/hosts'), ['gw1']);
    assert.deepEqual(hosts('/api/v1/hosts?host=gw2'), []);
    const policies = (url: string) => (answer(hub, 'GET', url).body as { policies: Array<{ key: string }> }).policies.length;
    assert.equal(policies('/api/v1/policies?host=gw1'), fed.model.count('policy'));
    assert.equal(policies('/api/v1/policies?host=gw2'), 0);
    // A tunnel's SAs are named by the agent's keys: ?tunnel= finds them under the console's.
    const sas = (answer(hub, 'GET', `/api/v1/sas?tunnel=${encodeURIComponent(tunnel)}`).body as { sas: unknown[] }).sas;
    assert.ok(sas.length > 0, 'the tunnel finds its SAs by host key');
    assert.equal((answer(hub, 'GET', '/api/v1/snapshot').body as { server: { fleet?: { hosts: number } } }).server.fleet?.hosts, 1);
    hub.close();
  });
});

test('a schema that differs from its wire type fails the type check (run by tsc over this file)', () => {
  // @ts-expect-error: the schema lacks Alarm's since and has a field Alarm does not have
  wire<OnWire<Alarm>>()(z.object({ key: z.string(), type: z.enum(ALARM_TYPES), severity: z.enum(ALARM_SEVERITIES), ref: z.string(), summary: z.string(), extra: z.number() }));
  // @ts-expect-error: a field of the right name but another type
  wire<HistoryGap>()(z.object({ from: z.number(), to: z.string(), how: z.enum(GAP_ENDINGS) }));
  assert.ok(wire<HistoryGap>()(z.object({ from: z.number(), to: z.number(), how: z.enum(GAP_ENDINGS), source: z.string().optional() })));
});

test('the validator is strict: a value off a wire list, a missing field, an unknown field fail', () => {
  const alarm = { key: 'tunnel-down:tunnel:x', type: 'tunnel-down', severity: 'critical', ref: 'tunnel:x', summary: 's', since: 1 };
  assert.deepEqual(validate(alarm, { $ref: '#/components/schemas/Alarm' }), []);
  assert.equal(validate({ ...alarm, type: 'tunnel-gone' }, { $ref: '#/components/schemas/Alarm' }).length, 1);
  const { since: _, ...noSince } = alarm;
  assert.equal(validate(noSince, { $ref: '#/components/schemas/Alarm' }).length, 1);
  assert.equal(validate({ ...alarm, extra: 1 }, { $ref: '#/components/schemas/Alarm' }).length, 1);
});

test('server modules import each other without a cycle at run time (type-only imports aside)', () => {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) {
        if (!f.startsWith('.')) walk(p);
      } else if (p.endsWith('.ts')) files.push(p);
    }
  };
  walk(path.join(root, 'server'));
  const imports = new Map<string, string[]>();
  for (const f of files) {
    const deps: string[] = [];
    for (const m of readFileSync(f, 'utf8').matchAll(/^(?:import|export)\s+(?!type\s)([^;]*?)\s+from\s+'(\.[^']+)'/gm)) {
      const names = /^\{([^}]*)\}$/.exec(m[1]!.trim())?.[1]?.split(',').map((s) => s.trim()).filter(Boolean);
      if (names?.every((n) => n.startsWith('type '))) continue;
      deps.push(path.resolve(path.dirname(f), m[2]!));
    }
    imports.set(f, deps);
  }
  const state = new Map<string, 'open' | 'done'>();
  const chain: string[] = [];
  const cycles: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    chain.push(f);
    for (const d of imports.get(f) ?? []) {
      if (state.get(d) === 'open') cycles.push(chain.slice(chain.indexOf(d)).concat(d).map((x) => path.relative(root, x)).join(' → '));
      else if (!state.has(d)) visit(d);
    }
    chain.pop();
    state.set(f, 'done');
  };
  for (const f of imports.keys()) if (!state.has(f)) visit(f);
  assert.deepEqual(cycles, []);
});

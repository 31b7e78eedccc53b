// The API as an OpenAPI 3.1 document, served at /api/v1/openapi.json. Every schema in it is generated
// (z.toJSONSchema) from the zod schemas below: their enums are the const arrays of server/wire, and the type
// check holds each entity schema equal to its wire type, so neither can drift from what the server sends.
// Query parameters come from each route's own zod schema. test/unit/hub/api.test.ts checks that every
// route is documented and nothing else is; test/unit/hub/openapi.test.ts that the document lists exactly
// the values the server emits and that real answers validate against it.
import { z } from 'zod';
import type { Route } from './routes.ts';
import type { HistoryAlarm, HistoryInfo, TunnelSample } from '../history/reader.ts';
import { EVENT_CODES, SOURCE_STATES, type KernelEvent, type OnWire, type SourceStatus, type UnknownAttribute } from '../wire/entities.ts';
import { ENTITY_KINDS } from '../wire/protocol.ts';
import { HOST_STATES, type FleetHost } from '../wire/fleet.ts';
import {
  ALARM_SEVERITIES, ALARM_TYPES, EXPIRY_BASES, GAP_ENDINGS, ROTATION_CAUSES, ROTATION_FAMILIES, ROTATION_STATES, SEQUENCE_BITS, TUNNEL_FAMILIES, TUNNEL_STATES,
  type Alarm, type Countdown, type HistoryGap, type Rotation, type Tunnel,
} from '../wire/tunnels.ts';
import {
  CRYPTO_USE_ROLES, MODULE_STATES, NO_DRIVER_CAUSES, PROBE_BASES, PROBE_KINDS, PROBE_STATES, type CryptoInfo, type CryptoProbe, type CryptoUse, type ProbeResult,
} from '../wire/crypto.ts';
import { OFFLOADED_SA_STATES, OFFLOAD_DIRECTIONS, OFFLOAD_MODES, type EthtoolFeature, type OffloadDevice, type OffloadInfo } from '../wire/ethtool.ts';
import { OVPN_PEER_STATES, type OvpnCounters, type OvpnDevice, type OvpnPeer } from '../wire/ovpn.ts';
import { IKE_DOWN_REASONS, VICI_ACTIONS, VICI_ACTION_RESULTS, type TunnelIke, type ViciAction } from '../wire/vici.ts';
import { Role } from '../config.ts';
import type { WireguardDevice, WireguardPeer } from '../wire/wireguard.ts';
import { PFKEY_CHECK_STATUSES, REGISTER_STATES, UNREPRESENTABLE_CAUSES, type PfkeyCheck, type PfkeyRegister } from '../wire/pfkey.ts';

type Flat<T> = { [K in keyof T]: T[K] };
type Same<A, B> = (<T>() => T extends Flat<A> ? 1 : 2) extends (<T>() => T extends Flat<B> ? 1 : 2) ? true : false;
/** A schema of wire type W: the type check fails here when a field is added, dropped or retyped on one side only. */
export const wire = <W>() => <S extends z.ZodType>(schema: S, ..._: Same<z.output<S>, W> extends true ? [] : [schemaDiffersFromWireType: never]) => schema;

/** The document's schemas: components by name, and each route's 200 body under its key ('GET /api/v1/…'). */
const registry = z.registry<{ id: string }>();
const component = <S extends z.ZodType>(id: string, schema: S): S => (registry.add(schema, { id }), schema);

/** What the fleet console (`serve --fleet`) adds to every row: the host it comes from (its key is then "<host>/<key>"). */
const onHost = { host: z.string().describe('The fleet console only: the host this row comes from; its key is "<host>/<key on that host>"').optional() };
/** An entity row's schema: its wire fields and the console's `host`. */
const row = <S extends z.ZodObject>(id: string, schema: S) => component(id, schema.extend(onHost));

const int = z.number().int();
const ms = int.describe('ms since epoch');
const u64 = z.string().regex(/^[0-9]+$/).describe('64-bit counter as a decimal string');
const nameOrNumber = z.union([z.string(), z.number()]).describe("The kernel's constant by name, or its number when it has no name here");
const note = z.string().describe('Set when the data comes from memory only (history off or unavailable)');

component('Error', z.object({ error: z.object({ code: z.string(), message: z.string() }) }));
const Entity = component('Entity', z.looseObject({}).describe('An entity in wire form (types in server/wire/*.ts)'));
const EntityKind = component('EntityKind', z.enum(ENTITY_KINDS).describe('The kinds of entity the model holds: WebSocket topics and delta kinds'));

// Rows of the model carry their key (the source's or the event's id as a string), as on the WebSocket.
const Source = row('Source', wire<OnWire<SourceStatus> & { key: string }>()(z.object({
  key: z.string(), id: z.string(), label: z.string(), state: z.enum(SOURCE_STATES), reason: z.string().describe('Why the state is what it is, in words').optional(),
  since: ms, lastData: ms.optional(), lastResync: ms.optional(), resyncs: int, decodeErrors: int, lastDecodeError: z.string().optional(),
})));
const EventFields = z.object({
  id: int, time: ms, source: z.string().describe('The source id (xfrm-sa, link, pfkey …), or sascope'),
  type: z.string().describe("The kernel's message (NEWSA, EXPIRE soft, peer-del-ntf …), or sascope's own (alarm, rotation …)"),
  summary: z.string(), code: z.enum(EVENT_CODES).describe('What happened, on the events something acts on').optional(),
  ref: z.string().describe('The entity it concerns: "<kind>:<key>"').optional(), subject: z.object({ kind: EntityKind, key: z.string() }).optional(),
});
const Event = row('Event', wire<OnWire<KernelEvent> & { key: string }>()(EventFields.extend({ key: z.string() })));
const HistoryEvent = component('HistoryEvent', wire<OnWire<KernelEvent> & { historyId: number }>()(EventFields.extend({ historyId: int }).describe('An event as history keeps it')));
const Countdown = component('Countdown', wire<OnWire<Countdown>>()(z.object({
  softExpiresAt: ms.optional(), hardExpiresAt: ms.optional(), softBasis: z.enum(EXPIRY_BASES).optional(), hardBasis: z.enum(EXPIRY_BASES).optional(), useLimitPending: z.boolean().optional(),
  bytesToSoft: u64.optional(), bytesToHard: u64.optional(), packetsToSoft: u64.optional(), packetsToHard: u64.optional(),
  sequenceUsedPercent: z.number().optional(), sequenceBits: z.literal(SEQUENCE_BITS).optional(),
}).describe("Countdowns of the tunnel's current SA; an absent field: that limit is not set")));
const TunnelIke = component('TunnelIke', wire<TunnelIke>()(z.object({
  conn: z.string(), child: z.string(), peerId: z.string().optional(), ikeSa: z.string().optional(), childSa: z.string().optional(), downReason: z.enum(IKE_DOWN_REASONS).optional(),
}).describe("strongSwan's names for the tunnel (the IKE join: its XFRM SAs' SPIs and reqid matched to a vici-child row), or why a configured child has no SA (family 'ike')")));
const Tunnel = row('Tunnel', wire<OnWire<Tunnel>>()(z.object({
  key: z.string(), family: z.enum(TUNNEL_FAMILIES), name: z.string(), ike: TunnelIke.optional(), src: z.string(), dst: z.string(),
  proto: nameOrNumber.optional(), reqid: int.optional(), mode: nameOrNumber.optional(), direction: z.string().optional(),
  selector: z.object({ src: z.string(), dst: z.string(), proto: nameOrNumber, sport: int, dport: int }).optional(),
  mark: z.object({ value: int, mask: int }).optional(), ifId: int.optional(), policies: z.array(z.string()), reverse: z.string().optional(),
  state: z.enum(TUNNEL_STATES), sas: z.array(z.string()),
  current: z.object({ sa: z.string(), spi: int, addedAt: ms, fingerprint: z.string().optional(), algorithm: z.string().optional(), offload: z.string().optional() }).optional(),
  keyId: int.optional(), firstSeen: ms, bytes: u64, packets: u64, integrityFailed: int, replayFailed: int, replayWindowFailed: int,
  rotations: int, lastRotation: ms.optional(), countdown: Countdown.optional(), alarms: z.array(z.enum(ALARM_TYPES)),
})));
const Rotation = row('Rotation', wire<OnWire<Rotation>>()(z.object({
  key: z.string(), family: z.enum(ROTATION_FAMILIES), tunnel: z.string(), tunnelName: z.string(), time: ms, cause: z.enum(ROTATION_CAUSES), by: z.string().optional(),
  oldSpi: int.optional(), newSpi: int.optional(), oldFingerprint: z.string().optional(), newFingerprint: z.string().optional(), oldKeyId: int.optional(), newKeyId: int.optional(),
  state: z.enum(ROTATION_STATES), overlapMs: int.optional(), oldGoneAt: ms.optional(),
  skippedHandshakes: z.boolean().describe('wireguard: handshakes between two reads may have gone unseen; counted as this one').optional(),
})));
const AlarmFields = wire<OnWire<Alarm>>()(z.object({
  key: z.string(), type: z.enum(ALARM_TYPES), severity: z.enum(ALARM_SEVERITIES), ref: z.string(), summary: z.string(), since: ms,
  value: z.number().optional(), threshold: z.number().optional(),
}));
const Alarm = row('Alarm', AlarmFields);
const HistoryAlarm = component('HistoryAlarm', wire<HistoryAlarm>()(AlarmFields.extend({ clearedAt: ms.optional() })));
const Gap = component('Gap', wire<HistoryGap>()(z.object({ from: ms, to: ms, how: z.enum(GAP_ENDINGS), source: z.string().describe("The stale source's id (how 'stale')").optional() })));
const TunnelSample = component('TunnelSample', wire<TunnelSample>()(z.object({ time: ms, bytes: u64, packets: u64, integrityFailed: int, replayFailed: int, rotations: int })));
const HistoryInfo = component('HistoryInfo', wire<HistoryInfo>()(z.object({
  available: z.boolean(), file: z.string().optional(), problem: z.string().optional(), retentionDays: z.number(), sampleSeconds: int, sizeBytes: int.optional(),
  rows: z.object({ events: int, rotations: int, alarms: int, samples: int }).optional(), startedAt: ms.optional(), gaps: z.array(Gap),
})));
const ProbeResult = component('ProbeResult', wire<ProbeResult>()(z.object({
  name: z.string(), type: z.enum(PROBE_KINDS), keyBits: int, bytes: int, seconds: z.number(), mbPerSec: z.number().optional(), driver: z.string().optional(), error: z.string().optional(),
})));
const CryptoProbe = row('CryptoProbe', wire<CryptoProbe>()(z.object({
  key: z.string(), state: z.enum(PROBE_STATES), reason: z.string().optional(), startedAt: ms.optional(), finishedAt: ms.optional(), basis: z.enum(PROBE_BASES).optional(),
  limits: z.object({ seconds: z.number(), bytes: int }), current: z.string().optional(), results: z.array(ProbeResult),
})));
const PfkeyRegister = row('PfkeyRegister', wire<PfkeyRegister>()(z.object({
  key: z.literal('register'), state: z.enum(REGISTER_STATES), startedAt: ms.optional(), finishedAt: ms.optional(), tookMs: int.optional(), reason: z.string().optional(),
})).extend({ key: z.string().describe("'register' (the fleet console: '<host>/register')") }));
const PfkeyCheck = row('PfkeyCheck', wire<PfkeyCheck>()(z.object({
  key: z.string(), status: z.enum(PFKEY_CHECK_STATUSES), differences: z.array(z.object({ field: z.string(), xfrm: z.string(), pfkey: z.string() })),
  reason: z.string().optional(), causes: z.array(z.object({ code: z.enum(UNREPRESENTABLE_CAUSES), subject: z.string().optional() })).optional(),
  xfrmKey: z.string().optional(), pfkeyKey: z.string().optional(),
})));
const UnknownAttribute = component('UnknownAttribute', wire<UnknownAttribute>()(z.object({ type: int, nested: z.boolean(), length: int, hex: z.string().optional() }).describe('An attribute the decoder does not know, kept with its number')));
const OvpnCounters = wire<OnWire<OvpnCounters>>()(z.object({ rxBytes: u64, txBytes: u64, rxPackets: u64, txPackets: u64 }));
const OvpnDevice = row('OvpnDevice', wire<OnWire<OvpnDevice> & { key: string }>()(z.object({
  key: z.string(), ifindex: int, name: z.string(), mode: z.string().optional(), operState: z.string(), peers: int, error: z.string().optional(),
  lastPeerDeleted: z.object({ peerId: int, reason: z.string(), time: ms }).optional(),
})));
const OvpnPeer = row('OvpnPeer', wire<OnWire<OvpnPeer>>()(z.object({
  key: z.string(), ifindex: int, device: z.string(), id: int, txId: int.optional(), remoteAddress: z.string().optional(), remotePort: int.optional(), remoteScopeId: int.optional(),
  localAddress: z.string().optional(), localPort: int.optional(), vpnIPv4: z.string().optional(), vpnIPv6: z.string().optional(), socket: int.optional(), socketNetnsId: int.optional(),
  keepaliveIntervalSeconds: int.optional(), keepaliveTimeoutSeconds: int.optional(), vpn: OvpnCounters, link: OvpnCounters,
  keys: z.array(z.object({ slot: z.string(), keyId: int, cipher: z.string(), unknown: z.array(UnknownAttribute).optional() })), keysError: z.string().optional(),
  state: z.enum(OVPN_PEER_STATES), rotations: int, lastRotation: ms.optional(), unknown: z.array(UnknownAttribute).optional(),
})));
const WireguardDevice = row('WireguardDevice', wire<OnWire<WireguardDevice> & { key: string }>()(z.object({
  key: z.string(), ifindex: int, name: z.string(), operState: z.string(), publicKey: z.string().describe('base64, as wg prints it').optional(), listenPort: int.optional(), fwmark: int.optional(),
  peers: int, error: z.string().optional(), unknown: z.array(UnknownAttribute).optional(),
})));
const WireguardPeer = row('WireguardPeer', wire<OnWire<WireguardPeer>>()(z.object({
  key: z.string(), ifindex: int, device: z.string(), publicKey: z.string().describe('base64, as wg prints it'), endpoint: z.string().optional(), persistentKeepaliveSeconds: int,
  lastHandshake: ms.optional(), rxBytes: u64, txBytes: u64, allowedIps: z.array(z.string()), protocolVersion: int.optional(), unknown: z.array(UnknownAttribute).optional(),
})));
const EthtoolFeature = component('EthtoolFeature', wire<EthtoolFeature>()(z.object({ name: z.string(), active: z.boolean(), requested: z.boolean(), changeable: z.boolean(), nochange: z.boolean() })));
const OffloadDevice = row('OffloadDevice', wire<OnWire<OffloadDevice>>()(z.object({
  key: z.string(), ifindex: int, ifname: z.string().optional(), kind: z.string().optional(), operState: z.string().optional(), present: z.boolean(),
  espHwOffload: EthtoolFeature.optional(), espTxCsum: EthtoolFeature.optional(), capable: z.boolean(),
  sas: z.array(z.object({
    key: z.string(), spi: int, src: z.string(), dst: z.string(), dir: z.enum(OFFLOAD_DIRECTIONS), mode: z.enum(OFFLOAD_MODES), bytes: u64, packets: u64,
    countersFromDriver: z.boolean(), state: z.enum(OFFLOADED_SA_STATES), note: z.string().optional(),
  })),
  counts: z.object({ in: int, out: int, crypto: int, packet: int }), saTotals: z.object({ bytes: u64, packets: u64 }),
  nic: z.object({ rxBytes: u64, txBytes: u64, rxPackets: u64, txPackets: u64, rxDropped: u64, txDropped: u64 }).optional(),
  driverStats: z.object({ count: int, ipsec: z.array(z.string()), psp: z.array(z.string()), note: z.string() }).optional(), policies: z.array(z.string()), notes: z.array(z.string()),
})));
const OffloadInfo = row('OffloadInfo', wire<OffloadInfo>()(z.object({
  key: z.string(), capableDevices: z.array(z.object({ ifindex: int, ifname: z.string() })), offloadedSas: int, packetOffloadSas: int, softwareSas: int,
  note: z.string().optional(), fallback: z.string(), capabilityUnknown: z.string().optional(),
})));
const CryptoUse = row('CryptoUse', wire<CryptoUse>()(z.object({
  key: z.string(), name: z.string(), role: z.enum(CRYPTO_USE_ROLES), keyBits: z.array(int), icvBits: int.optional(), sas: z.array(z.string()), saCount: int,
  driver: z.string().optional(), priority: int.optional(), module: z.string().optional(), type: z.string().optional(), selftest: z.string().optional(),
  alternatives: z.array(z.object({ driver: z.string(), priority: int, module: z.string() })), noDriver: z.enum(NO_DRIVER_CAUSES).optional(), note: z.string().optional(),
})));
const CryptoInfo = row('CryptoInfo', wire<CryptoInfo>()(z.object({
  key: z.string(), fipsEnabled: z.boolean().optional(), fipsNote: z.string().optional(),
  afAlg: z.object({
    socket: z.boolean(), socketError: z.string().optional(), modules: z.array(z.object({ name: z.string(), state: z.enum(MODULE_STATES), note: z.string().optional() })),
    procModules: z.boolean(), restrict: z.object({ present: z.boolean(), value: z.string().optional() }), note: z.string(),
  }),
  algorithms: int, readAt: ms, procCryptoError: z.string().optional(),
})));

const Host = component('Host', wire<FleetHost>()(z.object({
  key: z.string(), host: z.string(), state: z.enum(HOST_STATES), lastSeen: ms, since: ms, proto: int, agentVersion: z.string(), boot: z.string(), seq: int,
  counts: z.object({ sa: int, tunnel: int, alarm: int, policy: int }), sourcesNotOk: z.array(z.string()), reason: z.string().optional(), dropped: int,
}).describe('A host of the fleet console (serve --fleet): its agent and how it is heard from')));

const rows = z.array(Entity);
const Pfkey = z.object({ sas: rows, policies: rows, algorithms: rows, register: PfkeyRegister.nullable(), checks: z.array(PfkeyCheck) });
const Crypto = z.object({ info: CryptoInfo.nullable(), uses: z.array(CryptoUse), probe: CryptoProbe.nullable(), algorithms: rows });
const fromHistory = { truncated: z.boolean(), note: note.optional() };
const ViciActionRow = row('ViciAction', wire<ViciAction>()(z.object({
  key: z.string(), action: z.enum(VICI_ACTIONS), by: z.string().describe("The operator's token name"), startedAt: ms, endedAt: ms.optional(), result: z.enum(VICI_ACTION_RESULTS),
  target: z.union([z.object({ conn: z.string(), child: z.string().optional() }), z.object({ ikeId: int }), z.object({ childId: int })]),
  error: z.string().optional(), log: z.array(z.string()).describe("charon's log lines for it (level 1: names and SPIs, no keys)"),
})));

/** 200 (POST: 202) bodies by route key. */
const RESPONSES: Record<string, z.ZodType> = {
  'GET /api/v1/health': z.object({ ok: z.boolean(), seq: int, clients: int }),
  'GET /api/v1/snapshot': z.object({
    time: z.iso.datetime(), seq: int,
    server: z.object({ version: z.string(), hostname: z.string(), netns: z.string(), fleet: z.object({ hosts: int }).describe('A fleet console (serve --fleet) and how many hosts it knows').optional() }),
    sources: z.array(Source), links: rows, policies: rows, sas: rows, xfrmTotals: Entity.nullable(), ovpnDevices: z.array(OvpnDevice), ovpnPeers: z.array(OvpnPeer), pspDevices: rows,
    pfkey: Pfkey, ethtoolDevices: rows, offloadDevices: z.array(OffloadDevice), offload: OffloadInfo.nullable(), crypto: Crypto,
    tunnels: z.array(Tunnel), rotations: z.array(Rotation), alarms: z.array(Alarm), events: z.array(Event), hosts: z.array(Host).describe('The fleet console: its hosts (empty in a single-host serve)'),
  }).describe('Every entity kind under a plural name, with time, seq and server; sas as in GET /api/v1/sas'),
  'GET /api/v1/whoami': z.object({ name: z.string(), role: Role }),
  'GET /api/v1/sources': z.object({ sources: z.array(Source) }),
  'GET /api/v1/links': z.object({ links: rows }),
  'GET /api/v1/devices': z.object({ links: rows, ethtool: rows, offload: z.array(OffloadDevice) }),
  'GET /api/v1/sas': z.object({ sas: rows.describe('XFRM SAs (server/wire/xfrm.ts SecurityAssociation); lifetime.current.bytes/packets are JSON numbers here') }),
  'GET /api/v1/policies': z.object({ policies: rows }),
  'GET /api/v1/xfrm-totals': z.object({ totals: Entity.nullable() }),
  'GET /api/v1/tunnels': z.object({ tunnels: z.array(Tunnel) }),
  'GET /api/v1/rotations': z.object({ rotations: z.array(Rotation), ...fromHistory }),
  'GET /api/v1/events': z.object({ events: z.array(z.union([Event, HistoryEvent])), ...fromHistory }),
  'GET /api/v1/alarms': z.object({ active: z.array(Alarm), history: z.array(HistoryAlarm), ...fromHistory }),
  'GET /api/v1/history': z.union([HistoryInfo, z.object({ available: z.literal(false), gaps: z.array(Gap).max(0), note: z.string() })]),
  'GET /api/v1/history/samples': z.object({ samples: z.array(TunnelSample), gaps: z.array(Gap), ...fromHistory }),
  'GET /api/v1/ovpn': z.object({ devices: z.array(OvpnDevice), peers: z.array(OvpnPeer) }),
  'GET /api/v1/psp': z.object({ devices: rows }),
  'GET /api/v1/wireguard': z.object({ devices: z.array(WireguardDevice), peers: z.array(WireguardPeer) }),
  'GET /api/v1/pfkey': Pfkey.extend({}),
  'POST /api/v1/pfkey/register': z.object({ register: PfkeyRegister }),
  'GET /api/v1/crypto': Crypto.extend({}),
  'POST /api/v1/crypto/probe': z.object({ probe: CryptoProbe }),
  'GET /api/v1/offload': z.object({ info: OffloadInfo.nullable(), devices: z.array(OffloadDevice) }),
  'GET /api/v1/ethtool': z.object({ devices: rows }),
  'GET /api/v1/vici': z.object({ connections: rows, ikeSas: rows, childSas: rows }),
  'GET /api/v1/vici/actions': z.object({ actions: z.array(ViciActionRow), ...fromHistory }),
  'POST /api/v1/vici/initiate': z.object({ action: ViciActionRow }),
  'POST /api/v1/vici/terminate': z.object({ action: ViciActionRow }),
  'POST /api/v1/vici/rekey': z.object({ action: ViciActionRow }),
  'GET /api/v1/hosts': z.object({ hosts: z.array(Host) }),
  'GET /api/v1/openapi.json': z.looseObject({ openapi: z.literal('3.1.0') }).describe('This document'),
};
for (const [key, schema] of Object.entries(RESPONSES)) registry.add(schema, { id: key });

const SAFE = Number.MAX_SAFE_INTEGER;
type Generated = { components: Record<string, unknown>; responses: Record<string, unknown> };
let generated: Generated | undefined;
/** The registry as JSON Schema (2020-12, OpenAPI 3.1's dialect): component schemas, and response bodies referring to them. */
function schemas(): Generated {
  if (generated) return generated;
  const all = z.toJSONSchema(registry, {
    uri: (id) => `#/components/schemas/${id}`,
    // z.number().int() says "a safe integer" with bounds on every field: noise in a document people read.
    override: ({ jsonSchema: s }) => {
      if (s.minimum === -SAFE) delete s.minimum;
      if (s.maximum === SAFE) delete s.maximum;
    },
  }).schemas as Record<string, Record<string, unknown>>;
  const out: Generated = { components: {}, responses: {} };
  for (const [id, { $schema: _s, $id: _i, ...s }] of Object.entries(all)) (id in RESPONSES ? out.responses : out.components)[id] = s;
  return (generated = out);
}

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

function parameters(schema: z.ZodObject | undefined): unknown[] {
  if (!schema) return [];
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => {
    const { description, ...rest } = s;
    const time = name === 'since' || name === 'until';
    return {
      name,
      in: 'query',
      required: js.required?.includes(name) ?? false,
      ...(time ? { description: `${name === 'since' ? 'From' : 'Up to'} this time: ms since epoch or ISO 8601 date-time (with offset)` } : description ? { description } : {}),
      schema: time ? { type: 'string' } : rest,
    };
  });
}

export function openApiDocument(routes: readonly Route[]): Record<string, unknown> {
  const { components, responses } = schemas();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const key = `${r.method} ${r.path}`;
    const ok = r.method === 'POST' ? '202' : '200';
    (paths[r.path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      operationId: key.replace(/[^A-Za-z0-9]+/g, '_'),
      'x-sascope-role': r.role,
      parameters: parameters(r.query),
      responses: {
        [ok]: { description: 'OK', content: { 'application/json': { schema: responses[key] ?? { type: 'object' } } } },
        ...(r.query ? { '400': errorResponse('A query parameter is unknown or invalid (the message names it)') } : {}),
        '401': errorResponse('No valid token'),
        ...(r.role === 'operator' ? { '403': errorResponse('The token is a viewer token (operator needed), or the Origin is foreign') } : {}),
        ...(r.path === '/api/v1/crypto/probe' ? { '409': errorResponse('A probe is already running'), '503': errorResponse('The probe is not available here') } : {}),
        ...(r.path.startsWith('/api/v1/vici/') && r.method === 'POST' ? { '409': errorResponse('Another action on the same SA is still running'), '503': errorResponse('No vici source here') } : {}),
        ...(r.path === '/api/v1/pfkey/register' ? { '409': errorResponse('A REGISTER is already running, or PF_KEY is not open'), '503': errorResponse('Not available here') } : {}),
      },
    };
  }
  paths['/metrics'] = {
    get: {
      summary: 'Prometheus metrics (text exposition format); viewer token',
      operationId: 'GET_metrics',
      'x-sascope-role': 'viewer',
      description:
        'Per tunnel: bytes, packets, failures, rotations, seconds to expiry (label tunnel, bounded: the busiest metrics.maxTunnelSeries tunnels by name, the rest summed as tunnel="other"; never a label per SPI). Per wireguard peer (labels device, public_key): rx/tx bytes and the last handshake as a Unix time (0: none). Per source: state. Alarms by type and severity. History state.',
      responses: { '200': { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } }, '401': errorResponse('No valid token') },
    },
  };
  const health = (status: string) => ({ content: { 'application/json': { schema: { type: 'object', properties: { status: { const: status } }, required: ['status'] } } } });
  paths['/healthz'] = {
    get: {
      summary: 'For load balancers and systemd: no token, any Host; the status only',
      operationId: 'GET_healthz',
      security: [],
      responses: { '200': { description: 'Serving', ...health('ok') }, '503': { description: 'Starting', ...health('starting') } },
    },
  };
  paths['/login'] = {
    get: { summary: 'The sign-in form (HTML)', operationId: 'GET_login', security: [], responses: { '200': { description: 'HTML form', content: { 'text/html': { schema: { type: 'string' } } } } } },
    post: {
      summary: 'Sign in: the token as a form field; sets the HttpOnly SameSite=Strict cookie sascope_token and redirects to next',
      operationId: 'POST_login',
      security: [],
      requestBody: { content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', properties: { token: { type: 'string' }, next: { type: 'string', description: 'A local path' } }, required: ['token'] } } } },
      responses: { '303': { description: 'Signed in' }, '401': { description: 'The form again, with the error', content: { 'text/html': { schema: { type: 'string' } } } } },
    },
  };
  paths['/ws'] = {
    get: {
      summary: 'The live WebSocket (snapshot, sequenced deltas, resume, topics, heartbeats): see docs/websocket.md',
      operationId: 'GET_ws',
      parameters: [
        { name: 'since', in: 'query', required: false, schema: { type: 'integer', minimum: 0 }, description: 'Resume after this sequence number' },
        { name: 'topics', in: 'query', required: false, style: 'form', explode: false, schema: { type: 'array', items: { anyOf: [{ $ref: '#/components/schemas/EntityKind' }, { const: '*' }] } }, description: 'Comma-separated entity kinds to receive (default all)' },
        { name: 'parts', in: 'query', required: false, schema: { const: '1' }, description: 'A big snapshot comes in parts (snapshot-part messages) before any delta' },
      ],
      responses: { '101': { description: 'Switching protocols' }, '401': errorResponse('No valid token (refused before the upgrade)'), '403': errorResponse('Foreign Origin (refused before the upgrade)') },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'sascope',
      version: 'v1',
      description:
        "Live view of Linux security associations read from the kernel. JSON; errors are {error:{code,message}} with the HTTP status. 64-bit counters are decimal strings. Every request needs a token (viewer or operator): Authorization: Bearer <token>, or the cookie set by /login; a viewer token may be given once as ?token= in a page URL. Loopback needs none when sascope runs with open loopback access. The WebSocket protocol is in docs/websocket.md.",
    },
    security: [{ bearer: [] }, { cookie: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A token from tokens.json or the config file' },
        cookie: { type: 'apiKey', in: 'cookie', name: 'sascope_token', description: 'Set by POST /login' },
      },
      schemas: components,
    },
  };
}

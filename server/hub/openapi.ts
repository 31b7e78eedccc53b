// The API as an OpenAPI 3.1 document, served at /api/v1/openapi.json. Written by hand — descriptions and
// response shapes below — except the query parameters, which come from each route's zod schema so they
// cannot drift. test/unit/hub/openapi.test.ts checks that every route in ROUTES is documented here and
// nothing else is.
import { z } from 'zod';
import type { Route } from './routes.ts';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const arrayOf = (name: string) => ({ type: 'array', items: ref(name) });
const obj = (properties: Record<string, unknown>, required?: string[]) => ({ type: 'object', properties, ...(required ? { required } : {}) });
const u64 = { type: 'string', pattern: '^[0-9]+$', description: '64-bit counter as a decimal string' };
const ms = { type: 'integer', description: 'ms since epoch' };
const note = { type: 'string', description: 'Set when the data comes from memory only (history off or unavailable)' };

/** 200 response bodies by route path (GET unless the key says POST). */
const RESPONSES: Record<string, unknown> = {
  'GET /api/v1/health': obj({ ok: { type: 'boolean' }, seq: { type: 'integer' }, clients: { type: 'integer' } }, ['ok', 'seq', 'clients']),
  'GET /api/v1/snapshot': {
    type: 'object',
    description: 'Every entity kind under a plural name (sources, links, policies, sas, tunnels, rotations, alarms, ovpnDevices, ovpnPeers, pspDevices, events …), plus time, seq and server.',
    properties: { time: { type: 'string', format: 'date-time' }, seq: { type: 'integer' }, server: ref('Server'), sources: arrayOf('Source'), sas: arrayOf('Entity'), policies: arrayOf('Entity'), tunnels: arrayOf('Tunnel'), rotations: arrayOf('Rotation'), alarms: arrayOf('Alarm'), events: arrayOf('Event') },
    additionalProperties: true,
  },
  'GET /api/v1/sources': obj({ sources: arrayOf('Source') }, ['sources']),
  'GET /api/v1/links': obj({ links: arrayOf('Entity') }, ['links']),
  'GET /api/v1/devices': obj({ links: arrayOf('Entity'), ethtool: arrayOf('Entity'), offload: arrayOf('Entity') }),
  'GET /api/v1/sas': obj({ sas: { ...arrayOf('Entity'), description: 'XFRM SAs (server/wire/xfrm.ts SecurityAssociation); lifetime.current.bytes/packets are JSON numbers here' } }, ['sas']),
  'GET /api/v1/policies': obj({ policies: arrayOf('Entity') }, ['policies']),
  'GET /api/v1/xfrm-totals': obj({ totals: { oneOf: [ref('Entity'), { type: 'null' }] } }),
  'GET /api/v1/tunnels': obj({ tunnels: arrayOf('Tunnel') }, ['tunnels']),
  'GET /api/v1/rotations': obj({ rotations: arrayOf('Rotation'), truncated: { type: 'boolean' }, note }, ['rotations', 'truncated']),
  'GET /api/v1/events': obj({ events: arrayOf('Event'), truncated: { type: 'boolean' }, note }, ['events', 'truncated']),
  'GET /api/v1/alarms': obj({ active: arrayOf('Alarm'), history: { type: 'array', items: { allOf: [ref('Alarm'), obj({ clearedAt: ms })] } }, truncated: { type: 'boolean' }, note }, ['active', 'history']),
  'GET /api/v1/history': obj({
    available: { type: 'boolean' }, file: { type: 'string' }, problem: { type: 'string' }, retentionDays: { type: 'number' }, sampleSeconds: { type: 'integer' },
    sizeBytes: { type: 'integer' }, rows: { type: 'object', additionalProperties: { type: 'integer' } }, startedAt: ms, gaps: arrayOf('Gap'),
  }, ['available', 'gaps']),
  'GET /api/v1/history/samples': obj({
    samples: { type: 'array', items: obj({ time: ms, bytes: u64, packets: u64, integrityFailed: { type: 'integer' }, replayFailed: { type: 'integer' }, rotations: { type: 'integer' } }) },
    gaps: arrayOf('Gap'), truncated: { type: 'boolean' }, note,
  }, ['samples', 'gaps']),
  'GET /api/v1/ovpn': obj({ devices: arrayOf('Entity'), peers: arrayOf('Entity') }),
  'GET /api/v1/psp': obj({ devices: arrayOf('Entity') }),
  'GET /api/v1/pfkey': obj({ sas: arrayOf('Entity'), policies: arrayOf('Entity'), algorithms: arrayOf('Entity'), register: { type: ['object', 'null'] }, checks: arrayOf('Entity') }),
  'POST /api/v1/pfkey/register': obj({ register: ref('Entity') }),
  'GET /api/v1/crypto': obj({ info: { type: ['object', 'null'] }, uses: arrayOf('Entity'), probe: { type: ['object', 'null'] }, algorithms: arrayOf('Entity') }),
  'POST /api/v1/crypto/probe': obj({ probe: ref('Entity') }),
  'GET /api/v1/offload': obj({ info: { type: ['object', 'null'] }, devices: arrayOf('Entity') }),
  'GET /api/v1/ethtool': obj({ devices: arrayOf('Entity') }),
  'GET /api/v1/openapi.json': { type: 'object', description: 'This document' },
};

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ref('Error') } } });

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
        [ok]: { description: 'OK', content: { 'application/json': { schema: RESPONSES[key] ?? { type: 'object' } } } },
        ...(r.query ? { '400': errorResponse('A query parameter is unknown or invalid (the message names it)') } : {}),
        '401': errorResponse('No valid token'),
        ...(r.role === 'operator' ? { '403': errorResponse('The token is a viewer token (operator needed), or the Origin is foreign') } : {}),
        ...(r.path === '/api/v1/crypto/probe' ? { '409': errorResponse('A probe is already running'), '503': errorResponse('The probe is not available here') } : {}),
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
        'Per tunnel: bytes, packets, failures, rotations, seconds to expiry (label tunnel, bounded: the busiest metrics.maxTunnelSeries tunnels by name, the rest summed as tunnel="other"; never a label per SPI). Per source: state. Alarms by type and severity. History state.',
      responses: { '200': { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } }, '401': errorResponse('No valid token') },
    },
  };
  paths['/login'] = {
    get: { summary: 'The sign-in form (HTML)', operationId: 'GET_login', security: [], responses: { '200': { description: 'HTML form', content: { 'text/html': { schema: { type: 'string' } } } } } },
    post: {
      summary: 'Sign in: the token as a form field; sets the HttpOnly SameSite=Strict cookie sascope_token and redirects to next',
      operationId: 'POST_login',
      security: [],
      requestBody: { content: { 'application/x-www-form-urlencoded': { schema: obj({ token: { type: 'string' }, next: { type: 'string', description: 'A local path' } }, ['token']) } } },
      responses: { '303': { description: 'Signed in' }, '401': { description: 'The form again, with the error', content: { 'text/html': { schema: { type: 'string' } } } } },
    },
  };
  paths['/ws'] = {
    get: {
      summary: 'The live WebSocket (snapshot, sequenced deltas, resume, topics, heartbeats): see docs/websocket.md',
      operationId: 'GET_ws',
      parameters: [
        { name: 'since', in: 'query', required: false, schema: { type: 'integer', minimum: 0 }, description: 'Resume after this sequence number' },
        { name: 'topics', in: 'query', required: false, schema: { type: 'string' }, description: 'Comma-separated entity kinds to receive (default all)' },
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
      schemas: {
        Error: obj({ error: obj({ code: { type: 'string' }, message: { type: 'string' } }, ['code', 'message']) }, ['error']),
        Entity: { type: 'object', description: 'An entity in wire form (types in server/wire/*.ts)', additionalProperties: true },
        Server: obj({ version: { type: 'string' }, hostname: { type: 'string' }, netns: { type: 'string' } }),
        Source: obj({ id: { type: 'string' }, label: { type: 'string' }, state: { enum: ['starting', 'ok', 'stale', 'no-permission', 'not-available', 'error'] }, reason: { type: 'string' }, since: ms, lastData: ms, resyncs: { type: 'integer' }, decodeErrors: { type: 'integer' } }, ['id', 'state']),
        Event: obj({ id: { type: 'integer' }, historyId: { type: 'integer' }, time: ms, source: { type: 'string' }, type: { type: 'string' }, summary: { type: 'string' }, ref: { type: 'string' } }, ['time', 'source', 'type', 'summary']),
        Countdown: obj({
          softExpiresAt: ms, hardExpiresAt: ms, softBasis: { enum: ['add', 'use'] }, hardBasis: { enum: ['add', 'use'] }, useLimitPending: { type: 'boolean' },
          bytesToSoft: u64, bytesToHard: u64, packetsToSoft: u64, packetsToHard: u64, sequenceUsedPercent: { type: 'number' }, sequenceBits: { enum: [32, 64] },
        }),
        Tunnel: obj({
          key: { type: 'string' }, family: { enum: ['xfrm', 'ovpn'] }, name: { type: 'string' }, src: { type: 'string' }, dst: { type: 'string' }, proto: {}, reqid: { type: 'integer' }, mode: {},
          direction: { type: 'string' }, policies: { type: 'array', items: { type: 'string' } }, reverse: { type: 'string' }, state: { enum: ['up', 'rekeying', 'down'] },
          sas: { type: 'array', items: { type: 'string' } }, current: { type: 'object' }, keyId: { type: 'integer' }, firstSeen: ms, bytes: u64, packets: u64,
          integrityFailed: { type: 'integer' }, replayFailed: { type: 'integer' }, replayWindowFailed: { type: 'integer' }, rotations: { type: 'integer' }, lastRotation: ms,
          countdown: ref('Countdown'), alarms: { type: 'array', items: { type: 'string' } },
        }, ['key', 'family', 'name', 'state', 'bytes', 'packets', 'rotations']),
        Rotation: obj({
          key: { type: 'string' }, family: { enum: ['xfrm', 'ovpn', 'psp'] }, tunnel: { type: 'string' }, tunnelName: { type: 'string' }, time: ms,
          cause: { enum: ['soft-expire', 'daemon-rekey', 'hard-expire', 'manual', 'key-swap', 'new-key', 'key-rotate'] },
          oldSpi: { type: 'integer' }, newSpi: { type: 'integer' }, oldFingerprint: { type: 'string' }, newFingerprint: { type: 'string' }, oldKeyId: { type: 'integer' }, newKeyId: { type: 'integer' },
          state: { enum: ['overlapping', 'done', 'aborted'] }, overlapMs: { type: 'integer' }, oldGoneAt: ms,
        }, ['key', 'tunnel', 'time', 'cause', 'state']),
        Alarm: obj({
          key: { type: 'string' },
          type: { enum: ['expiring-soon', 'rekey-overdue', 'hard-expired', 'sequence-space', 'integrity-failures', 'replay-failures', 'offload-fallback', 'ovpn-key-swap-needed', 'peer-deleted', 'source-stale'] },
          severity: { enum: ['warning', 'critical'] }, ref: { type: 'string' }, summary: { type: 'string' }, since: ms, value: { type: 'number' }, threshold: { type: 'number' },
        }, ['key', 'type', 'severity', 'ref', 'since']),
        Gap: obj({ from: ms, to: ms, how: { enum: ['clean', 'crash'] } }, ['from', 'to', 'how']),
      },
    },
  };
}

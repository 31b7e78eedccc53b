// The /api/v1 route table: every route, its role, its query parameters (zod) and its handler, and the
// dispatch that answers a request from it. server/hub/openapi.ts documents each route (test/unit/hub/
// api.test.ts checks they match); server/hub/http.ts has the JSON answers and query parsing they use.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Hub } from './hub.ts';
import { cryptoView, friendlySa, friendlySnapshot, operatorAllowed, parseQuery, sendError, sendJson, type ActionStart, type ApiActions, type HostAction } from './http.ts';
import { principalOf } from './auth.ts';
import { openApiDocument } from './openapi.ts';
import type { Role } from '../config.ts';
import type { HistoryReader } from '../history/reader.ts';
import type { EntityKind, EntityKinds } from '../wire/protocol.ts';
import { ROTATION_FAMILIES, TUNNEL_FAMILIES, TUNNEL_STATES } from '../wire/tunnels.ts';
import { hostKey, hostOfKey, keyOnHost } from '../wire/fleet.ts';
import { HOST_NAME } from '../fleet/protocol.ts';
import type { ViciActionName, ViciActionTarget } from '../wire/vici.ts';

/** Reads of the history database (server/history/); absent when history is off or could not open. */
export interface ApiContext {
  hub: Hub;
  actions?: ApiActions;
  history?: HistoryReader;
}

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  /** Who may call it: viewer (read) or operator (act). */
  role: Role;
  summary: string;
  /** Query parameters; unknown ones are refused (400 naming them). `token` is always allowed (the wall). */
  query?: z.ZodObject;
  handle(ctx: ApiContext, q: Record<string, unknown>, req: IncomingMessage, res: ServerResponse): void;
}

/** A time: ms since epoch, or an ISO 8601 date-time. */
const Time = z.union([z.string().regex(/^\d{1,15}$/).transform(Number), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))]);
const Limit = (def: number, max: number) => z.coerce.number().int().min(1).max(max).default(def);
const Window = { since: Time.optional(), until: Time.optional() };
/** Every list takes ?host=: in the fleet console (serve --fleet) only that host's rows; a single-host serve's rows name no host. */
const ByHost = { host: z.string().regex(HOST_NAME, 'a host name (letters, digits, _ and -)').optional().describe("The fleet console: only this host's rows") };
export const HostQuery = z.object(ByHost).strict();

export const EventsQuery = z.object({ ...ByHost, ...Window, limit: Limit(200, 5000), source: z.string().max(64).optional(), type: z.string().max(64).optional(), ref: z.string().max(512).optional() }).strict();
export const RotationsQuery = z.object({ ...ByHost, ...Window, limit: Limit(200, 5000), tunnel: z.string().max(512).optional(), family: z.enum(ROTATION_FAMILIES).optional() }).strict();
export const AlarmsQuery = z.object({ ...ByHost, ...Window, limit: Limit(200, 5000), type: z.string().max(64).optional(), ref: z.string().max(512).optional() }).strict();
export const SamplesQuery = z.object({ ...ByHost, ...Window, limit: Limit(1000, 20000), tunnel: z.string().min(1).max(512).describe("The tunnel's key; on a fleet console '<host>/<key>', or the host's own key with ?host=") }).strict();
export const SasQuery = z.object({ ...ByHost, tunnel: z.string().max(512).optional() }).strict();
export const TunnelsQuery = z.object({ ...ByHost, family: z.enum(TUNNEL_FAMILIES).optional(), state: z.enum(TUNNEL_STATES).optional() }).strict();

/** A kind's rows, of one host when the query names one. */
const rows = <K extends EntityKind>(ctx: ApiContext, kind: K, q: Record<string, unknown>): Array<EntityKinds[K]> => {
  const all = ctx.hub.list(kind);
  return typeof q['host'] === 'string' ? all.filter((r) => r.host === q['host']) : all;
};

/**
 * An operator action's handler: 202 with its state row under `field`, 409 with the refusal, 503 when not
 * wired. With ?host= (the fleet console) the action goes to that host and the answer is its agent's.
 */
/** An action's answer: 202 with its state row under `field`, or 409 with the refusal in words. */
function sendStart(res: ServerResponse, field: string, refused: string, r: ActionStart): void {
  if (r.started) sendJson(res, 202, { [field]: r.row });
  else sendError(res, 409, refused, r.message);
}

function actionHandler(what: string, field: string, refused: string, action: (q: Record<string, unknown>) => HostAction, start: (a: ApiActions, q: Record<string, unknown>, by: string) => ActionStart | undefined): Route['handle'] {
  return (ctx, q, req, res) => {
    req.resume(); // the body, if any, is not used
    const send = (r: ActionStart) => sendStart(res, field, refused, r);
    const host = q['host'];
    const by = principalOf(req)?.name ?? 'operator';
    if (typeof host !== 'string') {
      const started = ctx.actions && start(ctx.actions, q, by);
      return started ? send(started) : sendError(res, 503, 'unavailable', `${what} is not wired in this server`);
    }
    if (!ctx.actions?.onHost) return sendError(res, 400, 'bad-parameter', "parameter 'host': this server is not a fleet console (serve --fleet); it acts on its own kernel");
    ctx.actions.onHost(host, action(q), by).then(send, (err: unknown) => sendError(res, 500, 'internal', `${what} on ${host}: ${String(err)}`));
  };
}
/** charon's unique id of an IKE or CHILD SA. */
const SaId = z.coerce.number().int().min(1).max(0xffffffff);
const ConnName = z.string().min(1).max(256);
export const ViciInitiateQuery = z.object({ ...ByHost, conn: ConnName.describe('The connection to initiate'), child: ConnName.optional().describe('Only this child of it') }).strict();
/** Exactly one SA: an IKE SA (with its children) or one CHILD SA. */
export const ViciSaQuery = z
  .object({ ...ByHost, 'ike-id': SaId.optional().describe("An IKE SA's unique id (vici-ike key)"), 'child-id': SaId.optional().describe("A CHILD SA's unique id (vici-child key)") })
  .strict()
  .refine((q) => (q['ike-id'] === undefined) !== (q['child-id'] === undefined), { message: "name exactly one of 'ike-id' and 'child-id'", path: ['ike-id'] });
export const ViciActionsQuery = z.object({ ...Window, limit: Limit(200, 5000) }).strict();

/** An operator action on charon: 202 with its row (running), 409 with the refusal, 503 without a vici source; ?host= on a fleet console: that host's agent's. */
function viciHandler(action: ViciActionName, target: (q: Record<string, unknown>) => ViciActionTarget): Route['handle'] {
  return actionHandler(`${action} over VICI`, 'action', 'action-running', (q) => ({ vici: action, target: target(q) }), (a, q, by) => a.vici?.(action, target(q), by));
}
const saTarget = (q: Record<string, unknown>): ViciActionTarget => (q['ike-id'] !== undefined ? { ikeId: q['ike-id'] as number } : { childId: q['child-id'] as number });

const noHistory = 'history is off or unavailable (see source "history"): these are the newest in memory only';

export const ROUTES: Route[] = [
  { method: 'GET', path: '/api/v1/health', role: 'viewer', summary: 'Liveness: sequence number and connected WebSocket clients', handle: (ctx, _q, _r, res) => sendJson(res, 200, { ok: true, seq: ctx.hub.currentSeq, clients: ctx.hub.clientCount }) },
  { method: 'GET', path: '/api/v1/snapshot', role: 'viewer', summary: 'Everything the model holds, by plural name', query: HostQuery, handle: (ctx, q, _r, res) => sendJson(res, 200, friendlySnapshot(ctx.hub, q['host'] as string | undefined)) },
  { method: 'GET', path: '/api/v1/whoami', role: 'viewer', summary: "The caller's token name and role (the console shows operator actions to operators)", handle: (_ctx, _q, req, res) => sendJson(res, 200, { name: principalOf(req)?.name ?? 'operator', role: operatorAllowed(req) ? 'operator' : 'viewer' }) },
  { method: 'GET', path: '/api/v1/sources', role: 'viewer', summary: 'Kernel sources (and history) with their state', query: HostQuery, handle: (ctx, q, _r, res) => sendJson(res, 200, { sources: rows(ctx, 'source', q) }) },
  { method: 'GET', path: '/api/v1/links', role: 'viewer', summary: 'Network devices (rtnetlink)', query: HostQuery, handle: (ctx, q, _r, res) => sendJson(res, 200, { links: rows(ctx, 'link', q) }) },
  {
    method: 'GET', path: '/api/v1/devices', role: 'viewer', summary: 'Network devices with their ethtool features and offload capabilities', query: HostQuery,
    handle: (ctx, q, _r, res) => sendJson(res, 200, { links: rows(ctx, 'link', q), ethtool: rows(ctx, 'ethtool-dev', q), offload: rows(ctx, 'offload-dev', q) }),
  },
  {
    method: 'GET', path: '/api/v1/sas', role: 'viewer', summary: 'XFRM security associations (optionally of one tunnel)', query: SasQuery,
    handle: (ctx, q, _r, res) => {
      let sas = rows(ctx, 'sa', q);
      if (typeof q['tunnel'] === 'string') {
        const t = ctx.hub.model.get('tunnel', q['tunnel']) as EntityKinds['tunnel'] | undefined;
        const keys = new Set(t?.sas.map((k) => keyOnHost(t, k)) ?? []);
        sas = sas.filter((s) => keys.has(s.key));
      }
      sendJson(res, 200, { sas: sas.map(friendlySa) });
    },
  },
  { method: 'GET', path: '/api/v1/policies', role: 'viewer', summary: 'XFRM policies', query: HostQuery, handle: (ctx, q, _r, res) => sendJson(res, 200, { policies: rows(ctx, 'policy', q) }) },
  { method: 'GET', path: '/api/v1/xfrm-totals', role: 'viewer', summary: 'SAD/SPD sizes and /proc/net/xfrm_stat', query: HostQuery, handle: (ctx, q, _r, res) => sendJson(res, 200, { totals: rows(ctx, 'xfrm-totals', q)[0] ?? null }) },
  {
    method: 'GET', path: '/api/v1/tunnels', role: 'viewer', summary: 'Tunnels: SAs grouped across rekeys, with continuous counters, countdowns and alarms', query: TunnelsQuery,
    handle: (ctx, q, _r, res) => sendJson(res, 200, { tunnels: rows(ctx, 'tunnel', q).filter((t) => (!q['family'] || t.family === q['family']) && (!q['state'] || t.state === q['state'])) }),
  },
  {
    method: 'GET', path: '/api/v1/rotations', role: 'viewer', summary: 'Rotations (rekeys), newest first, from history', query: RotationsQuery,
    handle: (ctx, q, _r, res) => {
      const query = q as z.infer<typeof RotationsQuery>;
      if (ctx.history?.available && !query.host) return sendJson(res, 200, ctx.history.rotations(query));
      const all = rows(ctx, 'rotation', q).filter((r) => (!query.tunnel || keyOnHost(r, r.tunnel) === query.tunnel) && (!query.family || r.family === query.family) && inWindow(r.time, query));
      sendJson(res, 200, { rotations: newest(all, (r) => r.time, query.limit), truncated: all.length > query.limit, note: noHistory });
    },
  },
  {
    method: 'GET', path: '/api/v1/events', role: 'viewer', summary: 'Kernel and sascope events, newest first, from history', query: EventsQuery,
    handle: (ctx, q, _r, res) => {
      const query = q as z.infer<typeof EventsQuery>;
      if (ctx.history?.available && !query.host) return sendJson(res, 200, ctx.history.events(query));
      const all = rows(ctx, 'event', q).filter((e) => (!query.source || e.source === query.source) && (!query.type || e.type === query.type) && (!query.ref || e.ref === query.ref) && inWindow(e.time, query));
      sendJson(res, 200, { events: newest(all, (e) => e.time, query.limit), truncated: all.length > query.limit, note: noHistory });
    },
  },
  {
    method: 'GET', path: '/api/v1/alarms', role: 'viewer', summary: 'Alarms raised now, and raised/cleared alarms from history', query: AlarmsQuery,
    handle: (ctx, q, _r, res) => {
      const query = q as z.infer<typeof AlarmsQuery>;
      const active = rows(ctx, 'alarm', q).filter((a) => (!query.type || a.type === query.type) && (!query.ref || a.ref === query.ref));
      if (ctx.history?.available && !query.host) return sendJson(res, 200, { active, ...ctx.history.alarms(query) });
      sendJson(res, 200, { active, history: [], truncated: false, note: noHistory });
    },
  },
  {
    method: 'GET', path: '/api/v1/history', role: 'viewer', summary: "The history database's state and the gaps when sascope was not running",
    handle: (ctx, _q, _r, res) => sendJson(res, 200, ctx.history ? ctx.history.info() : { available: false, gaps: [], note: 'history is off' }),
  },
  {
    method: 'GET', path: '/api/v1/history/samples', role: 'viewer', summary: 'Downsampled counter samples of one tunnel, oldest first (with the gaps)', query: SamplesQuery,
    handle: (ctx, q, _r, res) => {
      const query = q as z.infer<typeof SamplesQuery>;
      if (!ctx.history?.available) return sendJson(res, 200, { samples: [], gaps: [], truncated: false, note: noHistory });
      const tunnel = query.host && hostOfKey(query.tunnel) === undefined ? hostKey(query.host, query.tunnel) : query.tunnel;
      sendJson(res, 200, ctx.history.samples({ ...query, tunnel }));
    },
  },
  { method: 'GET', path: '/api/v1/ovpn', role: 'viewer', summary: 'OpenVPN data-channel offload devices and peers', query: HostQuery, handle: (ctx, q, _r, res) => sendJson(res, 200, { devices: rows(ctx, 'ovpn-dev', q), peers: rows(ctx, 'ovpn-peer', q) }) },
  { method: 'GET', path: '/api/v1/psp', role: 'viewer', summary: 'PSP devices', query: HostQuery, handle: (ctx, q, _r, res) => sendJson(res, 200, { devices: rows(ctx, 'psp-dev', q) }) },
  { method: 'GET', path: '/api/v1/wireguard', role: 'viewer', summary: 'WireGuard devices and peers (public keys only)', query: HostQuery, handle: (ctx, q, _r, res) => sendJson(res, 200, { devices: rows(ctx, 'wg-dev', q), peers: rows(ctx, 'wg-peer', q) }) },
  {
    method: 'GET', path: '/api/v1/pfkey', role: 'viewer', summary: 'The PF_KEY view: SAs, policies, algorithms and the cross-check with XFRM', query: HostQuery,
    handle: (ctx, q, _r, res) => sendJson(res, 200, { sas: rows(ctx, 'pfkey-sa', q), policies: rows(ctx, 'pfkey-policy', q), algorithms: rows(ctx, 'pfkey-alg', q), register: rows(ctx, 'pfkey-register', q)[0] ?? null, checks: rows(ctx, 'pfkey-check', q) }),
  },
  {
    method: 'POST', path: '/api/v1/pfkey/register', role: 'operator', summary: 'Send SADB_REGISTER: the algorithms PF_KEY advertises (operator; XFRM changes wait while the kernel probes)',
    query: HostQuery,
    handle: actionHandler('PF_KEY REGISTER', 'register', 'register-refused', () => 'pfkey-register', (a) => a.startPfkeyRegister()),
  },
  { method: 'GET', path: '/api/v1/crypto', role: 'viewer', summary: 'Kernel crypto: algorithms in use and their drivers, the AF_ALG probe, /proc/crypto', query: HostQuery, handle: (ctx, q, _r, res) => sendJson(res, 200, cryptoView(ctx.hub, q['host'] as string | undefined)) },
  {
    method: 'POST', path: '/api/v1/crypto/probe', role: 'operator', summary: 'Start the AF_ALG probe (operator)',
    query: HostQuery,
    handle: actionHandler('the crypto probe', 'probe', 'probe-running', () => 'crypto-probe', (a) => a.startCryptoProbe()),
  },
  {
    method: 'GET', path: '/api/v1/offload', role: 'viewer', summary: 'XFRM offload: what the devices can do', query: HostQuery,
    handle: (ctx, q, _r, res) => sendJson(res, 200, { info: rows(ctx, 'offload-info', q)[0] ?? null, devices: rows(ctx, 'offload-dev', q) }),
  },
  { method: 'GET', path: '/api/v1/ethtool', role: 'viewer', summary: 'ethtool features of each device', query: HostQuery, handle: (ctx, q, _r, res) => sendJson(res, 200, { devices: rows(ctx, 'ethtool-dev', q) }) },
  {
    method: 'GET', path: '/api/v1/vici', role: 'viewer', summary: "strongSwan over VICI: configured connections, IKE SAs and CHILD SAs", query: HostQuery,
    handle: (ctx, q, _r, res) => sendJson(res, 200, { connections: rows(ctx, 'vici-conn', q), ikeSas: rows(ctx, 'vici-ike', q), childSas: rows(ctx, 'vici-child', q) }),
  },
  {
    method: 'GET', path: '/api/v1/vici/actions', role: 'viewer', summary: 'Operator actions on charon (the audit list), newest first, from history', query: ViciActionsQuery,
    handle: (ctx, q, _r, res) => {
      const query = q as z.infer<typeof ViciActionsQuery>;
      if (ctx.history?.available) return sendJson(res, 200, ctx.history.viciActions(query));
      const all = ctx.hub.list('vici-action').filter((a) => inWindow(a.startedAt, query));
      sendJson(res, 200, { actions: newest(all, (a) => a.startedAt, query.limit), truncated: all.length > query.limit, note: noHistory });
    },
  },
  { method: 'POST', path: '/api/v1/vici/initiate', role: 'operator', summary: 'Initiate a connection, or one child of it (operator; charon\'s log lines recorded)', query: ViciInitiateQuery, handle: viciHandler('initiate', (q) => ({ conn: q['conn'] as string, ...(q['child'] ? { child: q['child'] as string } : {}) })) },
  { method: 'POST', path: '/api/v1/vici/terminate', role: 'operator', summary: 'Terminate an IKE SA (with its children) or one CHILD SA (operator)', query: ViciSaQuery, handle: viciHandler('terminate', saTarget) },
  { method: 'POST', path: '/api/v1/vici/rekey', role: 'operator', summary: 'Rekey an IKE SA or one CHILD SA (operator)', query: ViciSaQuery, handle: viciHandler('rekey', saTarget) },
  { method: 'GET', path: '/api/v1/hosts', role: 'viewer', summary: 'The fleet console (serve --fleet): its hosts, how each is heard from (empty in a single-host serve)', query: HostQuery, handle: (ctx, q, _r, res) => sendJson(res, 200, { hosts: rows(ctx, 'host', q) }) },
  { method: 'GET', path: '/api/v1/openapi.json', role: 'viewer', summary: 'This API as an OpenAPI 3.1 document', handle: (_ctx, _q, _r, res) => sendJson(res, 200, openApiDocument(ROUTES)) },
];

function inWindow(t: number, q: { since?: number; until?: number }): boolean {
  return (q.since === undefined || t >= q.since) && (q.until === undefined || t <= q.until);
}

function newest<T>(items: T[], time: (x: T) => number, limit: number): T[] {
  return [...items].sort((a, b) => time(b) - time(a)).slice(0, limit);
}

/** Returns true when the request was an API request (answered), false to pass it on to Next. */
export function handleApi(hub: Hub, req: IncomingMessage, res: ServerResponse, actions?: ApiActions, history?: HistoryReader): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (!url.pathname.startsWith('/api/')) return false;
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  const onPath = ROUTES.filter((r) => r.path === url.pathname);
  if (onPath.length === 0) {
    sendError(res, 404, 'not-found', `no API route ${url.pathname} (see /api/v1/openapi.json)`);
    return true;
  }
  const route = onPath.find((r) => r.method === method);
  if (!route) {
    sendError(res, 405, 'method-not-allowed', `${req.method} is not allowed on ${url.pathname}`, { allow: onPath.map((r) => r.method).join(', ') });
    return true;
  }
  if (route.role === 'operator' && !operatorAllowed(req)) {
    sendError(res, 403, 'forbidden', `${route.method} ${route.path} needs the operator role`);
    return true;
  }
  const q = parseQuery(route.query, url.searchParams);
  if (!q.ok) {
    sendError(res, 400, 'bad-parameter', q.message);
    return true;
  }
  route.handle({ hub, actions, history }, q.value, req, res);
  return true;
}

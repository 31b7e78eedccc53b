// The custom server's own HTTP answers (before Next's handler): JSON, the friendly forms and query parsing
// that the /api/v1 routes (server/hub/routes.ts) use.
// Next route handlers cannot see this process's memory, so the browser reads through these and the socket.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Hub } from './hub.ts';
import { principalOf } from './auth.ts';
import { cryptoDocument, snapshotDocument, type RowsOf } from '../model/snapshot.ts';
import type { Snapshot } from '../wire/protocol.ts';
import type { ViciActionName, ViciActionTarget } from '../wire/vici.ts';

export { friendlySa } from '../model/snapshot.ts';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(s), ...headers });
  res.end(s);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { code, message } }, headers);
}

/**
 * Headers of every answer, set before any handler so Next's pages carry them too: nosniff; no framing,
 * except /wall by the origins in the config's wallFrameAncestors; no-store, which no handler can change
 * (Next marks pre-rendered pages s-maxage=31536000: a shared cache would keep a page seen behind the
 * sign-in), except Next's content-hashed build assets (code, the same for everyone, no data).
 */
export function setResponseHeaders(res: ServerResponse, pathname: string, wallFrameAncestors: readonly string[]): void {
  res.setHeader('x-content-type-options', 'nosniff');
  if (pathname === '/wall' && wallFrameAncestors.length > 0) res.setHeader('content-security-policy', `frame-ancestors ${wallFrameAncestors.join(' ')}`);
  else {
    res.setHeader('content-security-policy', "frame-ancestors 'none'");
    res.setHeader('x-frame-options', 'DENY');
  }
  if (pathname.startsWith('/_next/static/')) return;
  res.setHeader('cache-control', 'no-store');
  const set = res.setHeader.bind(res);
  res.setHeader = (name, value) => set(name, name.toLowerCase() === 'cache-control' ? 'no-store' : value);
}

/** /healthz, for load balancers and systemd: no token, any Host, the status only (no counts, no names). */
export function sendHealthz(req: IncomingMessage, res: ServerResponse, serving: boolean): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'method-not-allowed', `${req.method} is not allowed on /healthz`, { allow: 'GET, HEAD' });
  sendJson(res, serving ? 200 : 503, { status: serving ? 'ok' : 'starting' });
}

/** A snapshot's rows by kind, of one host when `host` is given (the fleet console's ?host=). */
function rowsOf(s: Snapshot, host: string | undefined): RowsOf {
  return (kind) => (host === undefined ? s.entities[kind] : (s.entities[kind] as Array<{ host?: string }>).filter((r) => r.host === host));
}

/** The snapshot as people and scripts read it: plural names at the top level (server/model/snapshot.ts). */
export function friendlySnapshot(hub: Hub, host?: string): Record<string, unknown> {
  const s = hub.snapshot();
  return snapshotDocument(rowsOf(s, host), s);
}

/** The crypto panel's data: header facts, algorithms in use with their drivers, the probe, /proc/crypto. */
export function cryptoView(hub: Hub, host?: string): Record<string, unknown> {
  return cryptoDocument(rowsOf(hub.snapshot(), host));
}

/** An action started (its state row as it stands), or refused with the reason. */
export type ActionStart = { started: true; row: unknown } | { started: false; message: string };

/** Operations the API can start (wired by server/main.ts; the hub layer does not import the families). */
export interface ApiActions {
  /** Start the AF_ALG probe: the probe row as it stands, or busy with the reason when one already runs. */
  startCryptoProbe(): ActionStart;
  /** Send SADB_REGISTER (the kernel probes every algorithm, holding the XFRM config mutex meanwhile). */
  startPfkeyRegister(): ActionStart;
  /** An operator action on charon over VICI (absent without a vici source); `by` is the operator's token name. */
  vici?(action: ViciActionName, target: ViciActionTarget, by: string): ActionStart;
  /** The fleet console: an action on one of its hosts (`?host=`), asked of its agent; `by` is the operator's token name. */
  onHost?(host: string, action: HostAction, by: string): Promise<ActionStart>;
}

/** The actions a fleet console can ask of a host (HostCommand in server/fleet/protocol.ts): one on charon names its target. */
export type HostAction = 'crypto-probe' | 'pfkey-register' | { vici: ViciActionName; target: ViciActionTarget };

/**
 * The operator-role check for state-changing requests (server/hub/auth.ts's gate recorded who asked).
 * A request the gate did not see (unit tests calling handleApi directly) counts as an operator.
 */
export function operatorAllowed(req: IncomingMessage): boolean {
  const who = principalOf(req);
  return who === undefined || who.role === 'operator';
}

/** Validate a query string: 400 naming the parameter, or the parsed values. */
export function parseQuery(schema: z.ZodObject | undefined, params: URLSearchParams): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
  const raw: Record<string, string> = {};
  for (const [k, v] of params) {
    if (k === 'token') continue;
    if (k in raw) return { ok: false, message: `parameter '${k}' is given twice` };
    raw[k] = v;
  }
  if (!schema) {
    const extra = Object.keys(raw)[0];
    return extra === undefined ? { ok: true, value: {} } : { ok: false, message: `unknown parameter '${extra}' (this route takes none)` };
  }
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data as Record<string, unknown> };
  const issue = r.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') return { ok: false, message: `unknown parameter '${issue.keys[0]}'; this route takes ${Object.keys(schema.shape).join(', ')}` };
  const name = String(issue.path[0] ?? '?');
  return { ok: false, message: `parameter '${name}': ${issue.message}${name === 'since' || name === 'until' ? ' (ms since epoch or ISO 8601 date-time)' : ''}` };
}

// The custom server's own HTTP answers (before Next's handler): JSON, the friendly forms and query parsing
// that the /api/v1 routes (server/hub/routes.ts) use.
// Next route handlers cannot see this process's memory, so the browser reads through these and the socket.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Hub } from './hub.ts';
import { principalOf } from './auth.ts';
import type { EntityKinds } from '../wire/protocol.ts';

/**
 * An SA as the snapshot JSON shows it: like the wire form, except lifetime.current.bytes and .packets are
 * JSON numbers (scripts compare them with iproute2's). They are exact up to 2^53 (8 PiB, 9e15 packets); past
 * that the number is the nearest double. Every other 64-bit value stays a decimal string, as on the wire.
 */
export function friendlySa(sa: EntityKinds['sa']): unknown {
  const cur = sa.lifetime.current;
  return { ...sa, lifetime: { ...sa.lifetime, current: { ...cur, bytes: Number(cur.bytes), packets: Number(cur.packets) } } };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(s), ...headers });
  res.end(s);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { code, message } }, headers);
}

/** The snapshot as people and scripts read it: plural names at the top level. */
export function friendlySnapshot(hub: Hub): Record<string, unknown> {
  const s = hub.snapshot();
  return {
    time: new Date(s.time).toISOString(),
    seq: s.seq,
    server: s.server,
    sources: s.entities.source,
    links: s.entities.link,
    policies: s.entities.policy,
    sas: s.entities.sa.map(friendlySa),
    xfrmTotals: s.entities['xfrm-totals'][0] ?? null,
    ovpnDevices: s.entities['ovpn-dev'],
    ovpnPeers: s.entities['ovpn-peer'],
    pspDevices: s.entities['psp-dev'],
    pfkey: { sas: s.entities['pfkey-sa'], policies: s.entities['pfkey-policy'], algorithms: s.entities['pfkey-alg'], register: s.entities['pfkey-register'][0] ?? null, checks: s.entities['pfkey-check'] },
    ethtoolDevices: s.entities['ethtool-dev'],
    offloadDevices: s.entities['offload-dev'],
    offload: s.entities['offload-info'][0] ?? null,
    crypto: cryptoView(hub),
    tunnels: s.entities.tunnel,
    rotations: s.entities.rotation,
    alarms: s.entities.alarm,
    events: s.entities.event,
  };
}

/** The crypto panel's data: header facts, algorithms in use with their drivers, the probe, /proc/crypto. */
export function cryptoView(hub: Hub): Record<string, unknown> {
  const e = hub.snapshot().entities;
  return { info: e['crypto-info'][0] ?? null, uses: e['crypto-use'], probe: e['crypto-probe'][0] ?? null, algorithms: e['crypto-alg'] };
}

/** An action started (its state row as it stands), or refused with the reason. */
export type ActionStart = { started: true; row: unknown } | { started: false; message: string };

/** Operations the API can start (wired by server/main.ts; the hub layer does not import the families). */
export interface ApiActions {
  /** Start the AF_ALG probe: the probe row as it stands, or busy with the reason when one already runs. */
  startCryptoProbe(): ActionStart;
  /** Send SADB_REGISTER (the kernel probes every algorithm, holding the XFRM config mutex meanwhile). */
  startPfkeyRegister(): ActionStart;
}

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

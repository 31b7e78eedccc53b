// The custom server's own HTTP routes (before Next's handler): JSON, versioned under /api/v1.
// Next route handlers cannot see this process's memory, so the browser reads through these and the socket.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hub } from './hub.ts';
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

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
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
    ethtoolDevices: s.entities['ethtool-dev'],
    offloadDevices: s.entities['offload-dev'],
    offload: s.entities['offload-info'][0] ?? null,
    crypto: cryptoView(hub),
    events: s.entities.event,
  };
}

/** The crypto panel's data: header facts, algorithms in use with their drivers, the probe, /proc/crypto. */
export function cryptoView(hub: Hub): Record<string, unknown> {
  const e = hub.snapshot().entities;
  return { info: e['crypto-info'][0] ?? null, uses: e['crypto-use'], probe: e['crypto-probe'][0] ?? null, algorithms: e['crypto-alg'] };
}

/** Operations the API can start (wired by server/main.ts; the hub layer does not import the families). */
export interface ApiActions {
  /** Start the AF_ALG probe: the probe row as it stands, or busy with the reason when one already runs. */
  startCryptoProbe(): { started: true; probe: unknown } | { started: false; message: string };
}

/**
 * ACCESS HOOK (issue: access control): the operator-role check for state-changing requests goes here.
 * Until that issue lands every caller is allowed; keep every POST route behind this function.
 */
export function operatorAllowed(_req: IncomingMessage): boolean {
  return true;
}

function handlePost(req: IncomingMessage, res: ServerResponse, path: string, actions: ApiActions | undefined): boolean {
  if (path !== '/api/v1/crypto/probe') {
    sendError(res, 405, 'method-not-allowed', `${req.method} is not allowed on ${path}`);
    return true;
  }
  if (!operatorAllowed(req)) {
    sendError(res, 403, 'forbidden', 'starting a crypto probe needs the operator role');
    return true;
  }
  if (!actions) {
    sendError(res, 503, 'unavailable', 'the crypto probe is not wired in this server');
    return true;
  }
  req.resume(); // the body, if any, is not used
  const r = actions.startCryptoProbe();
  if (r.started) sendJson(res, 202, { probe: r.probe });
  else sendError(res, 409, 'probe-running', r.message);
  return true;
}

/** Returns true when the request was an API request (answered), false to pass it on to Next. */
export function handleApi(hub: Hub, req: IncomingMessage, res: ServerResponse, actions?: ApiActions): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (!url.pathname.startsWith('/api/')) return false;
  if (req.method === 'POST') return handlePost(req, res, url.pathname, actions);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendError(res, 405, 'method-not-allowed', `${req.method} is not allowed on ${url.pathname}`);
    return true;
  }
  const snap = () => friendlySnapshot(hub);
  switch (url.pathname) {
    case '/api/v1/snapshot':
      sendJson(res, 200, snap());
      return true;
    case '/api/v1/sources':
      sendJson(res, 200, { sources: hub.snapshot().entities.source });
      return true;
    case '/api/v1/links':
      sendJson(res, 200, { links: hub.snapshot().entities.link });
      return true;
    case '/api/v1/sas':
      sendJson(res, 200, { sas: hub.snapshot().entities.sa.map(friendlySa) });
      return true;
    case '/api/v1/xfrm-totals':
      sendJson(res, 200, { totals: hub.snapshot().entities['xfrm-totals'][0] ?? null });
      return true;
    case '/api/v1/policies':
      sendJson(res, 200, { policies: hub.snapshot().entities.policy });
      return true;
    case '/api/v1/ovpn': {
      const e = hub.snapshot().entities;
      sendJson(res, 200, { devices: e['ovpn-dev'], peers: e['ovpn-peer'] });
      return true;
    }
    case '/api/v1/psp':
      sendJson(res, 200, { devices: hub.snapshot().entities['psp-dev'] });
      return true;
    case '/api/v1/crypto':
      sendJson(res, 200, cryptoView(hub));
      return true;
    case '/api/v1/offload': {
      const e = hub.snapshot().entities;
      sendJson(res, 200, { info: e['offload-info'][0] ?? null, devices: e['offload-dev'] });
      return true;
    }
    case '/api/v1/ethtool':
      sendJson(res, 200, { devices: hub.snapshot().entities['ethtool-dev'] });
      return true;
    case '/api/v1/health':
      sendJson(res, 200, { ok: true, seq: hub.currentSeq, clients: hub.clientCount });
      return true;
    default:
      sendError(res, 404, 'not-found', `no API route ${url.pathname}`);
      return true;
  }
}

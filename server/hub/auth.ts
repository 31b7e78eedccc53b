// Access: who may read (viewer) and who may act (operator). Every HTTP request and WebSocket upgrade
// carries a token — `Authorization: Bearer <token>`, or the HttpOnly cookie the login page sets — except
// from loopback when the operator configured open loopback access. A viewer token may also come once in
// a page URL (?token=…, for the wall): it is exchanged for the cookie and stripped by a redirect.
// Tokens are looked up by their SHA-256 (no early-exit string compare on the secret) and never logged:
// requests are logged by redactedUrl() and token names only.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Role, TokenEntry } from '../config.ts';

export const COOKIE = 'sascope_token';

export interface Principal {
  /** The token's name, or "loopback" under open loopback access. */
  name: string;
  role: Role;
  via: 'header' | 'cookie' | 'query' | 'loopback';
}

export interface AuthOptions {
  tokens: TokenEntry[];
  openLoopback: boolean;
  /** Origins besides the request's own host that may open the WebSocket or POST. */
  allowedOrigins: string[];
  /** Cookies get the Secure attribute. */
  tls: boolean;
}

export type AuthResult = { ok: true; principal: Principal } | { ok: false; status: 401 | 403; code: string; message: string };

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64');

export function isLoopback(addr: string | undefined): boolean {
  if (!addr) return false;
  if (addr === '::1') return true;
  const v4 = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    try {
      out.set(k, decodeURIComponent(v));
    } catch {
      out.set(k, v);
    }
  }
  return out;
}

/** The request URL with token parameters replaced: what request logging may show. */
export function redactedUrl(url: string | undefined): string {
  return (url ?? '/').replace(/([?&](?:token|access_token)=)[^&#]*/gi, '$1[redacted]');
}

export class Auth {
  private readonly byHash = new Map<string, TokenEntry>();
  private readonly origins: Set<string>;

  constructor(private readonly opts: AuthOptions) {
    for (const t of opts.tokens) this.byHash.set(sha256(t.token), t);
    this.origins = new Set(opts.allowedOrigins.map((o) => new URL(o).origin));
  }

  get openLoopback(): boolean {
    return this.opts.openLoopback;
  }

  get tokenCount(): number {
    return this.byHash.size;
  }

  lookup(token: string | undefined): TokenEntry | undefined {
    return token ? this.byHash.get(sha256(token)) : undefined;
  }

  /** Who is asking: header, then cookie, then (viewer tokens only) the URL; loopback when open. */
  identify(req: IncomingMessage, url: URL): AuthResult {
    const h = req.headers.authorization;
    if (h !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
      const t = m ? this.lookup(m[1]) : undefined;
      if (!t) return { ok: false, status: 401, code: 'bad-token', message: 'the Authorization header does not carry a valid Bearer token' };
      return { ok: true, principal: { name: t.name, role: t.role, via: 'header' } };
    }
    const c = parseCookies(req.headers.cookie).get(COOKIE);
    const fromCookie = this.lookup(c);
    if (fromCookie) return { ok: true, principal: { name: fromCookie.name, role: fromCookie.role, via: 'cookie' } };
    const q = url.searchParams.get('token');
    if (q !== null) {
      const t = this.lookup(q);
      if (t?.role === 'viewer') return { ok: true, principal: { name: t.name, role: 'viewer', via: 'query' } };
      if (t) return { ok: false, status: 401, code: 'token-in-url', message: 'only viewer tokens are accepted in a URL; sign in on /login or send an Authorization header' };
      return { ok: false, status: 401, code: 'bad-token', message: 'the token in the URL is not valid' };
    }
    if (this.opts.openLoopback && isLoopback(req.socket.remoteAddress)) return { ok: true, principal: { name: 'loopback', role: 'operator', via: 'loopback' } };
    if (c !== undefined) return { ok: false, status: 401, code: 'bad-token', message: 'the session cookie is not valid (tokens changed?); sign in again on /login' };
    return { ok: false, status: 401, code: 'no-token', message: 'a token is needed: Authorization: Bearer <token>, or sign in on /login' };
  }

  /**
   * Whether the request's Origin (when a browser sent one) is the server itself or an allowed origin.
   * Non-browser clients send no Origin; their token is what counts.
   */
  originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    let o: URL;
    try {
      o = new URL(origin);
    } catch {
      return false;
    }
    if (this.origins.has(o.origin)) return true;
    const host = req.headers.host;
    const scheme = this.opts.tls ? 'https:' : 'http:';
    return host !== undefined && o.host === host.toLowerCase() && o.protocol === scheme;
  }

  /** Set-Cookie value for a signed-in browser: HttpOnly, SameSite=Strict, Secure under TLS, 30 days. */
  cookie(token: string): string {
    return `${COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${30 * 86400}${this.opts.tls ? '; Secure' : ''}`;
  }

  clearCookie(): string {
    return `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${this.opts.tls ? '; Secure' : ''}`;
  }
}

/** Refuse a WebSocket upgrade with a plain HTTP answer before any handshake. */
export function refuseUpgrade(socket: Duplex, status: 401 | 403, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  const reason = status === 401 ? 'Unauthorized' : 'Forbidden';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

// ---- the login page: a self-contained HTML form served by the custom server (no Next assets needed
// before sign-in). POST /login takes the token as a form field, sets the cookie and redirects.

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A local path to return to after sign-in (never another host: "//x" and "/\x" are refused). */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  return next;
}

export function loginPage(opts: { next?: string; error?: string }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>sascope — sign in</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;background:#0b0f14;color:#d8dee9;display:grid;place-items:center;min-height:100vh;margin:0}
form{background:#131a22;padding:2rem;border-radius:8px;min-width:22rem;box-shadow:0 2px 12px #0008}
h1{font-size:1.2rem;margin:0 0 1rem}label{display:block;margin-bottom:.4rem}
input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #3b4252;border-radius:4px;background:#0b0f14;color:inherit;font-family:monospace}
button{margin-top:1rem;padding:.5rem 1.2rem;border:0;border-radius:4px;background:#5e81ac;color:#fff;cursor:pointer}
p.err{color:#bf616a}p.hint{color:#81a1c1;font-size:.85rem}
</style></head><body>
<form method="post" action="/login" data-testid="login-form">
<h1>sascope</h1>
${opts.error ? `<p class="err" role="alert">${esc(opts.error)}</p>` : ''}
<label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="${esc(safeNext(opts.next))}">
<button type="submit">Sign in</button>
<p class="hint">The tokens are in tokens.json in sascope's data directory (or its config file).</p>
</form></body></html>`;
}

export function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(html), ...headers });
  res.end(html);
}

/** Read a small url-encoded form body (the login form); larger bodies are refused. */
export function readForm(req: IncomingMessage, limit = 4096): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > limit) {
        reject(new Error('form too large'));
        req.destroy();
        return;
      }
      chunks.push(d);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

// ---- the gate in front of every HTTP request

const principals = new WeakMap<IncomingMessage, Principal>();

/** Who the gate let in for this request (undefined when the gate was not run, e.g. in unit tests). */
export function principalOf(req: IncomingMessage): Principal | undefined {
  return principals.get(req);
}

const wantsHtml = (req: IncomingMessage, url: URL) =>
  !url.pathname.startsWith('/api/') && url.pathname !== '/metrics' && (req.method === 'GET' || req.method === 'HEAD') && /text\/html/.test(req.headers.accept ?? '');

function sendJsonError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  const s = JSON.stringify({ error: { code, message } });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(s), ...headers });
  res.end(s);
}

/**
 * Let the request through (returns who it is) or answer it (returns undefined): the login page and
 * form, sign-out, the wall's ?token= exchange, 401 without a valid token (the login page for a browser
 * asking for a page, JSON otherwise), 403 for a cross-origin state change.
 */
export async function gate(auth: Auth, req: IncomingMessage, res: ServerResponse, url: URL): Promise<Principal | undefined> {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD' && !auth.originAllowed(req)) {
    sendJsonError(res, 403, 'bad-origin', `requests from origin ${req.headers.origin} are not allowed`);
    return undefined;
  }
  if (url.pathname === '/login') {
    if (method === 'GET' || method === 'HEAD') {
      sendHtml(res, 200, loginPage({ next: url.searchParams.get('next') ?? undefined }));
      return undefined;
    }
    if (method !== 'POST') {
      sendJsonError(res, 405, 'method-not-allowed', `${method} is not allowed on /login`);
      return undefined;
    }
    let form: URLSearchParams;
    try {
      form = await readForm(req);
    } catch {
      sendJsonError(res, 413, 'too-large', 'the login form is limited to 4 KiB');
      return undefined;
    }
    const token = form.get('token')?.trim() ?? '';
    const next = safeNext(form.get('next'));
    const t = auth.lookup(token);
    if (!t) {
      sendHtml(res, 401, loginPage({ next, error: 'That token is not valid.' }));
      return undefined;
    }
    res.writeHead(303, { location: next, 'set-cookie': auth.cookie(token), 'cache-control': 'no-store', 'content-length': 0 });
    res.end();
    return undefined;
  }
  if (url.pathname === '/logout' && method === 'POST') {
    res.writeHead(303, { location: '/login', 'set-cookie': auth.clearCookie(), 'cache-control': 'no-store', 'content-length': 0 });
    res.end();
    return undefined;
  }
  const who = auth.identify(req, url);
  if (!who.ok) {
    if (wantsHtml(req, url)) sendHtml(res, 401, loginPage({ next: url.searchParams.has('token') ? url.pathname : `${url.pathname}${url.search}`, error: who.code === 'no-token' ? undefined : who.message }));
    else sendJsonError(res, who.status, who.code, who.message, { 'www-authenticate': 'Bearer realm="sascope"' });
    return undefined;
  }
  if (who.principal.via === 'query' && !url.pathname.startsWith('/api/') && (method === 'GET' || method === 'HEAD')) {
    // The wall's URL token: once into the cookie, then the same page without it (no token in history/bookmarks).
    const token = url.searchParams.get('token')!;
    url.searchParams.delete('token');
    res.writeHead(303, { location: `${url.pathname}${url.search}`, 'set-cookie': auth.cookie(token), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'content-length': 0 });
    res.end();
    return undefined;
  }
  principals.set(req, who.principal);
  return who.principal;
}

/** Check a WebSocket upgrade: a foreign Origin is 403, no valid token 401 (both before the handshake). */
export function gateUpgrade(auth: Auth, req: IncomingMessage, socket: Duplex, url: URL): Principal | undefined {
  if (!auth.originAllowed(req)) {
    refuseUpgrade(socket, 403, 'bad-origin', `WebSocket connections from origin ${req.headers.origin} are not allowed`);
    return undefined;
  }
  const who = auth.identify(req, url);
  if (!who.ok) {
    refuseUpgrade(socket, who.status, who.code, who.message);
    return undefined;
  }
  principals.set(req, who.principal);
  return who.principal;
}

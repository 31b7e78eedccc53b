// Access: who may read (viewer) and who may act (operator). Every HTTP request and WebSocket upgrade
// carries a token — `Authorization: Bearer <token>`, or the HttpOnly cookie the login page sets — except
// from loopback when the operator configured open loopback access. A viewer token may also come once in
// a page URL (?token=…, for the wall): it is exchanged for the cookie and stripped by a redirect.
// Tokens are looked up by their SHA-256 (no early-exit string compare on the secret) and never logged:
// requests are logged by redactedUrl() and token names only. Wrong tokens slow their address down.
//
// Open loopback trusts the connection's address, which a browser can be talked into: a page on a name the
// attacker resolves to 127.0.0.1 (DNS rebinding) is same-origin with its own name, and a reverse proxy on
// this host connects from loopback for everyone behind it. So loopback access also needs a Host naming
// this machine, a browser's Origin naming this server, and no forwarding headers. Tokens need none of
// this: a rebinding page has no token.
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
  /** The address the server listens on (--listen): a Host naming it is this machine under open loopback. */
  listenHost?: string;
  /** Test seam: the clock of the wrong-token backoff. */
  now?: () => number;
}

export type AuthResult = { ok: true; principal: Principal } | { ok: false; status: 401 | 403 | 429; code: string; message: string; retryAfterMs?: number };

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

const TOKEN_PARAMS = new Set(['token', 'access_token']);

/**
 * The request URL with token parameters replaced: what request logging may show. A parameter's name is
 * decoded as URLSearchParams decodes it (`?%74oken=` is the token to the server, so it is redacted too).
 */
export function redactedUrl(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  if (q < 0) return u;
  const params = u.slice(q + 1).split('&').map((p) => {
    const name = new URLSearchParams(p).keys().next().value ?? '';
    return TOKEN_PARAMS.has(name.toLowerCase()) ? `${p.split('=')[0]}=[redacted]` : p;
  });
  return `${u.slice(0, q + 1)}${params.join('&')}`;
}

/** The host name of a Host header ("[::1]:7300" → "[::1]", lower case), or undefined when it is not host[:port]. */
export function hostName(host: string): string | undefined {
  if (!/^(?:\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/i.test(host)) return undefined;
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return undefined;
  }
}

/** Names that reach only this machine whatever DNS says (RFC 6761 localhost, 127.0.0.0/8, ::1). */
const loopbackName = (h: string) => h === 'localhost' || h.endsWith('.localhost') || h === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);

/** Headers a reverse proxy adds: the client is someone else, wherever the connection comes from. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'];

/**
 * Wrong tokens per client address: the first FREE_WRONG are free, then each one makes the address wait
 * 1 s, 2 s, 4 s … (at most 60 s) before any token from it is looked at again (a right token too, or the
 * answer would tell a guess apart). Forgotten 15 minutes after the last wrong one; bounded in addresses.
 */
export class WrongTokenBackoff {
  static readonly FREE_WRONG = 10;
  private static readonly MAX_WAIT_MS = 60_000;
  private static readonly FORGET_MS = 15 * 60_000;
  private static readonly MAX_ADDRESSES = 10_000;
  private readonly byAddress = new Map<string, { wrong: number; last: number; until: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** How long the address must still wait (0: its token may be looked at). */
  waitMs(address: string): number {
    const e = this.byAddress.get(address);
    return e ? Math.max(0, e.until - this.now()) : 0;
  }

  wrong(address: string): void {
    const t = this.now();
    const old = this.byAddress.get(address);
    const e = old && t - old.last < WrongTokenBackoff.FORGET_MS ? old : { wrong: 0, last: t, until: 0 };
    e.wrong++;
    e.last = t;
    if (e.wrong > WrongTokenBackoff.FREE_WRONG) e.until = t + Math.min(WrongTokenBackoff.MAX_WAIT_MS, 1000 * 2 ** (e.wrong - WrongTokenBackoff.FREE_WRONG - 1));
    // Re-inserted, so the map runs from the least recently wrong address: that one goes first when full.
    this.byAddress.delete(address);
    this.byAddress.set(address, e);
    if (this.byAddress.size > WrongTokenBackoff.MAX_ADDRESSES) this.byAddress.delete(this.byAddress.keys().next().value!);
  }
}

export class Auth {
  private readonly byHash = new Map<string, TokenEntry>();
  private readonly origins: Set<string>;
  /** Host names besides loopback's that name this machine under open loopback: the listen address, the allowed origins' hosts. */
  private readonly localNames: Set<string>;
  private readonly backoff: WrongTokenBackoff;

  constructor(private readonly opts: AuthOptions) {
    for (const t of opts.tokens) this.byHash.set(sha256(t.token), t);
    this.origins = new Set(opts.allowedOrigins.map((o) => new URL(o).origin));
    const listen = opts.listenHost === undefined ? undefined : hostName(opts.listenHost.includes(':') && !opts.listenHost.startsWith('[') ? `[${opts.listenHost}]` : opts.listenHost);
    this.localNames = new Set([...opts.allowedOrigins.map((o) => new URL(o).hostname), ...(listen ? [listen] : [])]);
    this.backoff = new WrongTokenBackoff(opts.now);
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

  /** A 429 while the request's address waits after wrong tokens, else undefined. */
  backoffOf(req: IncomingMessage): (AuthResult & { ok: false; retryAfterMs: number }) | undefined {
    const ms = this.backoff.waitMs(req.socket.remoteAddress ?? '');
    if (ms === 0) return undefined;
    return { ok: false, status: 429, code: 'too-many-wrong-tokens', message: `too many wrong tokens from this address: try again in ${Math.ceil(ms / 1000)} s`, retryAfterMs: ms };
  }

  /** Count a wrong token against the request's address. */
  wrongToken(req: IncomingMessage): void {
    this.backoff.wrong(req.socket.remoteAddress ?? '');
  }

  /** Who is asking: header, then cookie, then (viewer tokens only) the URL; loopback when open. */
  identify(req: IncomingMessage, url: URL): AuthResult {
    const h = req.headers.authorization;
    const c = parseCookies(req.headers.cookie).get(COOKIE);
    const q = url.searchParams.get('token');
    if (h !== undefined || c !== undefined || q !== null) {
      const waiting = this.backoffOf(req);
      if (waiting) return waiting;
    }
    const wrong = (message: string): AuthResult => {
      this.wrongToken(req);
      return { ok: false, status: 401, code: 'bad-token', message };
    };
    if (h !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
      const t = m ? this.lookup(m[1]) : undefined;
      if (!t) return wrong('the Authorization header does not carry a valid Bearer token');
      return { ok: true, principal: { name: t.name, role: t.role, via: 'header' } };
    }
    const fromCookie = this.lookup(c);
    if (fromCookie) return { ok: true, principal: { name: fromCookie.name, role: fromCookie.role, via: 'cookie' } };
    if (q !== null) {
      const t = this.lookup(q);
      if (t?.role === 'viewer') return { ok: true, principal: { name: t.name, role: 'viewer', via: 'query' } };
      if (t) return { ok: false, status: 401, code: 'token-in-url', message: 'only viewer tokens are accepted in a URL; sign in on /login or send an Authorization header' };
      return wrong('the token in the URL is not valid');
    }
    if (this.opts.openLoopback && isLoopback(req.socket.remoteAddress)) return this.loopbackAccess(req);
    if (c !== undefined) return wrong('the session cookie is not valid (tokens changed?); sign in again on /login');
    return { ok: false, status: 401, code: 'no-token', message: 'a token is needed: Authorization: Bearer <token>, or sign in on /login' };
  }

  /** Open loopback access for a request from a loopback address, unless it is a proxied client or a browser on a foreign name. */
  private loopbackAccess(req: IncomingMessage): AuthResult {
    const proxied = FORWARDING_HEADERS.find((name) => req.headers[name] !== undefined);
    if (proxied) return { ok: false, status: 401, code: 'proxied', message: `the request came through a proxy (${proxied} header): open loopback access is for clients on this machine only; a token is needed` };
    const host = req.headers.host;
    const name = host === undefined ? undefined : hostName(host);
    if (host !== undefined && !(name !== undefined && (loopbackName(name) || this.localNames.has(name)))) {
      return { ok: false, status: 401, code: 'foreign-host', message: `open loopback access needs a Host naming this machine (localhost, 127.0.0.1, [::1], the listen address or a host of allowedOrigins), not '${host}'; a token is needed` };
    }
    if (!this.originAllowed(req)) return { ok: false, status: 403, code: 'bad-origin', message: `requests from origin ${req.headers.origin} are not allowed` };
    return { ok: true, principal: { name: 'loopback', role: 'operator', via: 'loopback' } };
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

const REASONS = { 401: 'Unauthorized', 403: 'Forbidden', 429: 'Too Many Requests' };

/** Refuse a WebSocket upgrade with a plain HTTP answer before any handshake. */
export function refuseUpgrade(socket: Duplex, status: 401 | 403 | 429, code: string, message: string, retryAfterMs?: number): void {
  const body = JSON.stringify({ error: { code, message } });
  const retry = retryAfterMs === undefined ? '' : `Retry-After: ${Math.ceil(retryAfterMs / 1000)}\r\n`;
  socket.end(`HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${retry}Connection: close\r\n\r\n${body}`);
}

// ---- the login page: a self-contained HTML form served by the custom server (no Next assets needed
// before sign-in). POST /login takes the token as a form field, sets the cookie and redirects.

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const SELF = 'http://sascope.invalid';

/**
 * A path on this server to redirect to (after sign-in, after the URL token exchange), or "/". Read as a
 * browser reads a Location: tabs and newlines dropped, "\" as "/", dot segments resolved, so
 * "/\t/evil.example", "/\evil.example" and "/.//evil.example" cannot name another host; what comes out
 * is the parsed path (percent-encoded) with one leading slash.
 */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith('/')) return '/';
  let u: URL;
  try {
    u = new URL(next, SELF);
  } catch {
    return '/';
  }
  if (u.origin !== SELF) return '/';
  return `${u.pathname.replace(/^\/+/, '/')}${u.search}${u.hash}`;
}

// The icon is inline: a browser's own request for /favicon.ico before sign-in would get 401, a console error.
export function loginPage(opts: { next?: string; error?: string }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>sascope — sign in</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 viewBox=%220 0 32 32%22%3E%3Crect width=%2232%22 height=%2232%22 rx=%226%22 fill=%22%230f172a%22/%3E%3Cpath d=%22M9 14v-3a7 7 0 0 1 14 0v3%22 stroke=%22%2334d399%22 stroke-width=%223%22 fill=%22none%22/%3E%3Crect x=%227%22 y=%2214%22 width=%2218%22 height=%2212%22 rx=%222%22 fill=%22%2334d399%22/%3E%3C/svg%3E">
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

const retryAfter = (ms: number | undefined): Record<string, string> => (ms === undefined ? {} : { 'retry-after': String(Math.ceil(ms / 1000)) });

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
    const waiting = auth.backoffOf(req);
    if (waiting) {
      sendHtml(res, 429, loginPage({ next, error: waiting.message }), retryAfter(waiting.retryAfterMs));
      return undefined;
    }
    const t = auth.lookup(token);
    if (!t) {
      auth.wrongToken(req);
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
    const headers = { ...retryAfter(who.retryAfterMs), ...(who.status === 401 ? { 'www-authenticate': 'Bearer realm="sascope"' } : {}) };
    if (wantsHtml(req, url)) sendHtml(res, who.status, loginPage({ next: url.searchParams.has('token') ? url.pathname : `${url.pathname}${url.search}`, error: who.code === 'no-token' ? undefined : who.message }), retryAfter(who.retryAfterMs));
    else sendJsonError(res, who.status, who.code, who.message, headers);
    return undefined;
  }
  if (url.searchParams.has('token') && !url.pathname.startsWith('/api/') && (method === 'GET' || method === 'HEAD')) {
    // The wall's URL token: once into the cookie, then the same page without it (no token in history or
    // bookmarks) — also when a cookie already let the request in, which then stays as it is.
    const token = url.searchParams.get('token')!;
    url.searchParams.delete('token');
    const cookie: Record<string, string> = who.principal.via === 'query' ? { 'set-cookie': auth.cookie(token) } : {};
    res.writeHead(303, { location: safeNext(`${url.pathname}${url.search}`), ...cookie, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'content-length': 0 });
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
    refuseUpgrade(socket, who.status, who.code, who.message, who.retryAfterMs);
    return undefined;
  }
  principals.set(req, who.principal);
  return who.principal;
}

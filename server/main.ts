// Wires the process: kernel sources → model → hub (HTTP + WebSocket) → Next.js handler, on one port.
import type { Duplex } from 'node:stream';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { hostname } from 'node:os';
import { Model } from './model/model.ts';
import { Hub } from './hub/hub.ts';
import { sendError, sendHealthz, setResponseHeaders } from './hub/http.ts';
import { handleApi } from './hub/routes.ts';
import type { ApiActions } from './hub/http.ts';
import type { Source } from './families/source.ts';
import { ConfigSchema, DEFAULT_DATA_DIR, resolveServeConfig, type Config, type ServeConfig } from './config.ts';
import { kernelActions, startKernelSources, type KernelSources } from './kernel.ts';
import { projectRoot, version } from './version.ts';
import { Auth, gate, gateUpgrade, principalOf, redactedUrl } from './hub/auth.ts';
import type { TunnelTracker } from './model/tunnels.ts';
import { History } from './history/history.ts';
import { Metrics } from './hub/metrics.ts';
import type { Logger } from './log.ts';
import { announceSignIn, localOrigin } from './sign-in.ts';
import { FleetConsole } from './fleet/console.ts';
import { NatsLink, natsConnectionOptions, type NatsSettings } from './fleet/nats.ts';

export { projectRoot, version };

export interface Kernel {
  model: Model;
  hub: Hub;
  sources: Source[];
  /** What the HTTP API may start (the AF_ALG probe, PF_KEY's REGISTER). */
  actions: ApiActions;
  /** Tunnels, rotations, countdowns and alarms derived from the model (absent in the fleet console: its agents derive them). */
  tunnels?: TunnelTracker;
  /** The SQLite history (serve only; undefined when off). */
  history?: History;
  metrics: Metrics;
  /** Resolves when every source has done its first dump or settled on a failure state. */
  ready: Promise<void>;
  stop(): void;
}

export interface KernelOptions {
  /** Watch this network namespace (/run/netns/NAME) instead of our own: kernel sockets are opened in it (server/sys/netns.ts). Throws NetnsError. */
  netns?: string;
  /** Where the key fingerprint secret is kept (default /var/lib/sascope). */
  dataDir?: string;
  /** The config file's settings (alarm thresholds, history, metrics); defaults when absent. */
  config?: Config;
  /** Keep history in dataDir (serve; `snapshot` does not). */
  history?: boolean;
  /** Log event-loop stalls over 500 ms (serve; a one-shot `snapshot` blocks by design). */
  stallWarnings?: boolean;
}

export function startKernel(log: Logger, opts: KernelOptions = {}): Kernel {
  const model = new Model();
  const config = opts.config ?? ConfigSchema.parse({});
  const hub = new Hub(model, { version, hostname: hostname(), netns: opts.netns ?? 'self', ...config.websocket }, log);
  // Derived kinds (tunnel, rotation, alarm) listen after the hub, so each raw delta goes out before what it causes.
  const history = opts.history && config.history.enabled
    ? new History(model, log, { dataDir: opts.dataDir ?? DEFAULT_DATA_DIR, retentionDays: config.history.retentionDays, sampleSeconds: config.history.sampleSeconds, flushMs: config.history.flushMs, version })
    : undefined;
  let k: KernelSources;
  try {
    k = startKernelSources(log, {
      netns: opts.netns,
      dataDir: opts.dataDir,
      config,
      stallWarnings: opts.stallWarnings,
      model,
      tunnelHooks: {
        onRotation: (r) => history?.rotation(r),
        alarms: { raised: (a) => history?.alarmRaised(a), cleared: (a, at) => history?.alarmCleared(a, at) },
      },
      beforeStart: (tunnels) => {
        if (!history) return;
        tunnels.restore(history.open());
        history.trackStateFrom(() => tunnels.exportState());
      },
    });
  } catch (err) {
    hub.close(); // --netns named no namespace: nothing started
    throw err;
  }
  const metrics = new Metrics(model, { maxTunnelSeries: config.metrics.maxTunnelSeries, history });
  const actions = kernelActions(k, log);
  return {
    model,
    hub,
    sources: k.sources,
    actions,
    tunnels: k.tunnels,
    history,
    metrics,
    ready: k.ready,
    stop() {
      k.stop();
      history?.close();
      hub.close();
    },
  };
}

/**
 * `serve --fleet`: the console. No kernel sources of its own — it shows the fleet, every host its agents
 * publish to NATS, in one model the hub serves (server/fleet/console.ts, docs/fleet.md).
 */
export function startFleetConsole(log: Logger, opts: { config: Config; nats: NatsSettings; dataDir?: string }): Kernel {
  const model = new Model();
  const hub = new Hub(model, { version, hostname: hostname(), netns: 'self', fleet: true, ...opts.config.websocket }, log);
  // Its own record of what its hosts send (docs/fleet.md "Where a remote host's history comes from").
  const h = opts.config.history;
  const history = h.enabled ? new History(model, log, { dataDir: opts.dataDir ?? DEFAULT_DATA_DIR, retentionDays: h.retentionDays, sampleSeconds: h.sampleSeconds, flushMs: h.flushMs, version, fleet: true }) : undefined;
  history?.open();
  const fleet = new FleetConsole(model, log, { settings: opts.config.fleet });
  const link = new NatsLink(model, opts.nats, log, { connected: (nc) => fleet.attach(nc) });
  link.start();
  const refused = { started: false as const, message: 'the fleet console reads no kernel of its own: name the host (?host=<name>)' };
  return {
    model,
    hub,
    sources: [],
    actions: { startCryptoProbe: () => refused, startPfkeyRegister: () => refused, onHost: (host, action, by) => fleet.command(host, action, by) },
    history,
    metrics: new Metrics(model, { maxTunnelSeries: opts.config.metrics.maxTunnelSeries, fleet: true, history }),
    ready: Promise.resolve(),
    stop() {
      fleet.stop();
      void link.stop();
      history?.close();
      hub.close();
    },
  };
}

export interface ServeOptions {
  host: string;
  port: number;
  dev: boolean;
  /** --no-ui: serve /api/v1, /ws and /metrics without the Next.js pages (no start-up cost for the UI). */
  noUi?: boolean;
  netns?: string;
  dataDir?: string;
  /** --config: the config file (default <data-dir>/config.json when present). */
  configPath?: string;
  /** --open-loopback: loopback requests need no token. */
  openLoopback?: boolean;
  /** --max-clients: WebSocket clients at most. */
  maxClients?: number;
  tlsCert?: string;
  tlsKey?: string;
  /** --fleet URL (and the --nats-* credentials): serve as the fleet console instead of reading this host's kernel. */
  fleet?: NatsSettings;
}

/** Start the dashboard. Rejects with a one-line reason when the port cannot be had. */
export async function serve(log: Logger, opts: ServeOptions): Promise<{ server: Server; kernel: Kernel; config: ServeConfig; close(): Promise<void> }> {
  const dataDir = opts.dataDir ?? DEFAULT_DATA_DIR;
  // Config and tokens first: a bad file stops start-up (ConfigError) before any socket opens.
  const config = resolveServeConfig({ dataDir, configPath: opts.configPath, openLoopback: opts.openLoopback, maxClients: opts.maxClients, tlsCert: opts.tlsCert, tlsKey: opts.tlsKey });
  if (config.configNote) log.warn(config.configNote);
  if (opts.fleet) natsConnectionOptions(opts.fleet); // a bad URL or an unreadable credentials file: NatsSettingsError before any socket opens
  if (config.tokens.created) log.info({ file: config.tokens.created }, `created an operator and a viewer access token in ${config.tokens.created} (mode 0600)`);
  if (config.tokens.problem) log.warn(`${config.tokens.problem}: no access tokens; only open loopback access works`);
  if (config.openLoopback) log.warn('open loopback access: requests from 127.0.0.0/8 and ::1 need no token');
  const auth = new Auth({ tokens: config.tokens.tokens, openLoopback: config.openLoopback, allowedOrigins: config.config.allowedOrigins, tls: config.tls !== undefined, listenHost: opts.host });
  // The listening socket stays in sascope's own network namespace: with --netns only kernel sockets are
  // opened in the watched one (server/sys/netns.ts), so the dashboard is reachable where it was started.
  // Requests before the kernel and pages are ready get a 503.
  let kernel: Kernel | undefined;
  let handle: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
  let nextUpgrade: ((req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>) | undefined;

  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const t0 = performance.now();
    // Request log: method, path with token parameters redacted, status, the token's name — never headers or cookies.
    res.once('finish', () => log.debug({ method: req.method, url: redactedUrl(req.url), status: res.statusCode, ms: Math.round(performance.now() - t0), who: principalOf(req)?.name }, 'http'));
    setResponseHeaders(res, url.pathname, config.config.wallFrameAncestors);
    if (url.pathname === '/healthz') return sendHealthz(req, res, kernel !== undefined && handle !== undefined);
    if (!kernel || !handle) return sendError(res, 503, 'starting', 'sascope is starting; try again in a moment');
    if (!(await gate(auth, req, res, url))) return;
    try {
      if (url.pathname === '/metrics') return void kernel.metrics.handle(req, res);
      if (handleApi(kernel.hub, req, res, kernel.actions, kernel.history)) return;
      void handle(req, res).catch((err: unknown) => {
        log.error({ err: String(err) }, 'next handler failed');
        if (!res.headersSent) sendError(res, 500, 'internal', 'page rendering failed');
      });
    } catch (err) {
      log.error({ err: String(err) }, 'request failed');
      if (!res.headersSent) sendError(res, 500, 'internal', 'request failed');
    }
  };
  const handler = (req: IncomingMessage, res: ServerResponse) =>
    void onRequest(req, res).catch((err: unknown) => {
      log.error({ err: String(err) }, 'request failed');
      if (!res.headersSent) sendError(res, 500, 'internal', 'request failed');
    });
  const server: Server = config.tls ? createHttpsServer({ cert: config.tls.cert, key: config.tls.key }, handler) : createServer(handler);
  // Idle keep-alive connections live longer than Node's 5 s, so a client (a dashboard polling the API, a
  // proxy) does not reuse one the server is just closing; headersTimeout must exceed it.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    // Origin (403) and token (401) are checked before the handshake.
    if (!kernel) return void socket.destroy();
    if (!gateUpgrade(auth, req, socket, url)) return;
    if (p === '/ws') return kernel.hub.handleUpgrade(req, socket, head);
    if (nextUpgrade) return void nextUpgrade(req, socket, head);
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new Error(`cannot listen on ${opts.host}:${opts.port}: address already in use`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new Error(`cannot listen on ${opts.host}:${opts.port}: no such local address`));
      else if (err.code === 'EACCES') reject(new Error(`cannot listen on ${opts.host}:${opts.port}: permission denied`));
      else reject(new Error(`cannot listen on ${opts.host}:${opts.port}: ${err.message}`));
    });
    server.listen(opts.port, opts.host, () => resolve());
  });
  try {
    kernel = opts.fleet
      ? startFleetConsole(log, { config: config.config, nats: opts.fleet, dataDir })
      : startKernel(log, { netns: opts.netns, dataDir, config: config.config, history: true, stallWarnings: true });
  } catch (err) {
    server.close();
    throw err;
  }
  if (opts.noUi) {
    // Headless: /api/v1, /ws and /metrics only; pages answer 404 with a hint.
    handle = async (_req, res) => sendError(res, 404, 'no-ui', 'sascope runs with --no-ui: only /api/v1, /ws and /metrics are served');
  } else {
    const { default: next } = await import('next');
    const app = next({ dev: opts.dev, dir: projectRoot, hostname: opts.host, port: opts.port, quiet: !opts.dev });
    await app.prepare();
    nextUpgrade = opts.dev ? app.getUpgradeHandler() : undefined;
    handle = app.getRequestHandler();
  }
  announceSignIn(log, config, localOrigin(opts.host, opts.port, config.tls !== undefined));
  const started = kernel;
  return {
    server,
    kernel: started,
    config,
    close: () =>
      new Promise<void>((resolve) => {
        started.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

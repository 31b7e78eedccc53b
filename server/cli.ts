// The `sascope` command: serve the dashboard, or print one snapshot of every source.
import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import { lineLogger, type Logger } from './log-line.ts';
import { version } from './version.ts';
import { errorWords } from './sys/errno.ts';

const HELP = `sascope — live dashboard for Linux security associations, read from the kernel itself

Usage:
  sascope serve [--listen HOST:PORT] [--dev | --no-ui] [--netns NAME] [--data-dir DIR] [--config FILE]
                [--open-loopback] [--tls-cert FILE --tls-key FILE] [--max-clients N]
                [--fleet URL [NATS credentials as for agent]]
      Serve the dashboard (Next.js pages, /api/v1, WebSocket /ws) on one port.
      Default --listen 127.0.0.1:7300 (loopback only). With --fleet: the fleet console — every host
      whose agent publishes to that NATS server, and no kernel of its own (docs/fleet.md).
  sascope snapshot [--json] [--pretty] [--netns NAME] [--data-dir DIR]
      Read every source once and print it (--json: one JSON document on stdout, compact unless
      --pretty), then exit. Exit 0 on success; on failure one line on stderr and a non-zero exit.
  sascope agent --nats URL --host NAME [--netns NAME] [--data-dir DIR] [--config FILE]
                [--nats-user USER --nats-password PASSWORD | --nats-creds FILE | --nats-nkey FILE]
                [--nats-tls-ca FILE] [--nats-tls-cert FILE --nats-tls-key FILE]
      Publish this host's sources to NATS JetStream for a fleet console (docs/fleet.md): the same
      kernel sources and model as serve, no HTTP listener. Runs until SIGTERM/SIGINT.
  sascope --help | --version

Options:
  --listen HOST:PORT   address to bind (IPv6 as [::1]:7300)
  --dev                Next.js in development mode (hot reload)
  --no-ui              serve only /api/v1, /ws and /metrics (no pages; starts in about a second)
  --json               machine-readable output for snapshot
  --pretty             indent the JSON (two spaces a level)
  --netns NAME         watch the network namespace NAME (/run/netns/NAME, as made by 'ip netns add')
                       instead of sascope's own; entered before any socket opens
  --data-dir DIR       where sascope keeps its state (the key fingerprint secret, mode 0600);
                       default /var/lib/sascope. Unwritable: fingerprints change across restarts
  --config FILE        the config file (JSON; see docs/config.md). Default DIR/config.json when it
                       exists. A bad file stops start-up with its path and the offending key (exit 2)
  --open-loopback      requests from 127.0.0.0/8 and ::1 need no token (config: "openLoopback": true)
  --tls-cert FILE      serve HTTPS with this certificate (PEM) and --tls-key FILE (PEM)
  --tls-key FILE
  --max-clients N      WebSocket clients at most (default 1000; config: "websocket": {"maxClients": N});
                       more are refused with 503
  --log-level LEVEL    trace|debug|info|warn|error (default info; env SASCOPE_LOG_LEVEL)

Fleet options (agent, serve --fleet; the NATS connection opens where sascope was started):
  --nats URL           NATS server(s): nats://HOST:PORT or tls://HOST:PORT, comma-separated
  --host NAME          this host's name in the fleet: 1-63 of A-Z a-z 0-9 _ - (no dots)
  --fleet URL          serve as the fleet console, reading NATS server(s) URL (the --nats-* below apply)
  --nats-user USER     user and password (a password on the command line is visible in ps:
  --nats-password PW   prefer --nats-creds or --nats-nkey)
  --nats-creds FILE    a creds file (JWT and nkey seed)
  --nats-nkey FILE     a file holding an nkey seed (SU…)
  --nats-tls-ca FILE   CA certificate (PEM) that signed the NATS server's certificate
  --nats-tls-cert FILE TLS client certificate (PEM) and its key --nats-tls-key FILE (PEM)
  --nats-tls-key FILE

Access: every request needs a token (Authorization: Bearer <token>, or sign in on /login; a viewer
token may be given once as ?token= in a page URL). On first start sascope creates an operator and a
viewer token in DIR/tokens.json (mode 0600) unless the config file lists tokens.

Needs CAP_NET_ADMIN for XFRM; without it those sources say "no permission" and the rest works.`;

export class UsageError extends Error {}

/** The NATS connection an agent (--nats) or the console (--fleet) makes, from the --nats-* options. */
function natsSettings(url: string, identity: string, v: Partial<Record<'nats-user' | 'nats-password' | 'nats-creds' | 'nats-nkey' | 'nats-tls-ca' | 'nats-tls-cert' | 'nats-tls-key', string>>) {
  return {
    url, identity, user: v['nats-user'], password: v['nats-password'], credsFile: v['nats-creds'], nkeyFile: v['nats-nkey'],
    tlsCa: v['nats-tls-ca'], tlsCert: v['nats-tls-cert'], tlsKey: v['nats-tls-key'],
  };
}

export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) throw new UsageError(`bad --listen '${s}': expected HOST:PORT with PORT 1-65535, e.g. 127.0.0.1:7300 or [::1]:7300`);
  return { host: (m[1] ?? m[2])!, port };
}

/** SIGTERM / SIGINT: close, then exit 0 (after 3 s at the latest). */
function stopOnSignals(log: Logger, close: () => Promise<void>): void {
  const stop = (sig: string) => {
    log.info(`${sig}: shutting down`);
    void close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

function fail(msg: string, code: number): never {
  process.stderr.write(`sascope: ${msg}\n`);
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        listen: { type: 'string', default: '127.0.0.1:7300' },
        dev: { type: 'boolean', default: false },
        'no-ui': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        pretty: { type: 'boolean', default: false },
        netns: { type: 'string' },
        'data-dir': { type: 'string', default: '/var/lib/sascope' },
        config: { type: 'string' },
        'open-loopback': { type: 'boolean', default: false },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'max-clients': { type: 'string' },
        'log-level': { type: 'string' },
        nats: { type: 'string' },
        fleet: { type: 'string' },
        host: { type: 'string' },
        'nats-user': { type: 'string' },
        'nats-password': { type: 'string' },
        'nats-creds': { type: 'string' },
        'nats-nkey': { type: 'string' },
        'nats-tls-ca': { type: 'string' },
        'nats-tls-cert': { type: 'string' },
        'nats-tls-key': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    fail(`${(err as Error).message}\nTry 'sascope --help'.`, 2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (values.version) {
    process.stdout.write(`sascope ${version}\n`);
    return;
  }
  const cmd = positionals[0];
  if (!cmd) fail(`no command given.\n${HELP}`, 2);
  if (positionals.length > 1) fail(`unexpected argument '${positionals[1]}'. Try 'sascope --help'.`, 2);
  const level = values['log-level'] ?? process.env.SASCOPE_LOG_LEVEL ?? 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(level)) fail(`bad --log-level '${level}'`, 2);

  if (cmd === 'serve') {
    if (values.dev && values['no-ui']) fail(`--dev and --no-ui exclude each other. Try 'sascope --help'.`, 2);
    if (values.fleet !== undefined && values.netns !== undefined) fail(`--fleet and --netns exclude each other: the fleet console reads no kernel. Try 'sascope --help'.`, 2);
    let listen;
    try {
      listen = parseListen(values.listen!);
    } catch (err) {
      fail((err as Error).message, 2);
    }
    const [{ createLogger }, { serve }] = await Promise.all([import('./log.ts'), import('./main.ts')]);
    const log = createLogger(level);
    let running;
    try {
      running = await serve(log, {
        ...listen,
        dev: values.dev!,
        noUi: values['no-ui'],
        netns: values.netns,
        dataDir: values['data-dir'],
        configPath: values.config,
        openLoopback: values['open-loopback'],
        tlsCert: values['tls-cert'],
        tlsKey: values['tls-key'],
        maxClients: values['max-clients'] === undefined ? undefined : Number(values['max-clients']),
        fleet: values.fleet === undefined ? undefined : natsSettings(values.fleet, 'console', values),
      });
    } catch (err) {
      const [{ ConfigError }, { NatsSettingsError }] = await Promise.all([import('./config.ts'), import('./fleet/nats.ts')]);
      if (err instanceof ConfigError || err instanceof NatsSettingsError) fail(err.message, 2);
      fail((err as Error).message, 1);
    }
    log.info(`sascope ${version} serving ${running.config.tls ? 'https' : 'http'}://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}/`);
    return stopOnSignals(log, () => running.close());
  }

  if (cmd === 'snapshot') {
    if (values.pretty && !values.json) fail(`--pretty needs --json. Try 'sascope --help'.`, 2);
    // Only what a one-shot read needs: the sources and the model, never the hub, Next.js or pino (loaded lazily).
    const log = lineLogger(process.env.SASCOPE_LOG_LEVEL ?? 'warn');
    const [{ startKernelSources }, { readOnce, writeJson }, { snapshotDocument }] = await Promise.all([import('./kernel.ts'), import('./snapshot.ts'), import('./model/snapshot.ts')]);
    let model;
    try {
      model = await readOnce(startKernelSources(log, { netns: values.netns, dataDir: values['data-dir'], oneShot: true }));
    } catch (err) {
      fail(`snapshot failed: ${(err as Error).message}`, 1);
    }
    const doc = snapshotDocument((kind) => model.list(kind), { time: Date.now(), server: { version, hostname: hostname(), netns: values.netns ?? 'self' } });
    if (values.json) {
      try {
        await writeJson(process.stdout, doc, values.pretty);
      } catch (err) {
        fail(`snapshot: writing stdout: ${errorWords(err)}`, 1);
      }
    } else {
      for (const s of model.list('source') as Array<{ id: string; state: string; reason?: string }>) process.stdout.write(`${s.id.padEnd(14)} ${s.state}${s.reason ? ` — ${s.reason}` : ''}\n`);
      process.stdout.write(`links ${model.count('link')}, policies ${model.count('policy')}, SAs ${model.count('sa')}\n`);
    }
    process.exit(0);
  }

  if (cmd === 'agent') {
    if (!values.nats) fail(`agent needs --nats URL (e.g. nats://127.0.0.1:4222). Try 'sascope --help'.`, 2);
    if (!values.host) fail(`agent needs --host NAME (this host's name in the fleet). Try 'sascope --help'.`, 2);
    const [{ hostNameProblem }, { NatsSettingsError }] = await Promise.all([import('./fleet/protocol.ts'), import('./fleet/nats.ts')]);
    const problem = hostNameProblem(values.host);
    if (problem) fail(`--host: ${problem}`, 2);
    const [{ createLogger }, { runAgent }, { ConfigError }] = await Promise.all([import('./log.ts'), import('./agent.ts'), import('./config.ts')]);
    const log = createLogger(level);
    let running;
    try {
      running = runAgent(log, {
        host: values.host,
        netns: values.netns,
        dataDir: values['data-dir'],
        configPath: values.config,
        nats: natsSettings(values.nats, values.host, values),
      });
    } catch (err) {
      if (err instanceof ConfigError || err instanceof NatsSettingsError) fail(err.message, 2);
      fail((err as Error).message, 1);
    }
    log.info({ host: values.host, boot: running.agent.boot }, `sascope ${version} agent for host ${values.host} (boot ${running.agent.boot}) publishing to ${values.nats}`);
    return stopOnSignals(log, () => running.stop());
  }

  fail(`unknown command '${cmd}'. Try 'sascope --help'.`, 2);
}

await main(process.argv.slice(2));

// sascope's configuration: one JSON file validated with zod, and the access tokens.
//
// Where the file is: --config PATH (it must exist), else <data-dir>/config.json when present, else the
// defaults below. A bad file stops start-up with its path and the offending key (ConfigError → exit 2).
//
// Tokens: from the config file's `tokens`, else from <data-dir>/tokens.json. On the first start with
// neither, sascope creates one operator and one viewer token (32 random bytes each, base64url) in
// <data-dir>/tokens.json with mode 0600 and says where — never what they are.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { createPrivateFile, narrowToOwner } from './sys/private-file.ts';
import { errorCode, errorWords } from './sys/errno.ts';
import { ALARM_DEFAULTS, VICI_CERT_WARN_DAYS_DEFAULT, VICI_SOCKET_DEFAULT } from './config-defaults.ts';

export const DEFAULT_DATA_DIR = '/var/lib/sascope';
export const CONFIG_FILE = 'config.json';
export const TOKENS_FILE = 'tokens.json';

export const Role = z.enum(['viewer', 'operator']);
export type Role = z.infer<typeof Role>;

export const TokenEntry = z
  .object({
    /** Who holds it ("wall", "alice"): shown in logs instead of the token. */
    name: z.string().min(1).max(64),
    role: Role,
    // At least 32 characters: ~190 bits when random (tokens.json's are 43 base64url characters, 256 bits).
    token: z.string().min(32, 'a token needs at least 32 characters (random ones: head -c 32 /dev/urandom | base64)').max(512).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
  })
  .strict();
export type TokenEntry = z.infer<typeof TokenEntry>;

export const AlarmThresholds = z
  .object({
    /** Hard expiry (time) of a tunnel's current SA closer than this, with its soft limit passed (no rekey under way): "expiring soon". */
    expiringSoonSeconds: z.number().int().positive().default(ALARM_DEFAULTS.expiringSoonSeconds),
    /** Soft expiry passed this long ago and no new SA in the tunnel: "rekey overdue". */
    rekeyOverdueSeconds: z.number().int().nonnegative().default(ALARM_DEFAULTS.rekeyOverdueSeconds),
    /** Share of the sequence number space used, in percent: "sequence space". */
    sequenceUsedPercent: z.number().min(0).max(100).default(ALARM_DEFAULTS.sequenceUsedPercent),
    /** Integrity or replay failures that rose by more than this within failureWindowSeconds: "failures rising". */
    failuresRisingCount: z.number().int().nonnegative().default(ALARM_DEFAULTS.failuresRisingCount),
    failureWindowSeconds: z.number().int().positive().default(ALARM_DEFAULTS.failureWindowSeconds),
    /** How long "peer deleted" stays raised after the kernel deleted an ovpn peer. */
    peerDeletedHoldSeconds: z.number().int().positive().default(ALARM_DEFAULTS.peerDeletedHoldSeconds),
    /** A wireguard peer expected up (persistent keepalive, or sending) with no handshake for longer than this: "handshake stale" (WireGuard's REJECT_AFTER_TIME). */
    wgHandshakeStaleSeconds: z.number().int().positive().default(ALARM_DEFAULTS.wgHandshakeStaleSeconds),
  })
  .strict();
export type AlarmThresholds = z.infer<typeof AlarmThresholds>;

/** scheme://host[:port], nothing after: what a browser's Origin and CSP source lists hold. */
const WebOrigin = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === s;
  } catch {
    return false;
  }
}, 'an origin: http(s)://host[:port] with nothing after');

/** What the WebSocket hub takes: how many clients, and how fast one may send (docs/websocket.md). */
export const WebSocketLimits = z
  .object({
    /** Clients at most; upgrades past it are refused with 503 (also --max-clients). */
    maxClients: z.number().int().min(1).max(100_000).default(1000),
    /** Messages one client may send at once, then per second (a token bucket); past it an error, then a close (1008). */
    messageBurst: z.number().int().min(1).max(10_000).default(20),
    messagesPerSecond: z.number().positive().max(10_000).default(10),
  })
  .strict();

/** The fleet over NATS (docs/fleet.md): how often agents publish, and when the console calls a silent host stale or unreachable. */
export const FleetSettings = z
  .object({
    /** An agent's heartbeat (KV sascope-alive) this often. */
    heartbeatSeconds: z.number().min(0.1).max(3600).default(5),
    /** An agent rewrites its snapshot this often when something changed (and before the stream's max age drops it). */
    snapshotSeconds: z.number().min(1).max(1500).default(300),
    /** The console: a host without a heartbeat for this long is stale, then unreachable (each an alarm). */
    staleSeconds: z.number().min(0.5).max(86_400).default(20),
    unreachableSeconds: z.number().min(1).max(86_400).default(90),
  })
  .strict()
  .refine((f) => f.unreachableSeconds > f.staleSeconds, { message: 'unreachableSeconds must be more than staleSeconds', path: ['unreachableSeconds'] });
export type FleetSettings = z.infer<typeof FleetSettings>;

export const ConfigSchema = z
  .object({
    /** Requests from 127.0.0.0/8 and ::1 need no token (also --open-loopback). */
    openLoopback: z.boolean().default(false),
    /** Origins (scheme://host[:port]) besides the server's own that may open the WebSocket. */
    allowedOrigins: z.array(z.string().url()).default([]),
    /** Origins whose pages may show /wall in a frame (CSP frame-ancestors); every other page, and the wall by default, refuses framing. */
    wallFrameAncestors: z.array(WebOrigin).default([]),
    tokens: z.array(TokenEntry).optional(),
    tls: z.object({ cert: z.string().min(1), key: z.string().min(1) }).strict().optional(),
    history: z
      .object({
        enabled: z.boolean().default(true),
        retentionDays: z.number().positive().max(3650).default(7),
        /** One counter sample per tunnel at most this often (downsampling). */
        sampleSeconds: z.number().int().min(1).max(3600).default(60),
        /** Queued writes are committed in one transaction this often. */
        flushMs: z.number().int().min(50).max(60_000).default(1000),
      })
      .strict()
      .prefault({}),
    alarms: AlarmThresholds.prefault({}),
    websocket: WebSocketLimits.prefault({}),
    metrics: z
      .object({
        /** Per-tunnel series at most; the rest are summed under tunnel="other". */
        maxTunnelSeries: z.number().int().min(1).max(10_000).default(200),
      })
      .strict()
      .prefault({}),
    fleet: FleetSettings.prefault({}),
    /** strongSwan's charon: its VICI socket (charon.plugins.vici.socket in strongswan.conf). */
    vici: z.object({ socket: z.string().min(1).default(VICI_SOCKET_DEFAULT), certWarnDays: z.number().int().min(0).max(3650).default(VICI_CERT_WARN_DAYS_DEFAULT) }).strict().prefault({}),
  })
  .strict();
export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {}

/** "path: key.sub[2]: message" for the first issue — what start-up prints. */
function describeIssue(file: string, err: z.ZodError): string {
  const issue = err.issues[0]!;
  const key = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('') || '(top level)';
  let msg = issue.message;
  if (issue.code === 'unrecognized_keys') return `${file}: unknown key ${issue.keys.map((k) => (key === '(top level)' ? k : `${key}.${k}`)).join(', ')}`;
  if (/token/.test(key)) msg = msg.replace(/received .*/, 'invalid'); // never echo a token back
  return `${file}: ${key}: ${msg}`;
}

/** JSON text → a schema's value, or a ConfigError naming the file and the key. */
function parseFile<S extends z.ZodType>(file: string, text: string, schema: S): z.infer<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw new ConfigError(describeIssue(file, r.error));
  return r.data;
}

export function parseConfig(file: string, text: string): Config {
  const config = parseFile(file, text, ConfigSchema);
  const names = new Set<string>();
  const tokens = new Set<string>();
  for (const [i, t] of (config.tokens ?? []).entries()) {
    if (names.has(t.name)) throw new ConfigError(`${file}: tokens[${i}].name: '${t.name}' is used twice`);
    if (tokens.has(t.token)) throw new ConfigError(`${file}: tokens[${i}].token: the same token is listed twice`);
    names.add(t.name);
    tokens.add(t.token);
  }
  return config;
}

export interface LoadedConfig {
  config: Config;
  /** The file read, or undefined when none exists and defaults apply. */
  file?: string;
  /** Why the default file could not be read (defaults apply; the caller warns). */
  note?: string;
}

/** Read the config: an explicit path must exist; the data-dir default may be absent. Throws ConfigError. */
export function loadConfig(opts: { configPath?: string; dataDir: string }): LoadedConfig {
  const file = opts.configPath ?? path.join(opts.dataDir, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' && !opts.configPath) return { config: ConfigSchema.parse({}) };
    // The default place in a data dir we may not read (e.g. started as another user): defaults, said aloud.
    // Likewise a data dir that is not a directory (ENOTDIR): the data dir's own problem is reported by its users.
    if ((code === 'EACCES' || code === 'ENOTDIR') && !opts.configPath) return { config: ConfigSchema.parse({}), note: `cannot read ${file} (${code}): using the defaults` };
    throw new ConfigError(`${file}: cannot read (${code ?? (err as Error).message})`);
  }
  return { config: parseConfig(file, text), file };
}

const TokensFile = z.object({ tokens: z.array(TokenEntry).min(1) }).strict();

export interface TokenSet {
  tokens: TokenEntry[];
  /** Where they came from: "config", or the tokens file path. */
  from: string;
  /** Set when this start created them (the one line that points to the file). */
  created?: string;
  /** Why no tokens could be had (unwritable data dir): only open loopback access works then. */
  problem?: string;
}

/**
 * The tokens: the config's, else <dataDir>/tokens.json, else create that file (dir 0700, file 0600,
 * O_EXCL so two processes starting together agree). A broken tokens file is a ConfigError; an
 * unwritable data dir is a `problem` (the caller decides whether that stops start-up).
 */
export function loadTokens(config: Config, dataDir: string): TokenSet {
  if (config.tokens && config.tokens.length > 0) return { tokens: config.tokens, from: 'config' };
  const file = path.join(dataDir, TOKENS_FILE);
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') return { tokens: [], from: file, problem: `cannot read ${file} (${errorWords(err)})` };
  }
  if (text !== undefined) {
    const tokens = parseFile(file, text, TokensFile).tokens;
    try {
      narrowToOwner(file); // one written by hand, or by a version that left it to the umask
    } catch {
      // not ours to change (e.g. root's file, read-only mount): it is still read
    }
    return { tokens, from: file };
  }
  const fresh: TokenEntry[] = [
    { name: 'operator', role: 'operator', token: randomBytes(32).toString('base64url') },
    { name: 'viewer', role: 'viewer', token: randomBytes(32).toString('base64url') },
  ];
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    createPrivateFile(file, `${JSON.stringify({ tokens: fresh }, null, 2)}\n`);
  } catch (err) {
    if (errorCode(err) === 'EEXIST') return loadTokens(config, dataDir); // another process won the race
    return { tokens: [], from: file, problem: `cannot create ${file} (${errorWords(err)})` };
  }
  return { tokens: fresh, from: file, created: file };
}

export interface ServeConfigInput {
  dataDir: string;
  configPath?: string;
  /** --open-loopback (or-ed with the config's openLoopback). */
  openLoopback?: boolean;
  /** --max-clients (over the config's websocket.maxClients). */
  maxClients?: number;
  tlsCert?: string;
  tlsKey?: string;
}

export interface ServeConfig {
  config: Config;
  configFile?: string;
  configNote?: string;
  tokens: TokenSet;
  openLoopback: boolean;
  tls?: { cert: Buffer; key: Buffer; certPath: string };
}

/**
 * Everything `serve` needs before it opens a socket: the config, the tokens (created on first start),
 * TLS material. Throws ConfigError (exit 2) for a bad file, half a TLS pair, unreadable TLS files, or
 * no way in at all (no tokens and no open loopback).
 */
export function resolveServeConfig(input: ServeConfigInput): ServeConfig {
  const { config, file, note } = loadConfig({ configPath: input.configPath, dataDir: input.dataDir });
  const openLoopback = input.openLoopback === true || config.openLoopback;
  if (input.maxClients !== undefined) {
    const r = WebSocketLimits.shape.maxClients.safeParse(input.maxClients);
    if (!r.success) throw new ConfigError(`--max-clients: ${r.error.issues[0]!.message}`);
    config.websocket.maxClients = r.data;
  }
  const tokens = loadTokens(config, input.dataDir);
  if (tokens.problem && !openLoopback) {
    throw new ConfigError(`${tokens.problem}: no access tokens and open loopback access is off, so nobody could sign in — fix --data-dir, list tokens in the config file, or use --open-loopback`);
  }
  const certPath = input.tlsCert ?? config.tls?.cert;
  const keyPath = input.tlsKey ?? config.tls?.key;
  if ((certPath === undefined) !== (keyPath === undefined)) throw new ConfigError('--tls-cert and --tls-key go together: give both or neither');
  let tls: ServeConfig['tls'];
  if (certPath && keyPath) {
    const read = (p: string, what: string) => {
      try {
        return readFileSync(p);
      } catch (err) {
        throw new ConfigError(`${p}: cannot read the TLS ${what} (${errorWords(err)})`);
      }
    };
    tls = { cert: read(certPath, 'certificate'), key: read(keyPath, 'key'), certPath };
  }
  return { config, configFile: file, configNote: note, tokens, openLoopback, tls };
}

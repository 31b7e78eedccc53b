// The NATS connection of an agent or a console: options from the command line (URL, user/password, nkey
// seed file, creds file, TLS CA / client certificate / key), the inbox prefix of the identity, reconnects
// with backoff for ever, and a 'nats' source row in the model that says in words where it stands.
// The connection is opened from the main thread while it is in sascope's own network namespace (with
// --netns only kernel sockets enter the watched one: server/sys/netns.ts), and so are its reconnects.
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, nkeyAuthenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import type { Model } from '../model/model.ts';
import type { SourceState, SourceStatus } from '../wire/entities.ts';
import type { Logger } from '../log.ts';
import { errorWords } from '../sys/errno.ts';
import { inboxPrefix } from './protocol.ts';

/** How an agent or the console reaches NATS (`--nats*` / `--fleet` options). Secrets stay in here. */
export interface NatsSettings {
  /** nats://host:port or tls://host:port; several comma-separated. */
  url: string;
  /** Who we are to NATS: the host name of an agent, "console" for the console (its inbox prefix, its client name). */
  identity: string;
  user?: string;
  password?: string;
  /** A creds file (JWT + nkey seed, as `nsc` writes it). */
  credsFile?: string;
  /** A file holding an nkey seed ("SU…"). */
  nkeyFile?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** A setting that cannot work (the CLI prints it and exits 2). */
export class NatsSettingsError extends Error {}

/** The servers of a URL setting, without credentials (they go in --nats-user/--nats-password, never in a URL that is shown). */
export function natsServers(url: string): string[] {
  const servers = url.split(',').map((s) => s.trim()).filter(Boolean);
  if (servers.length === 0) throw new NatsSettingsError('no NATS server given (--nats URL, e.g. nats://127.0.0.1:4222)');
  for (const s of servers) {
    const withScheme = /^[a-z]+:\/\//.test(s) ? s : `nats://${s}`;
    let u: URL;
    try {
      u = new URL(withScheme);
    } catch {
      throw new NatsSettingsError(`bad NATS URL '${s}': expected nats://HOST:PORT (or tls://HOST:PORT)`);
    }
    if (!['nats:', 'tls:'].includes(u.protocol)) throw new NatsSettingsError(`bad NATS URL '${s}': the scheme must be nats:// or tls://`);
    if (u.username || u.password) throw new NatsSettingsError(`NATS URL '${u.host}' carries credentials: give them with --nats-user/--nats-password, --nats-creds or --nats-nkey`);
    if (!u.hostname || (u.pathname !== '' && u.pathname !== '/') || u.search) throw new NatsSettingsError(`bad NATS URL '${s}': expected nats://HOST:PORT with nothing after`);
  }
  return servers;
}

function readSetting(what: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new NatsSettingsError(`${what} ${file}: cannot read it: ${errorWords(err)}`);
  }
}

/** Reconnect delay: 1 s doubling to 30 s, ±20 % jitter (many agents after a server restart do not come back in step). */
export function reconnectDelayMs(attempt: number): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/**
 * The wait the client's own reconnect loop is given, from how long the connection has been down: 1 s for the
 * first 4 s, then a quarter of the time down, never past 30 s; `jitter` (0.8–1.2, drawn once per outage)
 * keeps many agents out of step. The client asks for it on every turn of its loop, not once a dial (it
 * dials when its last dial is older than the wait): a counter of calls, as reconnectDelayMs takes, grew
 * twice a dial and put the second dial after a server restart 30 s out (the fleet took 34 s to recover).
 */
export function redialWaitMs(downMs: number, jitter: number): number {
  return Math.round(Math.min(30_000, Math.max(1000, downMs / 4)) * jitter);
}

/** The client's options (files read now: a missing one is a NatsSettingsError at start, not a reconnect loop). */
export function natsConnectionOptions(s: NatsSettings): ConnectionOptions {
  const servers = natsServers(s.url);
  const ways = [s.user !== undefined || s.password !== undefined, s.credsFile !== undefined, s.nkeyFile !== undefined].filter(Boolean).length;
  if (ways > 1) throw new NatsSettingsError('give one way to authenticate to NATS: --nats-user/--nats-password, --nats-creds or --nats-nkey');
  if ((s.user === undefined) !== (s.password === undefined)) throw new NatsSettingsError('--nats-user and --nats-password go together');
  if ((s.tlsCert === undefined) !== (s.tlsKey === undefined)) throw new NatsSettingsError('--nats-tls-cert and --nats-tls-key go together');
  const opts: ConnectionOptions = { servers, name: `sascope ${s.identity}`, inboxPrefix: inboxPrefix(s.identity) };
  if (s.user !== undefined) Object.assign(opts, { user: s.user, pass: s.password });
  if (s.credsFile !== undefined) opts.authenticator = credsAuthenticator(new Uint8Array(readSetting('--nats-creds', s.credsFile)));
  if (s.nkeyFile !== undefined) {
    const seed = readSetting('--nats-nkey', s.nkeyFile).toString('utf8').trim();
    if (!/^S[A-Z2-7]{50,}$/.test(seed)) throw new NatsSettingsError(`--nats-nkey ${s.nkeyFile}: not an nkey seed (one line starting with S, as 'nk -gen user' writes it)`);
    opts.authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
  }
  if (s.tlsCa !== undefined || s.tlsCert !== undefined || servers.some((u) => u.startsWith('tls://'))) {
    opts.tls = {
      ...(s.tlsCa !== undefined ? { ca: readSetting('--nats-tls-ca', s.tlsCa).toString('utf8') } : {}),
      ...(s.tlsCert !== undefined ? { cert: readSetting('--nats-tls-cert', s.tlsCert).toString('utf8'), key: readSetting('--nats-tls-key', s.tlsKey!).toString('utf8') } : {}),
    };
  }
  return opts;
}

/** What NATS said, in words for the status row (the client's messages name no secret). */
export function natsWords(err: unknown): string {
  const text = errorWords(err);
  if (/authorization violation|authentication/i.test(text)) return `refused our credentials (${text})`;
  if (/permissions violation/i.test(text)) return `refused by the NATS permissions of this identity (${text})`;
  return text;
}

export interface NatsLinkHooks {
  /** A connection is up (the first, or a new one after a loss): `gen` counts them from 1. */
  connected(nc: NatsConnection, gen: number): void | Promise<void>;
  /** It is down (reconnecting); what was in flight may be lost. */
  disconnected?(): void;
}

/**
 * One NATS connection for as long as sascope runs: the client reconnects by itself (for ever, with
 * backoff); when it gives up (credentials refused twice) or the first connect fails, this starts a new one
 * after a backoff. Every change of state is the 'nats' source row.
 */
export class NatsLink {
  private nc: NatsConnection | undefined;
  private gen = 0;
  private attempt = 0;
  /** While the client redials: when the connection went down, and this outage's jitter (redialWaitMs). */
  private outage: { since: number; jitter: number } | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly status: SourceStatus;
  private readonly where: string;
  private readonly options: ConnectionOptions;

  constructor(private readonly model: Pick<Model, 'status'>, private readonly settings: NatsSettings, private readonly log: Logger, private readonly hooks: NatsLinkHooks) {
    this.options = natsConnectionOptions(settings);
    this.where = natsServers(settings.url).join(', ');
    this.status = { id: 'nats', label: `NATS (${this.where})`, state: 'starting', reason: `connecting to ${this.where}`, since: Date.now(), resyncs: 0, decodeErrors: 0 };
    model.status({ ...this.status });
  }

  /** The connection while it is up. */
  get connection(): NatsConnection | undefined {
    return this.nc && !this.nc.isClosed() ? this.nc : undefined;
  }

  private setState(state: SourceState, reason?: string): void {
    if (this.status.state === state && this.status.reason === reason) return;
    Object.assign(this.status, { state, reason, since: Date.now() });
    if (reason === undefined) delete this.status.reason;
    this.model.status({ ...this.status });
  }

  start(): void {
    void this.open();
  }

  /** Connected, but what we publish does not get through (reason), or again it does (undefined). */
  trouble(reason: string | undefined): void {
    if (!this.connection) return;
    // A refusal by permissions is the cause a later timeout of the same publish would hide.
    if (reason !== undefined && this.status.state === 'no-permission' && !/permissions|credentials/i.test(reason)) return;
    if (reason === undefined) this.setState('ok');
    else this.setState(/permissions|credentials/i.test(reason) ? 'no-permission' : 'error', reason);
  }

  private retryLater(reason: string): void {
    const ms = reconnectDelayMs(this.attempt++);
    this.setState(/permissions|credentials/i.test(reason) ? 'no-permission' : 'error', `${reason}; next try in ${Math.round(ms / 100) / 10} s`);
    this.retryTimer = setTimeout(() => void this.open(), ms);
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    this.outage = undefined;
    let nc: NatsConnection;
    try {
      nc = await connect({
        ...this.options,
        maxReconnectAttempts: -1,
        reconnectDelayHandler: () => {
          this.outage ??= { since: Date.now(), jitter: 0.8 + Math.random() * 0.4 };
          return redialWaitMs(Date.now() - this.outage.since, this.outage.jitter);
        },
      });
    } catch (err) {
      this.log.warn({ source: 'nats', err: natsWords(err) }, `nats: cannot connect to ${this.where}: ${natsWords(err)}`);
      return this.retryLater(`cannot connect to ${this.where}: ${natsWords(err)}`);
    }
    if (this.stopped) return void nc.close();
    this.nc = nc;
    this.watch(nc);
    await this.up(nc);
  }

  private async up(nc: NatsConnection): Promise<void> {
    this.attempt = 0;
    this.outage = undefined;
    const gen = ++this.gen;
    if (gen > 1) this.status.resyncs++;
    this.setState('ok');
    this.log.info({ source: 'nats', server: nc.getServer() }, `nats: connected to ${nc.getServer()}`);
    try {
      await this.hooks.connected(nc, gen);
    } catch (err) {
      this.log.error({ source: 'nats', err: String(err) }, 'nats: connected hook failed');
    }
  }

  private watch(nc: NatsConnection): void {
    void (async () => {
      for await (const s of nc.status()) {
        if (this.stopped) return;
        if (s.type === 'disconnect') {
          this.setState('error', `connection to ${s.server} lost: reconnecting`);
          this.log.warn({ source: 'nats', server: s.server }, `nats: connection to ${s.server} lost`);
          this.hooks.disconnected?.();
        } else if (s.type === 'reconnect') void this.up(nc);
        else if (s.type === 'error') {
          // A publish or subscribe our permissions do not allow: the server says so only here.
          this.log.warn({ source: 'nats', err: natsWords(s.error) }, `nats: ${natsWords(s.error)}`);
          this.trouble(natsWords(s.error));
        }
      }
    })().catch(() => undefined);
    void nc.closed().then((err) => {
      if (this.stopped || this.nc !== nc) return;
      this.nc = undefined;
      this.hooks.disconnected?.();
      this.retryLater(`connection closed${err ? `: ${natsWords(err)}` : ''}`);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const nc = this.nc;
    this.nc = undefined;
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
  }
}

// How a person gets in, said once at start-up. The sign-in URL carries the viewer token (the server trades
// it for the session cookie, as it does for the wall's ?token=), so it goes to a terminal only, where the
// person who started sascope reads it; a log (a journal, a file) only says where the tokens are. An
// operator token never goes into a URL: it is typed in on /login.
import type { ServeConfig } from './config.ts';
import type { Logger, LogSink } from './log.ts';

/** The origin a browser on this host reaches: a wildcard listen address is reached on loopback. */
export function localOrigin(host: string, port: number, tls: boolean): string {
  const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `${tls ? 'https' : 'http'}://${h.includes(':') ? `[${h}]` : h}:${port}`;
}

export function announceSignIn(log: Logger, config: ServeConfig, origin: string, terminal: LogSink = process.stderr): void {
  const { tokens, from } = config.tokens;
  if (tokens.length === 0) return; // only open loopback access: said already
  const where = from === 'config' ? `the config file ${config.configFile}` : from;
  const viewer = tokens.find((t) => t.role === 'viewer');
  if (!terminal.isTTY || !viewer) return void log.info({ file: from === 'config' ? config.configFile : from }, `sign in on ${origin}/login with a token from ${where}`);
  terminal.write(
    `\nSign in (viewer, read-only): ${origin}/?token=${encodeURIComponent(viewer.token)}\n` +
      `For actions (crypto probe, PF_KEY REGISTER) sign in on ${origin}/login with the operator token from ${where}\n\n`,
  );
}

// Helpers of the fleet tests (agent, console): a nats-server of the test's own on 127.0.0.1 (random port,
// JetStream in a temporary store), `sascope agent` processes, throw-away network namespaces, and reading
// what agents published with a plain NATS client.
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import { freePort, projectRoot } from './helpers.ts';
import { STREAM } from '../server/fleet/protocol.ts';

/** The nats-server binary; a test that needs it fails (never skips) without it. */
export function natsServerBinary(): string {
  const r = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  const bin = r.stdout.trim();
  if (r.status !== 0 || !bin) throw new Error('nats-server not found: run setup.sh --test (it installs Debian\'s nats-server)');
  return bin;
}

export interface TestNatsServer {
  url: string;
  port: number;
  storeDir: string;
  proc(): ChildProcess;
  output(): string;
  /** SIGTERM (SIGKILL: as a crash would) and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Start again on the same port and store (JetStream file storage: nothing lost). */
  start(): Promise<void>;
}

function waitForPort(port: number, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = tcpConnect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (!alive()) return reject(new Error('nats-server exited'));
        if (Date.now() > deadline) return reject(new Error(`nats-server did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`));
        setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/**
 * `nats-server -js` on 127.0.0.1 only, a random port, JetStream in a fresh directory. `config`: the text of
 * a server config file (accounts, users and permissions); -a/-p/-sd/-js still apply.
 */
export async function startNatsServer(opts: { config?: string } = {}): Promise<TestNatsServer> {
  const bin = natsServerBinary();
  const port = await freePort();
  const storeDir = mkdtempSync(path.join(tmpdir(), 'sascope-nats-'));
  const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir];
  if (opts.config !== undefined) {
    const file = path.join(storeDir, 'nats.conf');
    writeFileSync(file, opts.config);
    args.push('-c', file);
  }
  let proc: ChildProcess | undefined;
  let out = '';
  const start = async () => {
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.on('data', (d) => (out += d));
    await waitForPort(port, 15_000, () => p.exitCode === null).catch((err: Error) => {
      throw new Error(`${err.message}\n${out.slice(-3000)}`);
    });
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    proc: () => proc!,
    output: () => out,
    start,
    stop: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        const p = proc!;
        if (p.exitCode !== null || p.signalCode !== null) return resolve();
        p.once('exit', () => resolve());
        p.kill(signal);
        setTimeout(() => p.kill('SIGKILL'), 5000).unref();
      }),
  };
}

export interface RunningAgent {
  proc: ChildProcess;
  dataDir: string;
  output(): string;
  /** SIGTERM (or the signal given) and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `sascope agent` with a fresh --data-dir (unless given) and `config` (the fleet settings, …) as its config file. */
export function startAgent(opts: { nats: string; host: string; netns?: string; dataDir?: string; config?: object; args?: string[]; env?: Record<string, string> }): RunningAgent {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'sascope-agent-'));
  const args = ['agent', '--nats', opts.nats, '--host', opts.host, '--data-dir', dataDir, ...(opts.netns ? ['--netns', opts.netns] : [])];
  if (opts.config) {
    const file = path.join(dataDir, 'agent-config.json');
    writeFileSync(file, JSON.stringify(opts.config));
    args.push('--config', file);
  }
  const proc = spawn(process.execPath, [path.join(projectRoot, 'server/bin.mjs'), ...args, ...(opts.args ?? [])], { cwd: projectRoot, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  let stopping = false;
  proc.once('exit', (code, signal) => {
    if (!stopping) console.error(`sascope agent ${opts.host} exited unasked (code ${code}, signal ${signal}); the end of its output:\n${out.slice(-6000)}`);
  });
  return {
    proc,
    dataDir,
    output: () => out,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        stopping = true;
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
        proc.once('exit', (code) => resolve(code));
        proc.kill(signal);
        setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/** A throw-away network namespace with loopback up; `del()` removes it. */
export function makeNetns(name: string): { name: string; exec(cmd: string[]): string; del(): void } {
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return {
    name,
    exec: (cmd) => execFileSync('ip', ['netns', 'exec', name, ...cmd], { encoding: 'utf8' }),
    del: () => void spawnSync('ip', ['netns', 'del', name]),
  };
}

/** Poll until fn gives a value (not undefined), or fail naming what was awaited. */
export async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A plain client (no sascope code) and its JetStream manager. */
export async function plainClient(url: string, opts: Parameters<typeof connect>[0] = {}): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const nc = await connect({ servers: url, ...opts });
  return { nc, jsm: await jetstreamManager(nc) };
}

/** Messages of the stream on `subject` from stream sequence `from` on, in order (by sequence: a small test stream). */
export async function streamMessages(jsm: JetStreamManager, subject: string, from = 1): Promise<StoredMsg[]> {
  const info = await jsm.streams.info(STREAM);
  const out: StoredMsg[] = [];
  for (let seq = Math.max(from, info.state.first_seq); seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(STREAM, { seq }).catch(() => null);
    if (m && m.subject === subject) out.push(m);
  }
  return out;
}

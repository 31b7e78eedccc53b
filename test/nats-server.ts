// A throw-away nats-server with JetStream for fleet tests (docs/fleet.md): on 127.0.0.1, a free port, its
// file store in a temporary directory that outlives a restart (JetStream's file storage is what the fleet
// relies on to lose nothing when the server comes back).
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './helpers.ts';

export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  output(): string;
  /** Stop it (SIGKILL: as a crash would), and start it again on the same port and store. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** `nats-server -js -a 127.0.0.1 -p <port> -sd <dir>`; `config`: extra config file text (accounts, users). */
export async function startNatsServer(opts: { config?: string } = {}): Promise<NatsServer> {
  const port = await freePort();
  const storeDir = mkdtempSync(path.join(tmpdir(), 'sascope-nats-'));
  const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir];
  if (opts.config) {
    const file = path.join(storeDir, 'nats.conf');
    writeFileSync(file, opts.config);
    args.push('-c', file);
  }
  let proc: ChildProcess | undefined;
  let out = '';
  const server: NatsServer = {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    output: () => out,
    async start() {
      proc = spawn('nats-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      proc.stdout!.on('data', (d) => (out += d));
      proc.stderr!.on('data', (d) => (out += d));
      for (const deadline = Date.now() + 15_000; !(await listening(port)); ) {
        if (proc.exitCode !== null) throw new Error(`nats-server exited ${proc.exitCode}: ${out.slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${port} within 15 s: ${out.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
  };
  const end = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      const p = proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return resolve();
      p.once('exit', () => resolve());
      p.kill(signal);
    });
  await server.start();
  return server;
}

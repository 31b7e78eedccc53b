// Helpers shared by integration tests, e2e and benches: start a real `sascope serve`, talk to its socket.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { Delta, ServerMessage, Snapshot } from '../server/wire/protocol.ts';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Tests that add kernel state must run in a throw-away netns (test/netns-run.sh sets this). */
export function requireTestNetns(): void {
  if (!process.env.SASCOPE_TEST_NETNS) throw new Error('run this test through test/netns-run.sh (npm run test:integration): it changes kernel state');
}

import { freePort } from './lab/lib/port.ts';
export { freePort };

export interface RunningServer {
  port: number;
  url: string;
  /** The server's --data-dir (a fresh temporary directory unless given). */
  dataDir: string;
  /** The tokens sascope created in dataDir/tokens.json on its first start, by role. */
  tokens(): { operator: string; viewer: string };
  proc: ChildProcess;
  output: () => string;
  stop(): Promise<number | null>;
}

/** The tokens a server created in its data dir (tokens.json). */
export function readTokens(dataDir: string): { operator: string; viewer: string } {
  const f = JSON.parse(readFileSync(path.join(dataDir, 'tokens.json'), 'utf8')) as { tokens: Array<{ role: string; token: string }> };
  return { operator: f.tokens.find((t) => t.role === 'operator')!.token, viewer: f.tokens.find((t) => t.role === 'viewer')!.token };
}

/**
 * Start `sascope serve` (optionally wrapped, e.g. in setpriv) and wait until /api/v1/health answers.
 * Access: by default with --open-loopback (tests on 127.0.0.1 need no token) and a fresh --data-dir;
 * `access: 'tokens'` starts without it — then requests need a token from tokens().
 * `ui`: serve the Next.js pages too (default: yes on the host; no inside the lab VM, where Next.js start-up
 * under emulation takes minutes — lab tests of the API and WebSocket pass --no-ui).
 */
export async function startServer(opts: { wrap?: string[]; env?: Record<string, string>; args?: string[]; timeoutMs?: number; access?: 'open-loopback' | 'tokens'; dataDir?: string; ui?: boolean; root?: string } = {}): Promise<RunningServer> {
  const port = await freePort();
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'sascope-test-'));
  const access = opts.access === 'tokens' ? [] : ['--open-loopback'];
  const ui = opts.ui ?? process.env.SASCOPE_LAB_VM !== '1';
  const root = opts.root ?? projectRoot; // another copy of the project (a bench's before figure)
  const argv = [...(opts.wrap ?? []), process.execPath, path.join(root, 'server/bin.mjs'), 'serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, ...access, ...(ui ? [] : ['--no-ui']), ...(opts.args ?? [])];
  const proc = spawn(argv[0]!, argv.slice(1), { cwd: root, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  // A server that dies under a test is the finding: its last words go to the test's output at once.
  let stopping = false;
  proc.once('exit', (code, signal) => {
    if (!stopping) console.error(`sascope serve exited unasked (code ${code}, signal ${signal}); the end of its output:\n${out.slice(-6000)}`);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited ${proc.exitCode}: ${out}`);
    try {
      const r = await fetch(`${url}/api/v1/health`);
      if (r.ok || r.status === 401) break; // 401: up, and asking for a token
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`server did not answer within ${opts.timeoutMs ?? 60_000} ms: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    port,
    url,
    dataDir,
    tokens: () => readTokens(dataDir),
    proc,
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        stopping = true;
        if (proc.exitCode !== null) return resolve(proc.exitCode);
        proc.once('exit', (code) => resolve(code));
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/**
 * GET a JSON document, retrying once when the connection fails: under TCG emulation a keep-alive
 * connection can be closed by the server just as the client reuses it ("other side closed").
 */
export async function getJson<T>(url: string): Promise<T> {
  const get = async () => (await fetch(url)).json() as Promise<T>;
  return get().catch(get);
}

/** A WebSocket client that records every message with its arrival time. */
export class LiveClient {
  readonly messages: Array<{ at: number; msg: ServerMessage }> = [];
  readonly ws: WebSocket;
  private waiters: Array<() => void> = [];

  constructor(url: string, opts: { token?: string; path?: string; headers?: Record<string, string> } = {}) {
    const headers = { ...opts.headers, ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) };
    this.ws = new WebSocket(url.replace(/^http/, 'ws') + (opts.path ?? '/ws'), { headers });
    this.ws.on('message', (data) => {
      this.messages.push({ at: performance.timeOrigin + performance.now(), msg: JSON.parse(String(data)) as ServerMessage });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve();
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  snapshot(): Snapshot | undefined {
    return this.messages.find((m) => m.msg.type === 'snapshot')?.msg as Snapshot | undefined;
  }

  deltas(): Array<{ at: number; delta: Delta }> {
    return this.messages.flatMap((m) => (m.msg.type === 'deltas' ? m.msg.deltas.map((delta) => ({ at: m.at, delta })) : []));
  }

  /** Wait until pred finds a delta (checking everything received so far first). */
  async waitForDelta(pred: (d: Delta) => boolean, timeoutMs = 5000): Promise<{ at: number; delta: Delta }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.deltas().find((x) => pred(x.delta));
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching delta within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}

export function sh(cmd: string): string {
  return execFileSync('sh', ['-c', cmd], { encoding: 'utf8' });
}

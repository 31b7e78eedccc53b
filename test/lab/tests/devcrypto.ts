// Helpers for the devices / offload / crypto lab tests: sascope's kernel side started in this process
// (sources → model → hub, no Next.js: the VM is slow and these tests read the API and the model only),
// served by the real /api/v1 routes on a loopback port; a poller over the model.
import { createServer, type Server } from 'node:http';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startKernel, type Kernel } from '../../../server/main.ts';
import { handleApi } from '../../../server/hub/routes.ts';
import { createLogger } from '../../../server/log.ts';
import type { EntityKind, EntityKinds } from '../../../server/wire/protocol.ts';
import { after, before } from 'node:test';
import { cleanupAll, requireLab, sh } from '../scenarios/index.ts';

export interface InProcess {
  kernel: Kernel;
  url: string;
  get<K extends EntityKind>(kind: K, key: string): EntityKinds[K] | undefined;
  list<K extends EntityKind>(kind: K): Array<EntityKinds[K]>;
  api(p: string, init?: RequestInit): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export async function startInProcess(): Promise<InProcess> {
  const kernel = startKernel(createLogger(process.env.SASCOPE_LOG_LEVEL ?? 'warn'), { dataDir: mkdtempSync(path.join(process.env.LAB_RUN ?? '/run', 'sascope-dc-')) });
  await kernel.ready;
  const server: Server = createServer((req, res) => {
    if (!handleApi(kernel.hub, req, res, kernel.actions)) {
      res.writeHead(404);
      res.end();
    }
  });
  // Idle keep-alive connections stay open long: with Node's 5 s the server closed one just as fetch reused
  // it (ECONNRESET under TCG, where the client's own expiry timer runs late).
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    kernel,
    url,
    get: (kind, key) => kernel.model.get(kind, key) as never,
    list: (kind) => kernel.model.list(kind) as never,
    async api(p, init) {
      const r = await fetch(`${url}${p}`, init);
      return { status: r.status, body: await r.json() };
    },
    async stop() {
      kernel.stop();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * For a describe block: before it, a clean lab and XFRM SA table and sascope started in this process;
 * after it, sascope stopped and `cleanup` run. The tests reach sascope through the returned function.
 */
export function inProcessForSuite(cleanup: string): () => InProcess {
  let s: InProcess | undefined;
  before(async () => {
    requireLab();
    await cleanupAll();
    await sh('ip xfrm state flush');
    s = await startInProcess();
  });
  after(async () => {
    await s?.stop();
    await sh(cleanup, { allowFail: true });
  });
  return () => {
    if (!s) throw new Error('sascope did not start (see the before hook)');
    return s;
  };
}

/** Poll fn every 200 ms until it returns something other than undefined/false. */
export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** POST the probe (202 expected) and wait for it to settle; the finished 'crypto-probe' row. */
export async function runProbe(s: InProcess, ms = 200_000): Promise<EntityKinds['crypto-probe']> {
  const r = await s.api('/api/v1/crypto/probe', { method: 'POST' });
  if (r.status !== 202) throw new Error(`probe not started: ${r.status} ${JSON.stringify(r.body)}`);
  return until('the probe to finish', () => {
    const p = s.get('crypto-probe', 'probe');
    return p && p.state !== 'running' ? p : undefined;
  }, ms);
}

/** The highest-priority usable /proc/crypto entry of a name, computed by a separate awk reading of the file. */
export function highestDriver(name: string, types: string): string {
  return execFileSync('bash', ['-c', HIGHEST_DRIVER_AWK, '_', name, types], { encoding: 'utf8' }).trim();
}

const HIGHEST_DRIVER_AWK = `awk -v want="$1" -v types="$2" '
  BEGIN { RS=""; FS="\\n" }
  { n=""; d=""; p=-1; i="no"; t=""; s="";
    for (k = 1; k <= NF; k++) { split($k, kv, /[ \\t]*: /); gsub(/[ \\t]+$/, "", kv[1]);
      if (kv[1] == "name") n = kv[2]; else if (kv[1] == "driver") d = kv[2]; else if (kv[1] == "priority") p = kv[2] + 0;
      else if (kv[1] == "internal") i = kv[2]; else if (kv[1] == "type") t = kv[2]; else if (kv[1] == "selftest") s = kv[2]; }
    if (n == want && i == "no" && s != "failed" && index(" " types " ", " " t " ") && p > best) { best = p; bd = d } }
  END { print bd }' /proc/crypto`;

export const SA_KEYS = {
  gcm: () => `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(20))).toString('hex')}`,
  aes128: () => `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex')}`,
  sha256: () => `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')}`,
};

/** An rfc4106(gcm(aes)) transport SA and a cbc(aes)+hmac(sha256) tunnel SA in the current netns. */
export function addEspSasCommand(base = 0x8100): string {
  return [
    `ip xfrm state add src 10.77.0.1 dst 10.77.0.2 proto esp spi ${base} mode transport aead 'rfc4106(gcm(aes))' ${SA_KEYS.gcm()} 128`,
    `ip xfrm state add src 10.77.0.1 dst 10.77.0.3 proto esp spi ${base + 1} mode tunnel enc 'cbc(aes)' ${SA_KEYS.aes128()} auth-trunc 'hmac(sha256)' ${SA_KEYS.sha256()} 128`,
  ].join(' && ');
}

// Tools for abusing a running sascope over HTTP and WebSocket (test/integration/abuse.test.ts and
// test/bench/ws-abuse.ts): raw WebSocket handshakes and frames, clients that never read, raw HTTP
// requests whose path is sent as written (fetch would normalise "..", "%2e%2e"), and the server's memory.
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** A TCP connection that has completed a WebSocket handshake on `path` (or got a refusal: `status`). */
export interface RawWs {
  socket: Socket;
  status: number;
  /** Bytes after the handshake response (server frames, unparsed); from `since` on (a length seen before). */
  received(since?: number): Buffer;
  /** Resolves when the server closed the connection (or after ms: false). */
  closed(ms: number): Promise<boolean>;
}

export function rawWs(port: number, opts: { path?: string; headers?: Record<string, string>; pauseAfterHandshake?: boolean } = {}): Promise<RawWs> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let head = Buffer.alloc(0);
    let rest: Buffer[] = [];
    let ended = false;
    const endWaiters: Array<() => void> = [];
    socket.on('close', () => {
      ended = true;
      for (const w of endWaiters.splice(0)) w();
    });
    socket.on('error', (err) => {
      if (!head.includes('\r\n\r\n')) reject(err);
    });
    const headers = {
      host: `127.0.0.1:${port}`,
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': randomBytes(16).toString('base64'),
      'sec-websocket-version': '13',
      ...opts.headers,
    };
    socket.write(`GET ${opts.path ?? '/ws'} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`);
    const onData = (d: Buffer) => {
      if (rest.length || head.includes('\r\n\r\n')) return void rest.push(d);
      head = Buffer.concat([head, d]);
      const i = head.indexOf('\r\n\r\n');
      if (i < 0) return;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head.toString('latin1'))?.[1] ?? 0);
      rest = [head.subarray(i + 4)];
      // A client that never reads: nothing is taken from the socket until resume().
      if (opts.pauseAfterHandshake) socket.pause();
      resolve({
        socket,
        status,
        received: (since = 0) => Buffer.concat(rest).subarray(since),
        closed: (ms) =>
          new Promise((res) => {
            if (ended) return res(true);
            const t = setTimeout(() => res(false), ms);
            endWaiters.push(() => {
              clearTimeout(t);
              res(true);
            });
          }),
      });
    };
    socket.on('data', onData);
  });
}

/** One client→server frame, masked as RFC 6455 requires (unless `mask: false`). */
export function frame(opcode: number, payload: Buffer, opts: { fin?: boolean; rsv?: number; mask?: boolean; declaredLength?: bigint } = {}): Buffer {
  const fin = opts.fin ?? true;
  const mask = opts.mask ?? true;
  const len = opts.declaredLength ?? BigInt(payload.length);
  const b0 = (fin ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | opcode;
  let hdr: Buffer;
  if (len < 126n) hdr = Buffer.from([b0, (mask ? 0x80 : 0) | Number(len)]);
  else if (len < 65536n) {
    hdr = Buffer.from([b0, (mask ? 0x80 : 0) | 126, 0, 0]);
    hdr.writeUInt16BE(Number(len), 2);
  } else {
    hdr = Buffer.alloc(10);
    hdr[0] = b0;
    hdr[1] = (mask ? 0x80 : 0) | 127;
    hdr.writeBigUInt64BE(len, 2);
  }
  if (!mask) return Buffer.concat([hdr, payload]);
  const key = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= key[i & 3]!;
  return Buffer.concat([hdr, key, body]);
}

/** A raw HTTP request: the path goes on the wire exactly as given. */
export function rawHttp(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string, localAddress?: string): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false, ...(localAddress ? { localAddress } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A loopback source address of its own for the n-th request of a test that sends wrong tokens on purpose:
 * the server makes an address wait after 10 wrong tokens (and then refuses its right ones too), so a
 * test about the refusals themselves spreads them over 127.0.1.0/24 and leaves 127.0.0.1 in good standing.
 */
export function guesserAddress(n: number): string {
  return `127.0.1.${(n % 250) + 1}`;
}

/** The server's resident memory now and at its peak (VmRSS, VmHWM), in MiB. */
export function memoryOf(pid: number): { rssMB: number; peakMB: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0);
  return { rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024 };
}

/** Start the server's peak (VmHWM) over from its current RSS (the kernel's clear_refs, value 5): a peak measured from a baseline, not from start-up. */
export function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** n text frames of one client's flood, message(i) each, as one buffer: written at once, as an attacker would. */
export function floodFrames(n: number, message: (i: number) => unknown): Buffer {
  return Buffer.concat(Array.from({ length: n }, (_, i) => frame(1, Buffer.from(JSON.stringify(message(i))))));
}

export interface ServerWatch {
  /** Highest RSS seen (sampled every 100 ms, and VmHWM since the baseline), MiB above the baseline. */
  peakRiseMB(): number;
  /** Health requests that got no answer within answerMs, and the slowest answer (ms). */
  unanswered: number;
  slowestMs: number;
  /** Set when RSS rose past the budget: the flood should stop (the old hub went on to OOM). */
  overBudget: boolean;
  stop(): Promise<void>;
}

/**
 * Watch a server under abuse: its RSS against a baseline taken now (peak reset), and whether it still answers
 * GET url within answerMs (one request at a time, one a second).
 */
export function watchServer(pid: number, url: string, headers: Record<string, string>, opts: { budgetMB: number; answerMs: number }): ServerWatch {
  resetPeak(pid);
  const base = memoryOf(pid).rssMB;
  let peak = base;
  let stopped = false;
  const w: ServerWatch = {
    peakRiseMB: () => Math.max(peak, memoryOf(pid).peakMB) - base,
    unanswered: 0,
    slowestMs: 0,
    overBudget: false,
    stop: async () => {
      stopped = true;
      clearInterval(sampler);
      await asking;
    },
  };
  const sampler = setInterval(() => {
    peak = Math.max(peak, memoryOf(pid).rssMB);
    if (peak - base > opts.budgetMB) w.overBudget = true;
  }, 100);
  const asking = (async () => {
    while (!stopped) {
      const t0 = Date.now();
      const ok = await fetch(url, { headers, signal: AbortSignal.timeout(opts.answerMs) }).then((r) => r.ok, () => false);
      w.slowestMs = Math.max(w.slowestMs, Date.now() - t0);
      if (!ok) w.unanswered++;
      await sleep(1000);
    }
  })();
  return w;
}

/** What one flooding client sends, message i (seq: the hub's when the flood began). */
export const FLOODS: Array<[string, (i: number, seq: number) => unknown]> = [
  ['subscribe', (i) => ({ type: 'subscribe', topics: i % 2 ? ['policy', 'sa'] : ['*'] })],
  // seq 0 is older than the ring (a snapshot each); seq - 250 is in it (250 deltas each).
  ['resume', (i, seq) => ({ type: 'resume', seq: i % 2 ? Math.max(1, seq - 250) : 0 })],
  ['subscribe and resume alternating', (i) => (i % 2 ? { type: 'subscribe', topics: ['*'] } : { type: 'resume', seq: 0 })],
];

export interface FloodResult {
  peakRiseMB: number;
  overBudget: boolean;
  slowestMs: number;
  unanswered: number;
  /** Flooders the server had let go of (closed) when the flood was over, and when that was (ms from the start). */
  letGo: number;
  tookMs: number;
}

/**
 * `clients` WebSocket clients that never read each write `messages` messages at once; over when the server has
 * let go of all of them, after 20 s, or at once when its RSS passes budgetMB over the baseline. The server is
 * watched throughout (watchServer) and 2 s after.
 */
export async function flood(server: { port: number; url: string; proc: { pid?: number } }, headers: Record<string, string>, opts: { clients: number; messages: number; message: (i: number, seq: number) => unknown; budgetMB: number; answerMs: number }): Promise<FloodResult> {
  const health = () => fetch(`${server.url}/api/v1/health`, { headers, signal: AbortSignal.timeout(opts.answerMs) }).then((r) => r.json() as Promise<{ clients: number; seq: number }>, () => undefined);
  const before = await health();
  if (!before) throw new Error('the server does not answer before the flood');
  const watch = watchServer(server.proc.pid!, `${server.url}/api/v1/health`, headers, { budgetMB: opts.budgetMB, answerMs: opts.answerMs });
  const t0 = Date.now();
  const flooders = await Promise.all(Array.from({ length: opts.clients }, () => rawWs(server.port, { headers, pauseAfterHandshake: true })));
  for (const c of flooders) c.socket.write(floodFrames(opts.messages, (i) => opts.message(i, before.seq)));
  let left = opts.clients;
  while (Date.now() - t0 < 20_000 && !watch.overBudget && left > 0) {
    await sleep(250);
    const h = await health();
    if (h) left = Math.max(0, h.clients - before.clients);
  }
  const tookMs = Date.now() - t0;
  if (!watch.overBudget) await sleep(2000); // what it does after the flood counts too
  await watch.stop();
  for (const c of flooders) c.socket.destroy();
  return { peakRiseMB: watch.peakRiseMB(), overBudget: watch.overBudget, slowestMs: watch.slowestMs, unanswered: watch.unanswered, letGo: opts.clients - left, tookMs };
}

/** Many XFRM policy changes through iproute2 (test side only): n adds then n deletes (or only one of them), `rounds` times. */
export async function policyChurn(n: number, rounds: number, only?: 'add' | 'delete'): Promise<number> {
  const sel = (i: number) => `src 10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32 dst 10.200.0.0/16 dir out`;
  const adds = Array.from({ length: n }, (_, i) => `xfrm policy add ${sel(i)} priority ${1000 + i} tmpl src 192.0.2.1 dst 192.0.2.2 proto esp mode tunnel reqid ${i + 1}`);
  const dels = Array.from({ length: n }, (_, i) => `xfrm policy delete ${sel(i)}`);
  const batch = async (lines: string[]) => {
    const p = promisify(execFile)('ip', ['-batch', '-']);
    p.child.stdin!.end(`${lines.join('\n')}\n`);
    await p;
  };
  // Adds and deletes in separate batches: a monitor overrun (ENOBUFS → re-dump) must not fold them into nothing.
  for (let r = 0; r < rounds; r++) {
    if (only !== 'delete') await batch(adds);
    if (only !== 'add') await batch(dels);
  }
  return (only ? 1 : 2) * n * rounds;
}

/** The server's text frames in a byte stream (unmasked, unfragmented: the hub never fragments), as JSON; an incomplete tail is left. */
export function serverMessages(buf: Buffer): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (let off = 0; off + 2 <= buf.length; ) {
    let len = buf[off + 1]! & 0x7f;
    let at = off + 2;
    if (len === 126) {
      if (at + 2 > buf.length) break;
      len = buf.readUInt16BE(at);
      at += 2;
    } else if (len === 127) {
      if (at + 8 > buf.length) break;
      len = Number(buf.readBigUInt64BE(at));
      at += 8;
    }
    if (at + len > buf.length) break;
    if ((buf[off]! & 0x0f) === 1) out.push(JSON.parse(buf.subarray(at, at + len).toString('utf8')) as Record<string, unknown>);
    off = at + len;
  }
  return out;
}

/**
 * Whether a client's stream is whole: a snapshot first, then deltas each continuing where the last message left
 * off (from = through + 1), or a fresh snapshot — and current at `seq` in the end. Returns why not, or undefined.
 */
export function streamProblem(msgs: Array<Record<string, unknown>>, seq: number): string | undefined {
  let through: number | undefined;
  for (const [i, m] of msgs.entries()) {
    if (m['type'] === 'snapshot') through = m['seq'] as number;
    else if (m['type'] === 'deltas') {
      if (through === undefined) return `message ${i}: deltas before any snapshot`;
      if ((m['from'] as number) > through + 1) return `message ${i}: a gap (from ${String(m['from'])} after ${through})`;
      through = m['through'] as number;
    }
  }
  if (through === undefined || through < seq) return `not current: through ${through}, the hub is at ${seq}`;
  return undefined;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

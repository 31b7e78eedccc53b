// SADB_REGISTER without stalling the event loop. Registering makes the kernel run xfrm_probe_algs(),
// which looks up every algorithm of xfrm_algo.c through the crypto API and may request_module() each
// one — all inside the sendmsg call (measured in the lab: minutes under TCG on first use). So the
// REGISTER requests run in a worker thread with a short-lived socket of their own (a registered socket
// would also receive ACQUIREs and make the kernel count us as a key manager), and only the replies'
// bytes come back. Not the libuv thread pool: a dedicated thread that ends when it is done.
import { Worker } from 'node:worker_threads';
import { SyscallError } from '../../sys/errno.ts';
import { kernelNetnsFd } from '../../sys/netns.ts';

export type RegisterReader = (satypes: number[], pid: number) => Promise<Buffer[]>;

/**
 * The worker's entry for code at moduleUrl. From the sources (tsx) it is the .mjs beside this file (it
 * loads tsx, then register-worker.ts). In the bundle (server/build.mjs) it is an entry at the bundle's root
 * (.build/register-worker.mjs), while this code sits in cli.mjs or in a chunk below it (.build/chunks/).
 */
export function registerWorkerUrl(moduleUrl: string): URL {
  const url = new URL(moduleUrl);
  const root = url.pathname.lastIndexOf('/.build/');
  if (url.pathname.endsWith('.ts') || root < 0) return new URL('./register-worker.mjs', url);
  return new URL(`${url.pathname.slice(0, root)}/.build/register-worker.mjs`, url);
}

export const readRegisterReplies: RegisterReader = (satypes, pid) =>
  new Promise((resolve, reject) => {
    // The thread starts in the main thread's own namespace: with --netns it enters the watched one first.
    const worker = new Worker(registerWorkerUrl(import.meta.url), { workerData: { satypes, pid, netnsFd: kernelNetnsFd() } });
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      reject(new Error('pfkey: register: no answer in 300 s (the kernel is still probing algorithms)'));
    }, 300_000);
    timer.unref();
    worker.unref();
    worker.once('message', (m: { replies?: string[]; error?: { message: string; errno?: number; call?: string } }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (m.replies) resolve(m.replies.map((h) => Buffer.from(h, 'hex')));
      else if (m.error?.errno !== undefined) reject(new SyscallError('pfkey', m.error.call ?? 'register', m.error.errno));
      else reject(new Error(m.error?.message ?? 'pfkey: register worker failed'));
    });
    worker.once('error', (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(err);
    });
  });

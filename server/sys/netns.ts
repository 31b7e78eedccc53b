// `--netns NAME`: watch the network namespace `ip netns add NAME` made (/run/netns/NAME, a bind-mounted
// nsfd) instead of our own. Only the kernel's side enters it: every kernel socket (netlink, PF_KEY, AF_ALG)
// is opened by setns(nsfd) → socket() → setns(home), and per-namespace /proc files (/proc/net/xfrm_stat)
// are read the same way; a socket keeps the namespace it was made in. All of it is synchronous on the main
// thread, so no other I/O runs in between: the HTTP listener, the NATS connection and their reconnects
// stay in the namespace sascope was started in (there 127.0.0.1 is the NATS server's, not the watched
// namespace's). The nsfd is kept open: the namespace lives as long as sascope, even after `ip netns del`.
// A worker thread (PF_KEY's register) enters it for good with the same fd (kernelNetnsFd).
import { closeSync, openSync, statSync, watch, constants as fsc } from 'node:fs';
import { c, lastErrno, CLONE_NEWNET } from './libc.ts';
import { SyscallError, errorCode, errorWords } from './errno.ts';

export const NETNS_RUN_DIR = '/run/netns';

/** A one-line reason the namespace cannot be entered (the CLI prints it and exits). */
export class NetnsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetnsError';
  }
}

/** The watched namespace's fd and the main thread's own (to come back to); undefined: our own namespace. */
let kernelNetns: { name: string; fd: number; home: number } | undefined;

function openNs(file: string, what: string): number {
  try {
    return openSync(file, fsc.O_RDONLY);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') throw new NetnsError(`${what} not found (no ${file}; see 'ip netns list')`);
    throw new NetnsError(`${what}: cannot open ${file}: ${errorWords(err)}`);
  }
}

/** setns(fd, CLONE_NEWNET) for the calling thread, or the errno. */
export function setThreadNetns(fd: number): number | undefined {
  return (c.setns(fd, CLONE_NEWNET) as number) < 0 ? lastErrno() : undefined;
}

/**
 * From now on kernel sockets and per-namespace /proc reads go to /run/netns/NAME. Checks at once that the
 * namespace can be entered (and left again). Throws NetnsError with a one-line reason.
 */
export function setKernelNetns(name: string, runDir = NETNS_RUN_DIR): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === '.' || name === '..') throw new NetnsError(`bad netns name '${name}'`);
  const fd = openNs(`${runDir}/${name}`, `netns '${name}'`);
  let home: number;
  try {
    home = openNs('/proc/thread-self/ns/net', 'own netns');
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  const errno = setThreadNetns(fd);
  if (errno !== undefined) {
    closeSync(fd);
    closeSync(home);
    throw new NetnsError(`netns '${name}': ${new SyscallError('netns', 'setns', errno).message.replace(/^netns: /, '')}`);
  }
  returnHome(home);
  if (kernelNetns) {
    closeSync(kernelNetns.fd);
    closeSync(kernelNetns.home);
  }
  kernelNetns = { name, fd, home };
}

function returnHome(home: number): void {
  const errno = setThreadNetns(home);
  // Staying in the watched namespace would open every later connection (HTTP, NATS) there: never go on.
  if (errno !== undefined) {
    process.stderr.write(`sascope: netns: cannot return to its own network namespace: ${new SyscallError('netns', 'setns', errno).message}\n`);
    process.exit(70);
  }
}

/** Run fn (synchronous: a socket() call, a /proc read) inside the watched namespace, if any, and come back. */
export function inKernelNetns<T>(fn: () => T): T {
  const ns = kernelNetns;
  if (!ns) return fn();
  const errno = setThreadNetns(ns.fd);
  if (errno !== undefined) throw new SyscallError('netns', `setns(${ns.name})`, errno);
  try {
    return fn();
  } finally {
    returnHome(ns.home);
  }
}

/** The watched namespace's fd (a worker thread enters it with setThreadNetns), or undefined for our own. */
export function kernelNetnsFd(): number | undefined {
  return kernelNetns?.fd;
}

/** Which namespace a /run/netns file names (nsfs device and inode), or undefined when the file is gone. */
function nsIdentity(file: string): string | undefined {
  try {
    const st = statSync(file);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * After setKernelNetns: tell once when /run/netns/NAME is deleted (`ip netns del`) or names another namespace.
 * sascope's sockets keep the entered namespace alive, so nothing else notices. inotify on the directory
 * (fs.watch), no polling.
 */
export function watchNetns(name: string, onGone: (how: 'deleted' | 'replaced') => void, runDir = NETNS_RUN_DIR): { close(): void } {
  const file = `${runDir}/${name}`;
  const entered = nsIdentity(file);
  let done = false;
  const w = watch(runDir, { persistent: false }, () => {
    if (done) return;
    const now = nsIdentity(file);
    if (now === entered) return;
    done = true;
    w.close();
    onGone(now === undefined ? 'deleted' : 'replaced');
  });
  w.on('error', () => w.close());
  return {
    close: () => {
      done = true;
      w.close();
    },
  };
}

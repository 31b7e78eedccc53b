// `--netns NAME`: move the main thread into the network namespace `ip netns add NAME` made
// (/run/netns/NAME, a bind-mounted nsfd) with setns(fd, CLONE_NEWNET), before any socket opens. Every
// kernel socket sascope opens is opened by a synchronous koffi call on the main thread, so all of them,
// and /proc/net (/proc/self/net follows the thread-group leader), then belong to that namespace.
// libuv's pool threads stay where they were; sascope opens no sockets from them.
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

export function enterNetns(name: string, runDir = NETNS_RUN_DIR): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === '.' || name === '..') throw new NetnsError(`bad netns name '${name}'`);
  const file = `${runDir}/${name}`;
  let fd: number;
  try {
    fd = openSync(file, fsc.O_RDONLY);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') throw new NetnsError(`netns '${name}' not found (no ${file}; see 'ip netns list')`);
    throw new NetnsError(`netns '${name}': cannot open ${file}: ${errorWords(err)}`);
  }
  try {
    if ((c.setns(fd, CLONE_NEWNET) as number) < 0) {
      const e = new SyscallError('netns', 'setns', lastErrno());
      throw new NetnsError(`netns '${name}': ${e.message.replace(/^netns: /, '')}`);
    }
  } finally {
    closeSync(fd);
  }
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
 * After enterNetns: tell once when /run/netns/NAME is deleted (`ip netns del`) or names another namespace.
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

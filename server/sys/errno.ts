// errno numbers to names and words, from the C library's own table (via libuv's map in node:util),
// so an error can say "EPERM (operation not permitted)" instead of "-1".
import { getSystemErrorMap } from 'node:util';

const map = getSystemErrorMap(); // key: negative errno → [name, message]

export function errnoName(errno: number): string {
  return map.get(-Math.abs(errno))?.[0] ?? `errno ${errno}`;
}

export function errnoMessage(errno: number): string {
  return map.get(-Math.abs(errno))?.[1] ?? 'unknown error';
}

export const Errno = {
  EPERM: 1, ENOENT: 2, EINTR: 4, EBADF: 9, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, EBUSY: 16,
  EEXIST: 17, ENODEV: 19, EINVAL: 22, EMSGSIZE: 90, EPROTONOSUPPORT: 93, EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97, ENOBUFS: 105, ESRCH: 3, ENOTSUP: 95,
} as const;

/** Why a call failed, said the way an operator reads it: EPERM on a netlink socket means a capability is missing. */
export function errnoHint(errno: number, call: string): string | undefined {
  switch (errno) {
    case Errno.EPERM:
    case Errno.EACCES:
      return 'needs CAP_NET_ADMIN';
    case Errno.EAFNOSUPPORT:
    case Errno.EPROTONOSUPPORT:
      return call === 'socket' ? 'address family not in this kernel' : undefined;
    case Errno.ENOBUFS:
      return call === 'recv' ? 'receive buffer overflowed, events were lost' : undefined;
    default:
      return undefined;
  }
}

/** A failed system call: which source, which call, which errno in words. */
export class SyscallError extends Error {
  readonly errno: number;
  readonly code: string;
  constructor(readonly source: string, readonly call: string, errno: number, detail?: string) {
    const code = errnoName(errno);
    const hint = errnoHint(errno, call);
    super(`${source}: ${call}: ${code} (${hint ?? errnoMessage(errno)})${detail ? `: ${detail}` : ''}`);
    this.name = 'SyscallError';
    this.errno = errno;
    this.code = code;
  }
}

/** The errno name (code) a thrown Node error carries ('ENOENT', …), if it is one: read without a cast. */
export function errorCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** What to say of a thrown value in a reason: its errno name when it has one, else its message. */
export function errorWords(err: unknown): string {
  return errorCode(err) ?? (err instanceof Error ? err.message : String(err));
}

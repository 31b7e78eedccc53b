// The C library calls sascope makes, declared once through koffi. Every function here is synchronous
// and non-blocking (the sockets are opened with SOCK_NONBLOCK): nothing runs on libuv's thread pool.
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');

export const c = {
  socket: libc.func('int socket(int domain, int type, int protocol)'),
  bind: libc.func('int bind(int fd, const void *addr, uint32_t len)'),
  getsockname: libc.func('int getsockname(int fd, void *addr, _Inout_ uint32_t *len)'),
  setsockopt: libc.func('int setsockopt(int fd, int level, int name, const void *val, uint32_t len)'),
  getsockopt: libc.func('int getsockopt(int fd, int level, int name, void *val, _Inout_ uint32_t *len)'),
  sendto: libc.func('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)'),
  recvfrom: libc.func('intptr_t recvfrom(int fd, void *buf, size_t len, int flags, void *addr, _Inout_ uint32_t *addrlen)'),
  accept: libc.func('int accept4(int fd, void *addr, void *addrlen, int flags)'),
  close: libc.func('int close(int fd)'),
  setns: libc.func('int setns(int fd, int nstype)'),
} as const;

export function lastErrno(): number {
  return koffi.errno();
}

// <sys/socket.h>, <linux/netlink.h>
export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_KEY = 15;
export const AF_NETLINK = 16;
export const AF_ALG = 38;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_SEQPACKET = 5;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_RCVBUFFORCE = 33;
export const MSG_PEEK = 0x2;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const CLONE_NEWNET = 0x40000000;

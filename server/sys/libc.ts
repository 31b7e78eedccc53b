// The C library calls sascope makes, declared once through koffi. Every function here is synchronous
// and non-blocking (the sockets are opened with SOCK_NONBLOCK): nothing runs on libuv's thread pool.
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');

// struct iovec / struct msghdr (<sys/socket.h>, x86_64/aarch64 LP64 layout: 16 and 56 bytes), for sendmsg
// with control messages (AF_ALG's ALG_SET_OP / ALG_SET_IV / ALG_SET_AEAD_ASSOCLEN). Buffers passed as
// iov_base / msg_control are handed to the kernel in place.
export const iovecType = koffi.struct('sascope_iovec', { iov_base: 'void *', iov_len: 'size_t' });
export const msghdrType = koffi.struct('sascope_msghdr', {
  msg_name: 'void *',
  msg_namelen: 'uint32_t',
  msg_iov: koffi.pointer(iovecType),
  msg_iovlen: 'size_t',
  msg_control: 'void *',
  msg_controllen: 'size_t',
  msg_flags: 'int',
});
export interface MsgHdr {
  msg_name: Buffer | null;
  msg_namelen: number;
  msg_iov: Array<{ iov_base: Buffer; iov_len: number }>;
  msg_iovlen: number;
  msg_control: Buffer | null;
  msg_controllen: number;
  msg_flags: number;
}

export const c = {
  socket: libc.func('int socket(int domain, int type, int protocol)'),
  bind: libc.func('int bind(int fd, const void *addr, uint32_t len)'),
  getsockname: libc.func('int getsockname(int fd, void *addr, _Inout_ uint32_t *len)'),
  setsockopt: libc.func('int setsockopt(int fd, int level, int name, const void *val, uint32_t len)'),
  getsockopt: libc.func('int getsockopt(int fd, int level, int name, void *val, _Inout_ uint32_t *len)'),
  sendto: libc.func('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)'),
  recvfrom: libc.func('intptr_t recvfrom(int fd, void *buf, size_t len, int flags, void *addr, _Inout_ uint32_t *addrlen)'),
  accept: libc.func('int accept4(int fd, void *addr, void *addrlen, int flags)'),
  sendmsg: libc.func('intptr_t sendmsg(int fd, const sascope_msghdr *msg, int flags)'),
  read: libc.func('intptr_t read(int fd, void *buf, size_t len)'),
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
export const MSG_MORE = 0x8000;
/** <linux/if_alg.h> */
export const SOL_ALG = 279;
export const CLONE_NEWNET = 0x40000000;

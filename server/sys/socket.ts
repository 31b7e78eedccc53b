// A non-blocking kernel socket (netlink, PF_KEY, AF_ALG): open, options, send, receive drained to
// EAGAIN under libuv's poll. Errors name the source, the call and the errno in words.
import { c, lastErrno, SOCK_CLOEXEC, SOCK_NONBLOCK, MSG_TRUNC, AF_NETLINK, SOL_SOCKET, SO_RCVBUF, SO_RCVBUFFORCE } from './libc.ts';
import { Errno, SyscallError } from './errno.ts';
import { watchReadable, type FdWatch } from './fdwatch.ts';
import { inKernelNetns } from './netns.ts';

/** Most datagrams read in one wake-up before yielding to the event loop (libuv polls level-triggered, so the rest come next tick). */
const DRAIN_BUDGET = 64;
const SOCKADDR_NL_SIZE = 12;

export interface Datagram {
  data: Buffer;
  /** Netlink sender port id (0 = the kernel); -1 for non-netlink sockets. */
  senderPort: number;
}

export class KernelSocket {
  private watch: FdWatch | undefined;
  private rbuf: Buffer;
  private readonly addrBuf = Buffer.alloc(SOCKADDR_NL_SIZE);
  private readonly addrLen = new Uint32Array(1);
  private closed = false;

  private constructor(readonly source: string, readonly fd: number, readonly domain: number, recvBufferBytes: number) {
    this.rbuf = Buffer.alloc(recvBufferBytes);
  }

  static open(source: string, domain: number, type: number, protocol: number, recvBufferBytes = 256 * 1024): KernelSocket {
    // In the watched namespace (--netns): a socket belongs to the namespace it was made in, for good.
    const fd = inKernelNetns(() => c.socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol) as number);
    if (fd < 0) throw new SyscallError(source, 'socket', lastErrno());
    return new KernelSocket(source, fd, domain, recvBufferBytes);
  }

  private fail(call: string, detail?: string): never {
    throw new SyscallError(this.source, call, lastErrno(), detail);
  }

  setInt(level: number, name: number, value: number, what = `setsockopt(${level}, ${name})`): void {
    const v = Buffer.alloc(4);
    v.writeInt32LE(value);
    if ((c.setsockopt(this.fd, level, name, v, 4) as number) < 0) this.fail(what);
  }

  getInt(level: number, name: number, what = `getsockopt(${level}, ${name})`): number {
    const v = Buffer.alloc(4);
    const len = new Uint32Array([4]);
    if ((c.getsockopt(this.fd, level, name, v, len) as number) < 0) this.fail(what);
    return v.readInt32LE();
  }

  /** Bind a netlink socket (groups = legacy bit mask) and return the port id the kernel gave it. */
  bindNetlink(groups = 0): number {
    const addr = Buffer.alloc(SOCKADDR_NL_SIZE);
    addr.writeUInt16LE(AF_NETLINK, 0);
    addr.writeUInt32LE(groups >>> 0, 8);
    if ((c.bind(this.fd, addr, SOCKADDR_NL_SIZE) as number) < 0) this.fail('bind');
    const out = Buffer.alloc(SOCKADDR_NL_SIZE);
    const len = new Uint32Array([SOCKADDR_NL_SIZE]);
    if ((c.getsockname(this.fd, out, len) as number) < 0) this.fail('getsockname');
    return out.readUInt32LE(4);
  }

  /** Bind with a raw sockaddr (AF_ALG and friends). */
  bindRaw(addr: Buffer): void {
    if ((c.bind(this.fd, addr, addr.length) as number) < 0) this.fail('bind');
  }

  /** Ask for a big receive buffer: SO_RCVBUFFORCE when privileged, else SO_RCVBUF (capped by rmem_max). Returns what the kernel granted. */
  growReceiveBuffer(bytes: number): number {
    const v = Buffer.alloc(4);
    v.writeInt32LE(bytes);
    if ((c.setsockopt(this.fd, SOL_SOCKET, SO_RCVBUFFORCE, v, 4) as number) < 0) {
      this.setInt(SOL_SOCKET, SO_RCVBUF, bytes, 'setsockopt(SO_RCVBUF)');
    }
    return this.getInt(SOL_SOCKET, SO_RCVBUF, 'getsockopt(SO_RCVBUF)');
  }

  /** Send one datagram; to the kernel (netlink port 0) for netlink sockets. */
  send(buf: Buffer): void {
    let n: number;
    if (this.domain === AF_NETLINK) {
      const to = Buffer.alloc(SOCKADDR_NL_SIZE);
      to.writeUInt16LE(AF_NETLINK, 0);
      n = Number(c.sendto(this.fd, buf, buf.length, 0, to, SOCKADDR_NL_SIZE));
    } else {
      n = Number(c.sendto(this.fd, buf, buf.length, 0, null, 0));
    }
    if (n < 0) this.fail('send');
    if (n !== buf.length) throw new SyscallError(this.source, 'send', Errno.EMSGSIZE, `short write ${n}/${buf.length}`);
  }

  /** One datagram, or null when the socket is drained (EAGAIN). Throws SyscallError (e.g. ENOBUFS). */
  recv(): Datagram | null {
    for (;;) {
      this.addrLen[0] = SOCKADDR_NL_SIZE;
      this.addrBuf.fill(0);
      const n = Number(c.recvfrom(this.fd, this.rbuf, this.rbuf.length, MSG_TRUNC, this.addrBuf, this.addrLen));
      if (n < 0) {
        const e = lastErrno();
        if (e === Errno.EAGAIN) return null;
        if (e === Errno.EINTR) continue;
        throw new SyscallError(this.source, 'recv', e);
      }
      if (n > this.rbuf.length) {
        // MSG_TRUNC returned the real size: that datagram is lost. Grow for the next one and say so.
        const lost = n;
        this.rbuf = Buffer.alloc(Math.min(Math.max(lost, this.rbuf.length * 2), 16 * 1024 * 1024));
        throw new SyscallError(this.source, 'recv', Errno.EMSGSIZE, `datagram of ${lost} bytes truncated`);
      }
      // Copy out: decoded messages must never alias the reused receive buffer.
      const data = Buffer.from(this.rbuf.subarray(0, n));
      const senderPort = this.domain === AF_NETLINK ? this.addrBuf.readUInt32LE(4) : -1;
      return { data, senderPort };
    }
  }

  /** Watch the socket: each wake-up drains up to DRAIN_BUDGET datagrams (the rest on the next wake-up, level-triggered). */
  onReadable(onDatagram: (d: Datagram) => void, onError: (err: unknown) => void): void {
    if (this.watch) throw new Error(`${this.source}: socket already watched`);
    // One drain for both wake-ups and drain(): up to `budget` datagrams (the rest come on the next
    // wake-up, libuv polls level-triggered); ENOBUFS (events lost) and truncation are reported and
    // draining goes on; anything else stops it.
    this.drainNow = (budget = DRAIN_BUDGET) => {
      for (let i = 0; i < budget; i++) {
        let d: Datagram | null;
        try {
          d = this.recv();
        } catch (err) {
          onError(err);
          if (err instanceof SyscallError && (err.errno === Errno.ENOBUFS || err.errno === Errno.EMSGSIZE)) continue;
          return;
        }
        if (!d) return;
        onDatagram(d);
      }
    };
    const drain = this.drainNow;
    this.watch = watchReadable(this.fd, () => drain(DRAIN_BUDGET), onError);
  }

  private drainNow: ((budget?: number) => void) | undefined;

  /**
   * Read what is already waiting, now, through the watch's handlers. A timer that fires after the
   * event loop was blocked (libuv runs timers before polling) calls this first, so an answer that did
   * arrive in time is not mistaken for none.
   */
  drain(): void {
    if (!this.closed) this.drainNow?.(1 << 16);
  }

  unref(): void {
    this.watch?.unref();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watch?.close(); // the libuv handle goes before the fd
    this.watch = undefined;
    c.close(this.fd);
  }
}

// The request engine: sequence numbers, multi-part dumps, ACKs and extended ACKs, NLM_F_DUMP_INTR
// retries. It sits on a Transport so tests can drive it with a fake socket (test/unit/netlink/fake.ts)
// and production with a KernelSocket.
import { KernelSocket, type Datagram } from '../sys/socket.ts';
import { AF_NETLINK, SOCK_RAW } from '../sys/libc.ts';
import { Errno } from '../sys/errno.ts';
import {
  NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN,
  NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_MULTI, NLM_F_REQUEST, SOL_NETLINK,
} from './constants.ts';
import { DecodeError, DumpInterruptedError, NetlinkError } from './errors.ts';
import { encodeMessage, parseDoneExtack, parseError, parseMessages, type NetlinkMessage } from './message.ts';

export interface Transport {
  readonly portId: number;
  send(buf: Buffer): void;
  start(onDatagram: (d: Datagram) => void, onError: (err: unknown) => void): void;
  /** Process what is already waiting (before a timeout is declared). */
  drain?(): void;
  close(): void;
}

/** A request/reply netlink socket: CAP_ACK, EXT_ACK and strict checking on, as YNL and mdlayher do. */
export function openNetlinkTransport(source: string, protocol: number): Transport {
  const sock = KernelSocket.open(source, AF_NETLINK, SOCK_RAW, protocol);
  try {
    const portId = sock.bindNetlink(0);
    sock.setInt(SOL_NETLINK, NETLINK_CAP_ACK, 1, 'setsockopt(NETLINK_CAP_ACK)');
    sock.setInt(SOL_NETLINK, NETLINK_EXT_ACK, 1, 'setsockopt(NETLINK_EXT_ACK)');
    try {
      sock.setInt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1);
    } catch {
      // older kernels lack strict checking; requests still work
    }
    return {
      portId,
      send: (b) => sock.send(b),
      start: (onD, onE) => sock.onReadable(onD, onE),
      drain: () => sock.drain(),
      close: () => sock.close(),
    };
  } catch (err) {
    sock.close();
    throw err;
  }
}

interface Pending {
  op: string;
  dump: boolean;
  parts: NetlinkMessage[];
  /** When the kernel last answered it (performance.now()): the timeout counts silence, not the whole request. */
  heard: number;
  interrupted: boolean;
  timer: NodeJS.Timeout;
  resolve: (msgs: NetlinkMessage[]) => void;
  reject: (err: Error) => void;
}

export interface RequestOptions {
  /** What the request is, for errors: "dump SAs". */
  op: string;
  /** How long the kernel may stay silent (default 10 s): each part of a dump restarts the clock, so a dump of 100k SAs over minutes of a slow VM does not time out while it flows. */
  timeoutMs?: number;
}

export class NetlinkConnection {
  private seq = (Math.random() * 0x7fffffff) >>> 0;
  private readonly pending = new Map<number, Pending>();
  private started = false;
  /** Datagrams from a port other than the kernel's, ignored. */
  foreignDatagrams = 0;

  constructor(readonly source: string, private readonly transport: Transport) {}

  private ensureStarted(): void {
    if (this.started) return;
    this.started = true;
    this.transport.start(
      (d) => this.onDatagram(d),
      (err) => this.failAll(err instanceof Error ? err : new Error(String(err))),
    );
  }

  private failAll(err: Error): void {
    for (const [seq, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(seq);
      p.reject(err);
    }
  }

  /** When the datagram being handled came (performance.now()), for Pending.heard. */
  private datagramAt = 0;

  private onDatagram(d: Datagram): void {
    this.datagramAt = performance.now();
    if (d.senderPort !== 0) {
      this.foreignDatagrams++;
      return;
    }
    let msgs: NetlinkMessage[];
    try {
      msgs = parseMessages(d.data, `${this.source} reply`);
    } catch (err) {
      // The framing is broken: no later byte of this datagram can be attributed. Fail what waits;
      // the next request starts clean.
      this.failAll(err as DecodeError);
      return;
    }
    for (const m of msgs) this.onMessage(m);
  }

  private settle(seq: number, p: Pending, err?: Error): void {
    clearTimeout(p.timer);
    this.pending.delete(seq);
    if (err) p.reject(err);
    else if (p.interrupted) p.reject(new DumpInterruptedError(this.source, p.op));
    else p.resolve(p.parts);
  }

  private onMessage(m: NetlinkMessage): void {
    const p = this.pending.get(m.seq);
    if (!p) return; // a late part of a request that already failed or timed out
    if (m.flags & NLM_F_DUMP_INTR) p.interrupted = true;
    switch (m.type) {
      case NLMSG_NOOP:
      case NLMSG_OVERRUN:
        return;
      case NLMSG_ERROR: {
        let e;
        try {
          e = parseError(m, `${this.source} ${p.op}`);
        } catch (err) {
          this.settle(m.seq, p, err as Error);
          return;
        }
        if (e.errno === 0) this.settle(m.seq, p);
        else this.settle(m.seq, p, new NetlinkError(this.source, p.op, e.errno, e.extack));
        return;
      }
      case NLMSG_DONE: {
        // A dump that failed part-way puts a negative errno in DONE's payload, and (NLM_F_ACK_TLVS)
        // the kernel's extack after it.
        const err = m.payload.length >= 4 ? m.payload.readInt32LE(0) : 0;
        if (err < 0) this.settle(m.seq, p, new NetlinkError(this.source, p.op, -err, parseDoneExtack(m)));
        else this.settle(m.seq, p);
        return;
      }
      default:
        p.parts.push(m);
        p.heard = this.datagramAt;
        // A plain reply to a request without ACK would end here; we always ask for an ACK on do-requests.
        if (!p.dump && !(m.flags & NLM_F_MULTI)) return;
    }
  }

  /** Send one request; resolves with every reply message (for a dump: all parts until NLMSG_DONE). */
  request(type: number, payload: Buffer, flags: number, opts: RequestOptions): Promise<NetlinkMessage[]> {
    this.ensureStarted();
    const seq = (this.seq = (this.seq + 1) >>> 0 || 1);
    const dump = (flags & NLM_F_DUMP) === NLM_F_DUMP;
    const msg = encodeMessage(type, flags | NLM_F_REQUEST | (dump ? 0 : NLM_F_ACK), seq, payload, this.transport.portId);
    const silenceMs = opts.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const check = () => {
        // After a long block of the event loop the answer may be waiting unread: read it first. A failed read
        // (ENOBUFS: replies were lost) fails every request, as on the readable path; never a throw from a timer.
        try {
          this.transport.drain?.();
        } catch (err) {
          this.failAll(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        const p = this.pending.get(seq);
        if (!p) return;
        const quiet = performance.now() - p.heard;
        if (quiet < silenceMs) {
          p.timer = setTimeout(check, silenceMs - quiet); // the kernel answered meanwhile: count from its last part
          p.timer.unref();
          return;
        }
        const after = p.parts.length ? ` after ${p.parts.length} of its messages` : '';
        this.settle(seq, p, new NetlinkError(this.source, opts.op, 110 /* ETIMEDOUT */, { message: `no answer in ${silenceMs} ms${after}` }));
      };
      const timer = setTimeout(check, silenceMs);
      timer.unref();
      this.pending.set(seq, { op: opts.op, dump, parts: [], heard: performance.now(), interrupted: false, timer, resolve, reject });
      try {
        this.transport.send(msg);
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(seq);
        reject(err);
      }
    });
  }

  /** A dump, retried when the kernel marks it interrupted (NLM_F_DUMP_INTR). */
  async dump(type: number, payload: Buffer, opts: RequestOptions & { retries?: number }): Promise<NetlinkMessage[]> {
    const retries = opts.retries ?? 5;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.request(type, payload, NLM_F_DUMP, opts);
      } catch (err) {
        if (err instanceof DumpInterruptedError && attempt < retries) continue;
        throw err;
      }
    }
  }

  /** A do-request with ACK. */
  async do(type: number, payload: Buffer, opts: RequestOptions, flags = 0): Promise<NetlinkMessage[]> {
    return this.request(type, payload, flags, opts);
  }

  close(): void {
    this.failAll(new NetlinkError(this.source, 'close', Errno.EBADF, { message: 'connection closed' }));
    this.transport.close();
  }
}

// PF_KEY request engine over one socket. PF_KEY has no ports and no ACK framing: a reply is a message
// of the request's type with our sadb_msg_pid (and, except for dumps, our sadb_msg_seq); an error is
// the request's header echoed with sadb_msg_errno set. The same socket also receives every broadcast
// the kernel sends to all PF_KEY sockets (ADD/DELETE/FLUSH notifications of other processes): those do
// not carry our pid+seq and are ignored here — the PROMISC monitor (monitor.ts) is the events path.
// Requests are serialized: the kernel allows one dump per socket at a time (EBUSY otherwise), and one
// request in flight makes every reply unambiguous.
import { KernelSocket, type Datagram } from '../../sys/socket.ts';
import { AF_KEY, SOCK_RAW } from '../../sys/libc.ts';
import { Errno, errnoHint, errnoMessage, errnoName } from '../../sys/errno.ts';
import { decodeSadbMessage, encodeSadbMessage, type SadbExtensions, type SadbMessage } from './message.ts';
import { PF_KEY_V2, SADB, SADB_NAME } from './spec.ts';

/** The socket below the engine: a KernelSocket in production, a fake in unit tests. */
export interface PfkeyTransport {
  send(buf: Buffer): void;
  start(onDatagram: (d: Datagram) => void, onError: (err: unknown) => void): void;
  close(): void;
}

/** socket(AF_KEY, SOCK_RAW, PF_KEY_V2), non-blocking, watched by libuv poll. Throws SyscallError
 * (EAFNOSUPPORT without af_key, EPERM without CAP_NET_ADMIN). */
export function openPfkeySocket(source: string, receiveBufferBytes?: number): KernelSocket {
  const sock = KernelSocket.open(source, AF_KEY, SOCK_RAW, PF_KEY_V2);
  if (receiveBufferBytes) {
    try {
      sock.growReceiveBuffer(receiveBufferBytes);
    } catch (err) {
      sock.close();
      throw err;
    }
  }
  return sock;
}

export function openPfkeyTransport(source: string, receiveBufferBytes = 4 * 1024 * 1024): PfkeyTransport {
  const sock = openPfkeySocket(source, receiveBufferBytes);
  return { send: (b) => sock.send(b), start: (d, e) => sock.onReadable(d, e), close: () => sock.close() };
}

/** The kernel answered a PF_KEY request with sadb_msg_errno set. */
export class PfkeyError extends Error {
  readonly code: string;
  constructor(readonly source: string, readonly op: string, readonly errno: number) {
    const code = errnoName(errno);
    super(`${source}: ${op}: ${code} (${errnoHint(errno, op) ?? errnoMessage(errno)})`);
    this.name = 'PfkeyError';
    this.code = code;
  }
}

export interface PfkeyRequest {
  type: number;
  satype?: number;
  ext?: SadbExtensions;
  /** What the request is, for errors: "dump SAs". */
  op: string;
  /** How long the kernel may stay silent: since the request, and for a dump since its last reply (default 5000 ms, a dump 30000 ms). */
  timeoutMs?: number;
}

export interface DumpResult {
  messages: SadbMessage[];
  /** The kernel stopped the walk early and said why in the last message (e.g. an SA it cannot express). */
  endErrno?: number;
}

interface Pending {
  req: PfkeyRequest;
  seq: number;
  dump: boolean;
  parts: SadbMessage[];
  timer: NodeJS.Timeout;
  resolve: (r: DumpResult) => void;
  reject: (err: Error) => void;
}

export class PfkeyConnection {
  private seq = (Math.random() * 0x7fffffff) >>> 0;
  private pending: Pending | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private started = false;
  private closed = false;
  /** Datagrams that were not a reply to us (broadcasts), ignored. */
  broadcastsIgnored = 0;
  /** Datagrams that did not decode; reported through onDecodeError. */
  decodeErrors = 0;

  /** pid: what goes in sadb_msg_pid and identifies our replies (the PROMISC monitor skips it too). */
  constructor(
    readonly source: string,
    private readonly transport: PfkeyTransport,
    readonly pid: number = process.pid,
    private readonly onDecodeError: (err: unknown) => void = () => undefined,
  ) {}

  private ensureStarted(): void {
    if (this.started) return;
    this.started = true;
    this.transport.start(
      (d) => this.onDatagram(d),
      (err) => {
        // ENOBUFS/EMSGSIZE on a PF_KEY request socket: a reply may be lost; fail what waits.
        this.fail(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  private fail(err: Error): void {
    const p = this.pending;
    if (!p) return;
    clearTimeout(p.timer);
    this.pending = undefined;
    p.reject(err);
  }

  private onDatagram(d: Datagram): void {
    let m: SadbMessage;
    try {
      m = decodeSadbMessage(d.data, `${this.source} reply`);
    } catch (err) {
      this.decodeErrors++;
      // A reply to us we cannot read: fail the request rather than wait for its timeout.
      if (this.pending && d.data.length >= 16 && d.data.readUInt32LE(12) === this.pid && d.data[1] === this.pending.req.type) {
        this.fail(err instanceof Error ? err : new Error(String(err)));
      } else {
        this.onDecodeError(err);
      }
      return;
    }
    const p = this.pending;
    const h = m.header;
    if (!p || h.pid !== this.pid || h.type !== p.req.type || (!p.dump && h.seq !== p.seq)) {
      this.broadcastsIgnored++;
      return;
    }
    if (p.dump) {
      // Dump replies count up from 1 and the last one has seq 0 (pfkey_do_dump). An error before any SA
      // (ENOENT = nothing to dump) comes as our header echoed with errno set.
      if (h.errno !== 0 && h.len === 2) {
        this.settle(p, h.errno === Errno.ENOENT ? undefined : new PfkeyError(this.source, p.req.op, h.errno));
        return;
      }
      p.parts.push(m);
      if (h.seq === 0) this.settle(p, undefined, h.errno || undefined);
      else p.timer.refresh();
      return;
    }
    if (h.errno !== 0) {
      this.settle(p, new PfkeyError(this.source, p.req.op, h.errno));
      return;
    }
    p.parts.push(m);
    this.settle(p);
  }

  private settle(p: Pending, err?: Error, endErrno?: number): void {
    clearTimeout(p.timer);
    if (this.pending === p) this.pending = undefined;
    if (err) p.reject(err);
    // pfkey_do_dump stores a negative rc in the u8 errno of the last message: 234 is -EINVAL.
    else p.resolve(endErrno === undefined ? { messages: p.parts } : { messages: p.parts, endErrno: endErrno > 127 ? 256 - endErrno : endErrno });
  }

  private run(req: PfkeyRequest, dump: boolean): Promise<DumpResult> {
    const go = () =>
      new Promise<DumpResult>((resolve, reject) => {
        if (this.closed) return reject(new Error(`${this.source}: ${req.op}: connection closed`));
        this.ensureStarted();
        this.seq = (this.seq + 1) >>> 0 || 1;
        const seq = this.seq;
        // A timeout for silence, not for the whole request: a dump of 100k SAs comes in thousands of
        // messages over many seconds, and each one restarts the clock (onDatagram refreshes the timer).
        const silenceMs = req.timeoutMs ?? (dump ? 30_000 : 5000);
        const timer = setTimeout(() => {
          const p = this.pending;
          if (p?.seq !== seq) return;
          // Timers run before the loop reads its sockets: after a long busy stretch the kernel's next reply
          // may be waiting unread. Judge after this turn's reads (a reply in them refreshed the timer).
          const parts = p.parts.length;
          setImmediate(() => {
            if (this.pending !== p || p.parts.length !== parts) return;
            const after = parts ? ` after ${parts} of its messages` : '';
            this.fail(new Error(`${this.source}: ${req.op}: no reply from the kernel for ${silenceMs} ms${after}`));
          });
        }, silenceMs);
        this.pending = { req, seq, dump, parts: [], timer, resolve, reject };
        try {
          this.transport.send(encodeSadbMessage({ type: req.type, satype: req.satype ?? 0, seq, pid: this.pid }, req.ext));
        } catch (err) {
          this.fail(err instanceof Error ? err : new Error(String(err)));
        }
      });
    const p = this.chain.then(go, go);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** One request, one reply message (GET, SPDGET, REGISTER, PROMISC). Rejects with PfkeyError on errno. */
  async request(req: PfkeyRequest): Promise<SadbMessage> {
    const r = await this.run(req, false);
    return r.messages[0]!;
  }

  /** SADB_DUMP or SADB_X_SPDDUMP: every reply until the one with seq 0; ENOENT gives an empty list. */
  dump(req: PfkeyRequest): Promise<DumpResult> {
    return this.run(req, true);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fail(new Error(`${this.source}: connection closed`));
    this.transport.close();
  }
}

export const dumpOp = (type: number): string => (type === SADB.DUMP ? 'dump SAs' : type === SADB.X_SPDDUMP ? 'dump policies' : `${SADB_NAME[type]}`);

// A VICI client on charon's unix socket. Node's net.Socket on a unix path is non-blocking and woken by
// libuv, so no koffi here. VICI has no sequence numbers: one exchange (a command, an event registration) at a
// time per connection, the rest queued. Events may arrive at any time, also between a command's request and
// its response; a streamed command (list-sas, list-conns) sends its rows as events of one name before its
// response, and those go to the command, not to onEvent. An exchange without an answer in timeoutMs leaves
// the stream in an unknown place (a late answer would be taken for the next one's), so the connection is
// closed; so is it after a length beyond 512 KiB (the stream has no other framing). A packet that does not
// decode is refused alone: the length framing still holds.
import net from 'node:net';
import { errorCode } from '../../sys/errno.ts';
import { DecodeError } from '../../netlink/errors.ts';
import { decodePacket, encodePacket, PACKET_TYPE, SegmentReader, type EncodableSection, type ViciSection } from './spec.ts';

export const DEFAULT_VICI_SOCKET = '/var/run/charon.vici';

/** A VICI failure: the operation, an errno name or what went wrong, in words. */
export class ViciError extends Error {
  constructor(
    readonly op: string,
    /** An errno name (EACCES, ENOENT, ECONNREFUSED …), or 'timeout', 'closed', 'unknown-command', 'protocol', 'failed'. */
    readonly code: string,
    words: string,
  ) {
    super(`vici: ${op}: ${words}`);
    this.name = 'ViciError';
  }
}

/** What a connect error means for charon's socket, in words. */
export function connectWords(path: string, code: string | undefined, message: string): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return `${code} (permission denied: charon's VICI socket ${path} is open to its owner and group only — put sascope's user in charon's group: charon.group in strongswan.conf, SupplementaryGroups= in sascope's unit; docs/install.md)`;
    case 'ENOENT':
      return `ENOENT (no socket at ${path}: charon is not running, or its vici plugin is not loaded)`;
    case 'ECONNREFUSED':
      return `ECONNREFUSED (nothing listens on ${path}: charon is not running)`;
    case 'ENOTSOCK':
    case 'ENOTDIR':
      return `${code} (${path} is not a unix socket)`;
    default:
      return code ? `${code} (${message})` : message;
  }
}

export interface ViciClientOptions {
  path?: string;
  /** Longest wait for one exchange's answer (a streamed command's rows included). */
  timeoutMs?: number;
  /** An event no exchange is streaming. */
  onEvent?: (name: string, message: ViciSection) => void;
  /** An event that did not decode (the connection goes on). */
  onDecodeError?: (err: DecodeError, what: string) => void;
  /** The connection ended (charon closed it or died, a timeout, a protocol error, or close()). */
  onClose?: (err: ViciError) => void;
}

interface Exchange {
  op: string;
  packet: Buffer;
  /** 'command': CMD_RESPONSE / CMD_UNKNOWN answer it; 'event': EVENT_CONFIRM / EVENT_UNKNOWN. */
  kind: 'command' | 'event';
  /** The event name a streamed command's rows come as. */
  stream?: string;
  streamed: ViciSection[];
  resolve(v: { message?: ViciSection; confirmed: boolean; streamed: ViciSection[] }): void;
  reject(err: Error): void;
}

export class ViciClient {
  readonly path: string;
  private readonly timeoutMs: number;
  private readonly queue: Exchange[] = [];
  private readonly reader = new SegmentReader();
  private timer: NodeJS.Timeout | undefined;
  private ended: ViciError | undefined;

  private constructor(private readonly socket: net.Socket, private readonly opts: ViciClientOptions) {
    this.path = opts.path ?? DEFAULT_VICI_SOCKET;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (err) => {
      const code = errorCode(err);
      // A write or read that finds charon gone (it stopped or died between two exchanges) is the connection's close.
      if (code === 'EPIPE' || code === 'ECONNRESET') this.end(new ViciError('connection', 'closed', `charon closed the connection (${code})`));
      else this.end(new ViciError('connection', code ?? 'failed', connectWords(this.path, code, err.message)));
    });
    socket.on('close', () => this.end(new ViciError('connection', 'closed', this.reader.pending ? 'charon closed the connection in the middle of a packet' : 'charon closed the connection')));
  }

  /** Connect to charon's socket; rejects with a ViciError naming the errno in words. */
  static connect(opts: ViciClientOptions = {}): Promise<ViciClient> {
    const path = opts.path ?? DEFAULT_VICI_SOCKET;
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ path });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ViciError(`connect ${path}`, 'timeout', `no connection in ${opts.timeoutMs ?? 10_000} ms`));
      }, opts.timeoutMs ?? 10_000);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new ViciError(`connect ${path}`, errorCode(err) ?? 'failed', connectWords(path, errorCode(err), err.message)));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new ViciClient(socket, opts));
      });
    });
  }

  /** A command; `stream` names the event its rows come as (list-sas: list-sa), registered beforehand. */
  async command(name: string, args: EncodableSection = {}, stream?: string): Promise<{ response: ViciSection; streamed: ViciSection[] }> {
    const r = await this.exchange({ op: name, packet: encodePacket('CMD_REQUEST', name, args), kind: 'command', stream });
    return { response: r.message ?? {}, streamed: r.streamed };
  }

  /** Register for an event: true when charon confirmed, false when it has no such event (EVENT_UNKNOWN: a state, not an error). */
  async register(event: string): Promise<boolean> {
    return (await this.exchange({ op: `register ${event}`, packet: encodePacket('EVENT_REGISTER', event), kind: 'event' })).confirmed;
  }

  async unregister(event: string): Promise<boolean> {
    return (await this.exchange({ op: `unregister ${event}`, packet: encodePacket('EVENT_UNREGISTER', event), kind: 'event' })).confirmed;
  }

  close(): void {
    this.end(new ViciError('connection', 'closed', 'closed by sascope'));
  }

  get closed(): boolean {
    return this.ended !== undefined;
  }

  private exchange(e: Omit<Exchange, 'streamed' | 'resolve' | 'reject'>): Promise<{ message?: ViciSection; confirmed: boolean; streamed: ViciSection[] }> {
    if (this.ended) return Promise.reject(new ViciError(e.op, this.ended.code, this.ended.message.replace(/^vici: connection: /, '')));
    return new Promise((resolve, reject) => {
      this.queue.push({ ...e, streamed: [], resolve, reject });
      if (this.queue.length === 1) this.sendHead();
    });
  }

  private sendHead(): void {
    const head = this.queue[0];
    if (!head || this.ended) return;
    this.socket.write(head.packet);
    this.timer = setTimeout(() => this.end(new ViciError(head.op, 'timeout', `no answer in ${this.timeoutMs} ms (charon busy or hung); connection closed`)), this.timeoutMs);
  }

  /** The head exchange is answered: the next one goes out. */
  private settle(fn: (e: Exchange) => void): void {
    clearTimeout(this.timer);
    const e = this.queue.shift()!;
    fn(e);
    this.sendHead();
  }

  private onData(chunk: Buffer): void {
    let segments: Buffer[];
    try {
      segments = this.reader.push(chunk);
    } catch (err) {
      return this.end(new ViciError('read', 'protocol', err instanceof Error ? err.message : String(err)));
    }
    for (const seg of segments) {
      if (this.ended) return;
      this.onSegment(seg);
    }
  }

  private onSegment(seg: Buffer): void {
    const head = this.queue[0];
    let p;
    try {
      p = decodePacket(seg, 'vici packet');
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      // An event that does not decode is only that event; an answer that does not decode fails its exchange.
      if (seg[0] === PACKET_TYPE.EVENT || !head) this.opts.onDecodeError?.(err, 'event');
      else this.settle((e) => e.reject(err));
      return;
    }
    if (p.type === 'EVENT') {
      if (head?.stream !== undefined && head.stream === p.name) head.streamed.push(p.message!);
      else this.opts.onEvent?.(p.name!, p.message!);
      return;
    }
    const answers = p.type === 'CMD_RESPONSE' || p.type === 'CMD_UNKNOWN' ? 'command' : p.type === 'EVENT_CONFIRM' || p.type === 'EVENT_UNKNOWN' ? 'event' : undefined;
    if (!head || answers !== head.kind) {
      return this.end(new ViciError('read', 'protocol', `${p.type} from charon while ${head ? `${head.op} waits for its answer` : 'nothing was asked'}`));
    }
    if (p.type === 'CMD_UNKNOWN') this.settle((e) => e.reject(new ViciError(e.op, 'unknown-command', 'charon does not know this command (CMD_UNKNOWN)')));
    else this.settle((e) => e.resolve({ message: p.message, confirmed: p.type !== 'EVENT_UNKNOWN', streamed: e.streamed }));
  }

  /** The connection is over: every waiting exchange fails with why, once. */
  private end(err: ViciError): void {
    if (this.ended) return;
    this.ended = err;
    clearTimeout(this.timer);
    this.socket.destroy();
    for (const e of this.queue.splice(0)) e.reject(new ViciError(e.op, err.code, err.message.replace(/^vici: [^:]+: /, '')));
    this.opts.onClose?.(err);
  }
}

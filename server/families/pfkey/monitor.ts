// The PROMISC monitor: its own PF_KEY socket switched to promiscuous mode with SADB_X_PROMISC
// (satype 1, a bare 16-byte header). What Linux delivers to such a socket (af_key.c, checked in the lab):
//  - every message any process sends, as sent (pfkey_process: BROADCAST_PROMISC_ONLY, before parsing) —
//    so user requests arrive including their key extensions; the decoder keeps only key lengths;
//  - every message the kernel sends to any PF_KEY socket, replies to other sockets included
//    (pfkey_broadcast: "if (pfk->promisc) pfkey_broadcast_one(...)").
// Linux does NOT wrap them in a SADB_X_PROMISC header (the KAME/BSD behaviour): each arrives as is.
// A broadcast meant for everyone reaches a promiscuous socket twice in a row ("you receive it twice as
// promiscuous socket"); identical consecutive datagrams are therefore collapsed into one.
// Our own traffic (sadb_msg_pid = our pid: dumps, GETs, this socket's PROMISC switch) is skipped, so
// dumps and events never mix. PF_KEY has no overrun signal: a full receive buffer drops silently
// (pfkey_broadcast_one returns -ENOBUFS to nobody), hence the large buffer.
// Datagrams are read at once (the socket is drained) but handled a moment later (setImmediate): a
// strongSwan rekey wakes the XFRM and PF_KEY sockets in the same poll phase, and the XFRM deltas — the
// product's live view — must reach clients before the PF_KEY mirror of the same change is decoded and
// looked up (the lab's profile: ~50 ms of PF_KEY work under emulation sat between NEWSA and its delta).
import type { KernelSocket } from '../../sys/socket.ts';
import { encodeSadbMessage, decodeSadbMessage, type SadbMessage } from './message.ts';
import { openPfkeySocket } from './conn.ts';
import { SADB } from './spec.ts';

export interface PromiscHandlers {
  onMessage(m: SadbMessage): void;
  /** A datagram that did not decode (DecodeError); the monitor keeps running. */
  onError(err: unknown): void;
}

export interface PromiscMonitor {
  /** Our own messages skipped, and duplicate deliveries collapsed. */
  readonly counters: { own: number; duplicates: number; delivered: number };
  close(): void;
}

export interface PromiscOptions {
  source: string;
  /** sadb_msg_pid of our own requests, skipped. */
  ownPid: number;
  receiveBufferBytes?: number;
  /** Test seam: a socket-like object in place of a real PF_KEY socket. */
  socket?: Pick<KernelSocket, 'send' | 'onReadable' | 'close'>;
}

export function openPromiscMonitor(opts: PromiscOptions, h: PromiscHandlers): PromiscMonitor {
  const sock = opts.socket ?? openPfkeySocket(opts.source, opts.receiveBufferBytes ?? 8 * 1024 * 1024);
  const counters = { own: 0, duplicates: 0, delivered: 0 };
  let previous: Buffer | undefined;
  let queue: Buffer[] = [];
  let closed = false;
  const handle = (data: Buffer) => {
    if (previous && previous.equals(data)) {
      counters.duplicates++;
      previous = undefined; // a third identical copy is a new message
      return;
    }
    previous = data;
    if (data.length >= 16 && data.readUInt32LE(12) === opts.ownPid) {
      counters.own++;
      return;
    }
    let m: SadbMessage;
    try {
      m = decodeSadbMessage(data, `${opts.source} promisc`);
    } catch (err) {
      h.onError(err);
      return;
    }
    counters.delivered++;
    h.onMessage(m);
  };
  const handleQueued = () => {
    const batch = queue;
    queue = [];
    if (!closed) for (const d of batch) handle(d);
  };
  try {
    sock.onReadable(
      (d) => {
        if (queue.push(d.data) === 1) setImmediate(handleQueued);
      },
      (err) => h.onError(err),
    );
    // satype 1 = on (pfkey_promisc: only a bare header switches the mode; 0 switches it off).
    sock.send(encodeSadbMessage({ type: SADB.X_PROMISC, satype: 1, seq: 1, pid: opts.ownPid }));
  } catch (err) {
    sock.close();
    throw err;
  }
  return {
    counters,
    close: () => {
      closed = true;
      sock.close();
    },
  };
}

// A fake netlink transport below the request engine (the nltest/genltest idea): a test is a function
// from the request to the replies. Multi-part replies arrive split over two datagrams, so the engine's
// many-reads path is always exercised. No privileges, no kernel.
import type { Transport } from '../../../server/netlink/conn.ts';
import type { Datagram } from '../../../server/sys/socket.ts';
import { encodeMessage, parseMessages, type NetlinkMessage } from '../../../server/netlink/message.ts';
import { NLMSG_DONE, NLMSG_ERROR, NLM_F_MULTI } from '../../../server/netlink/constants.ts';

export type FakeHandler = (req: NetlinkMessage) => Buffer[] | NetlinkMessage[] | Error;

export interface FakeTransport extends Transport {
  requests: NetlinkMessage[];
  /** Deliver raw bytes as if the kernel sent them (e.g. a truncated datagram). */
  inject(data: Buffer, senderPort?: number): void;
}

export function fakeTransport(handler: FakeHandler, portId = 4242): FakeTransport {
  let onD: ((d: Datagram) => void) | undefined;
  const requests: NetlinkMessage[] = [];
  const deliver = (data: Buffer, senderPort = 0) => setImmediate(() => onD?.({ data, senderPort }));
  return {
    portId,
    requests,
    inject: deliver,
    start(d) {
      onD = d;
    },
    send(buf) {
      for (const req of parseMessages(buf)) {
        requests.push(req);
        const out = handler(req);
        if (out instanceof Error) throw out;
        const bufs = out.map((x) => (Buffer.isBuffer(x) ? x : encodeMessage(x.type, x.flags, x.seq || req.seq, x.payload, x.pid)));
        if (bufs.length <= 1) {
          for (const b of bufs) deliver(b);
        } else {
          const half = Math.ceil(bufs.length / 2);
          deliver(Buffer.concat(bufs.slice(0, half)));
          deliver(Buffer.concat(bufs.slice(half)));
        }
      }
    },
    close() {
      onD = undefined;
    },
  };
}

/** Replies to a dump: each payload as one NLM_F_MULTI part, then NLMSG_DONE. */
export function multipart(req: NetlinkMessage, type: number, payloads: Buffer[], extraFlags = 0): Buffer[] {
  const parts = payloads.map((p) => encodeMessage(type, NLM_F_MULTI | extraFlags, req.seq, p, req.pid));
  parts.push(encodeMessage(NLMSG_DONE, NLM_F_MULTI | extraFlags, req.seq, Buffer.alloc(4), req.pid));
  return parts;
}

/** NLMSG_ERROR answering req: errno 0 is an ACK; extack message optional. */
export function nlError(req: NetlinkMessage, errno: number, extackMsg?: string): Buffer {
  const hdr = Buffer.alloc(4 + 16);
  hdr.writeInt32LE(-errno, 0);
  hdr.writeUInt32LE(16, 4);
  hdr.writeUInt16LE(req.type, 8);
  hdr.writeUInt16LE(req.flags, 10);
  hdr.writeUInt32LE(req.seq, 12);
  hdr.writeUInt32LE(req.pid, 16);
  let payload = hdr;
  let flags = 0x100; // NLM_F_CAPPED
  if (extackMsg) {
    const s = Buffer.from(`${extackMsg}\0`);
    const a = Buffer.alloc(4 + ((s.length + 3) & ~3));
    a.writeUInt16LE(4 + s.length, 0);
    a.writeUInt16LE(1, 2); // NLMSGERR_ATTR_MSG
    s.copy(a, 4);
    payload = Buffer.concat([hdr, a]);
    flags |= 0x200; // NLM_F_ACK_TLVS
  }
  return encodeMessage(NLMSG_ERROR, flags, req.seq, payload, req.pid);
}

// Fake PF_KEY sockets for unit tests: a transport whose "kernel" is a function from the request to the
// datagrams it answers with (each delivered on its own, after the send returns, as the kernel does),
// and a promiscuous socket that delivers injected datagrams.
import type { PfkeyTransport } from '../../../server/families/pfkey/conn.ts';
import type { Datagram } from '../../../server/sys/socket.ts';
import { decodeSadbMessage, encodeSadbMessage, type SadbExtensions, type SadbMessage } from '../../../server/families/pfkey/message.ts';

export type FakeKernel = (req: SadbMessage) => Buffer[];

export interface FakePfkeyTransport extends PfkeyTransport {
  requests: SadbMessage[];
  /** Deliver a datagram as if the kernel broadcast it. */
  inject(data: Buffer): void;
}

export function fakePfkeyTransport(kernel: FakeKernel): FakePfkeyTransport {
  let onD: ((d: Datagram) => void) | undefined;
  const requests: SadbMessage[] = [];
  const deliver = (data: Buffer) => setImmediate(() => onD?.({ data, senderPort: -1 }));
  return {
    requests,
    inject: deliver,
    start(d) {
      onD = d;
    },
    send(buf) {
      const req = decodeSadbMessage(buf, 'fake kernel');
      requests.push(req);
      for (const b of kernel(req)) deliver(b);
    },
    close() {
      onD = undefined;
    },
  };
}

/** A reply: the request's header with changes, and extensions. */
export function reply(req: SadbMessage, h: Partial<SadbMessage['header']> = {}, ext: SadbExtensions = {}): Buffer {
  return encodeSadbMessage({ ...req.header, ...h, type: h.type ?? req.header.type }, ext);
}

export interface FakePromiscSocket {
  sent: Buffer[];
  closed: boolean;
  inject(data: Buffer): void;
  send(buf: Buffer): void;
  onReadable(onD: (d: Datagram) => void, onE: (err: unknown) => void): void;
  close(): void;
}

export function fakePromiscSocket(): FakePromiscSocket {
  let onD: ((d: Datagram) => void) | undefined;
  const s: FakePromiscSocket = {
    sent: [],
    closed: false,
    inject: (data) => onD?.({ data, senderPort: -1 }),
    send: (buf) => void s.sent.push(buf),
    onReadable: (d) => {
      onD = d;
    },
    close: () => {
      s.closed = true;
    },
  };
  return s;
}

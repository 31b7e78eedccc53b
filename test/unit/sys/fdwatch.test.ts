// The koffi.node.poll contract (server/sys/fdwatch.ts) and KernelSocket, on a real NETLINK_ROUTE socket
// (unprivileged reads of links are allowed): readable fires, drains to EAGAIN, a throw in the callback is
// re-emitted through onError and polling goes on, close() twice is safe, an unsupported family is a SyscallError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelSocket, type Datagram } from '../../../server/sys/socket.ts';
import { AF_KEY, AF_NETLINK, SOCK_RAW } from '../../../server/sys/libc.ts';
import { Errno, SyscallError } from '../../../server/sys/errno.ts';
import { NETLINK_ROUTE, NLMSG_DONE, NLM_F_DUMP, NLM_F_REQUEST } from '../../../server/netlink/constants.ts';
import { encodeMessage, parseMessages } from '../../../server/netlink/message.ts';
import { encodeStruct } from '../../../server/netlink/struct.ts';
import { RTM, ifinfomsg } from '../../../server/families/link/spec.ts';

function dumpLinks(sock: KernelSocket, seq: number): void {
  sock.send(encodeMessage(RTM.GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq, encodeStruct(ifinfomsg, { family: 0 })));
}

test('RTM_GETLINK dump: onReadable fires, datagrams drain until NLMSG_DONE, then recv() is EAGAIN (null)', async () => {
  const sock = KernelSocket.open('test', AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  const port = sock.bindNetlink();
  assert.ok(port > 0);
  const seen: Datagram[] = [];
  const done = new Promise<void>((resolve, reject) => {
    sock.onReadable((d) => {
      seen.push(d);
      if (parseMessages(d.data).some((m) => m.type === NLMSG_DONE)) resolve();
    }, reject);
  });
  dumpLinks(sock, 1);
  await done;
  assert.ok(seen.every((d) => d.senderPort === 0), 'from the kernel');
  const msgs = seen.flatMap((d) => parseMessages(d.data));
  assert.ok(msgs.some((m) => m.type === RTM.NEWLINK && m.seq === 1), 'at least lo');
  assert.equal(sock.recv(), null, 'drained: EAGAIN');
  sock.close();
});

test('a throw inside the callback is re-emitted through onError, and polling continues', async () => {
  const sock = KernelSocket.open('test', AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  sock.bindNetlink();
  let calls = 0;
  const errors: unknown[] = [];
  const second = new Promise<void>((resolve) => {
    sock.onReadable(
      (d) => {
        calls++;
        const ms = parseMessages(d.data);
        if (ms.some((m) => m.seq === 1)) throw new Error('callback bug');
        if (ms.some((m) => m.seq === 2 && m.type === NLMSG_DONE)) resolve();
      },
      (err) => errors.push(err),
    );
  });
  dumpLinks(sock, 1);
  await new Promise((r) => setTimeout(r, 50));
  dumpLinks(sock, 2);
  await second;
  assert.ok(errors.length >= 1);
  assert.match(String((errors[0] as Error).message), /callback bug/);
  assert.ok(calls >= 2);
  sock.close();
  sock.close(); // twice is safe
  assert.ok(sock.isClosed);
});

test('close() twice is safe on a socket that was never watched', () => {
  const sock = KernelSocket.open('test', AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  sock.close();
  assert.doesNotThrow(() => sock.close());
});

test('socket() with an unsupported family → SyscallError naming the call and the errno in words', () => {
  assert.throws(
    () => KernelSocket.open('pfkey', AF_KEY, SOCK_RAW, 2),
    (e) => {
      assert.ok(e instanceof SyscallError);
      assert.equal(e.call, 'socket');
      // AF_KEY is absent on this host (EAFNOSUPPORT); in a kernel that has it, an unprivileged open is EPERM.
      assert.ok([Errno.EAFNOSUPPORT, Errno.EPERM, Errno.EPROTONOSUPPORT].includes(e.errno as 97 | 1 | 93), `errno ${e.errno}`);
      assert.match(e.message, /^pfkey: socket: (EAFNOSUPPORT \(address family not in this kernel\)|EPERM \(needs CAP_NET_ADMIN\)|EPROTONOSUPPORT \(.+\))$/);
      return true;
    },
  );
  assert.throws(() => KernelSocket.open('bogus', 4095, SOCK_RAW, 0), (e) => e instanceof SyscallError && /^bogus: socket: EAFNOSUPPORT \(address family not in this kernel\)$/.test(e.message));
});

test('onReadable twice on one socket is refused', () => {
  const sock = KernelSocket.open('test', AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  sock.bindNetlink();
  sock.onReadable(() => undefined, () => undefined);
  assert.throws(() => sock.onReadable(() => undefined, () => undefined), /already watched/);
  sock.close();
});

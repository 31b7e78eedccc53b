// The only place that touches koffi.node.poll (libuv uv_poll on the fd, callback on the main thread).
// The API is undocumented in koffi 3.x, so it is wrapped here with the contract the rest relies on,
// and test/unit/sys/fdwatch.test.ts pins that contract:
//  - level triggered: the callback must drain the fd to EAGAIN or it fires again at once;
//  - native code calls cb(status, events); status < 0 is an error (e.g. EBADF);
//  - an exception thrown inside the callback is swallowed by the binding and stops the handle,
//    so every callback is wrapped and its error re-emitted through onError;
//  - the handle is closed before the fd;
//  - on POLLERR (e.g. a netlink socket whose receive buffer overflowed: sk_err = ENOBUFS) libuv STOPS
//    the handle and calls cb(UV_EBADF = -9) — not an fd problem. The socket error is read by the next
//    recv, so watchReadable reads (the owner sees ENOBUFS and re-dumps) and re-arms the handle; without
//    that the watch would be dead after the first overflow and the model silently frozen.
import koffi from 'koffi';

export interface FdWatch {
  close(): void;
  /** Let the process exit while this fd is watched. */
  unref(): void;
}

type RawPollCallback = (status: number, events?: { readable?: boolean; writable?: boolean }) => void;

export function watchReadable(fd: number, onReadable: () => void, onError: (err: unknown) => void): FdWatch {
  let closed = false;
  let errorsInARow = 0;
  const cb: RawPollCallback = (status) => {
    if (closed) return;
    try {
      if (status < 0) {
        // libuv has stopped the handle. Read what is pending (the socket error comes out of recv), then
        // re-arm. Under an event storm every wake-up may be an overflow again, so this may repeat many
        // times; only an error that never clears (a really bad fd: thousands in a row without a single
        // clean wake-up) is reported and the watch left stopped.
        if (++errorsInARow > 10_000) throw new Error(`poll: fd ${fd}: status ${status}, ${errorsInARow} times in a row`);
        setImmediate(rearm);
        onReadable();
        return;
      }
      errorsInARow = 0;
      onReadable();
    } catch (err) {
      // Re-raise outside the native callback so it is seen and the handle keeps working.
      process.nextTick(onError, err);
    }
  };
  // koffi's index.d.ts types the callback as (ev) => void; the native side calls cb(status, events).
  const poll = koffi.node.poll as unknown as (fd: number, opts: { readable: boolean }, cb: RawPollCallback) => ReturnType<typeof koffi.node.poll>;
  const handle = poll(fd, { readable: true }, cb);
  const rearm = () => {
    if (!closed) (handle.start as unknown as (o: { readable: boolean }, c: RawPollCallback) => void)({ readable: true }, cb);
  };
  return {
    close() {
      if (closed) return;
      closed = true;
      handle.stop();
      handle.close();
    },
    unref() {
      handle.unref();
    },
  };
}

/**
 * Wait once until the fd is readable or writable (whichever is asked), under the same libuv poll: for
 * code that drives a non-blocking socket step by step (the AF_ALG probe) and got EAGAIN. Rejects on a
 * poll error or when timeoutMs passes; the handle is always closed.
 */
export function waitFd(fd: number, want: { readable?: boolean; writable?: boolean }, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const poll = koffi.node.poll as unknown as (fd: number, opts: { readable?: boolean; writable?: boolean }, cb: RawPollCallback) => ReturnType<typeof koffi.node.poll>;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      handle.stop();
      handle.close();
      if (err) reject(err);
      else resolve();
    };
    const handle = poll(fd, { readable: !!want.readable, writable: !!want.writable }, (status) => {
      // Settle outside the native callback (an exception there would be swallowed).
      process.nextTick(() => finish(status < 0 ? new Error(`poll: fd ${fd}: status ${status}`) : undefined));
    });
    const timer = setTimeout(() => finish(new Error(`poll: fd ${fd}: no answer in ${timeoutMs} ms`)), timeoutMs);
  });
}

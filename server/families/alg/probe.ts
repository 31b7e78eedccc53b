// The AF_ALG throughput probe of one algorithm, as Documentation/crypto/userspace-if.rst describes it:
// socket(AF_ALG) → bind(sockaddr_alg) → setsockopt(ALG_SET_KEY [, ALG_SET_AEAD_AUTHSIZE]) → accept4 →
// sendmsg (data, with cmsg ALG_SET_OP / ALG_SET_IV / ALG_SET_AEAD_ASSOCLEN) → read the result.
// Bounded: at most limits.seconds of wall time and limits.bytes of payload per algorithm. Every socket is
// non-blocking; EAGAIN waits under libuv's poll (waitFd), and the loop yields to the event loop every few
// milliseconds, so a probe never holds the process for long.
// The key is random and thrown away: it is made here, handed to setsockopt, zeroed, and never leaves this
// function (not in results, errors or logs).
import { randomBytes } from 'node:crypto';
import { KernelSocket } from '../../sys/socket.ts';
import { c, lastErrno, AF_ALG, SOCK_SEQPACKET, SOCK_NONBLOCK, SOCK_CLOEXEC, SOL_ALG, MSG_MORE, type MsgHdr } from '../../sys/libc.ts';
import { Errno, SyscallError } from '../../sys/errno.ts';
import { waitFd } from '../../sys/fdwatch.ts';
import type { ProbeKind } from '../../wire/crypto.ts';
import { ALG_SET_AEAD_AUTHSIZE, ALG_SET_KEY, encodeAlgControl, encodeSockaddrAlg } from './spec.ts';

export interface ProbePlan {
  name: string;
  type: ProbeKind;
  keyBytes: number;
  /** skcipher / aead: IV length (from /proc/crypto's ivsize where the instance exists). */
  ivBytes?: number;
  /** aead: tag length and associated-data length. */
  authsize?: number;
  assoclen?: number;
}

export interface ProbeLimits {
  seconds: number;
  bytes: number;
}

export interface ProbeMeasure {
  bytes: number;
  seconds: number;
}

/** Payload per sendmsg: 16 pages, the kernel's ALG_MAX_PAGES for one hash update and a comfortable TX SGL. */
export const CHUNK_BYTES = 64 * 1024;
/** Smallest chunk (a multiple of every block size AF_ALG ciphers use). */
const MIN_CHUNK_BYTES = 4096;
/** What one sendmsg+read should take at most; the chunk size adapts to it. */
const TARGET_CALL_MS = 4;
/** Longest stretch of kernel calls between two yields to the event loop. */
const SLICE_MS = 8;
/** How long one EAGAIN wait may take before the probe gives up on the algorithm. */
const WAIT_MS = 2000;

const SOURCE = 'alg';

class OpSocket {
  private closed = false;
  constructor(readonly fd: number) {}

  private async retry(call: string, fn: () => number, want: { readable?: boolean; writable?: boolean }): Promise<number> {
    for (;;) {
      const n = fn();
      if (n >= 0) return n;
      const e = lastErrno();
      if (e === Errno.EINTR) continue;
      if (e !== Errno.EAGAIN) throw new SyscallError(SOURCE, call, e);
      await waitFd(this.fd, want, WAIT_MS);
    }
  }

  send(data: Buffer, control: Buffer | null, flags: number): Promise<number> {
    const msg: MsgHdr = {
      msg_name: null,
      msg_namelen: 0,
      msg_iov: [{ iov_base: data, iov_len: data.length }],
      msg_iovlen: 1,
      msg_control: control,
      msg_controllen: control?.length ?? 0,
      msg_flags: 0,
    };
    return this.retry('sendmsg', () => Number(c.sendmsg(this.fd, msg, flags)), { writable: true });
  }

  read(buf: Buffer): Promise<number> {
    return this.retry('read', () => Number(c.read(this.fd, buf, buf.length)), { readable: true });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    c.close(this.fd);
  }
}

function setKeyAndAccept(tfm: KernelSocket, plan: ProbePlan): OpSocket {
  if (plan.keyBytes > 0) {
    const key = randomBytes(plan.keyBytes);
    try {
      if (Number(c.setsockopt(tfm.fd, SOL_ALG, ALG_SET_KEY, key, key.length)) < 0) {
        throw new SyscallError(SOURCE, `setsockopt(ALG_SET_KEY, ${plan.keyBytes * 8} bits)`, lastErrno());
      }
    } finally {
      key.fill(0);
    }
  }
  if (plan.type === 'aead') {
    // ALG_SET_AEAD_AUTHSIZE takes the tag length as optlen, with no option value.
    if (Number(c.setsockopt(tfm.fd, SOL_ALG, ALG_SET_AEAD_AUTHSIZE, null, plan.authsize ?? 16)) < 0) {
      throw new SyscallError(SOURCE, `setsockopt(ALG_SET_AEAD_AUTHSIZE, ${plan.authsize ?? 16})`, lastErrno());
    }
  }
  const fd = Number(c.accept(tfm.fd, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (fd < 0) throw new SyscallError(SOURCE, 'accept', lastErrno());
  return new OpSocket(fd);
}

/** Open and bind the transform socket (throws SyscallError: EAFNOSUPPORT, ENOENT for an unknown type or name). */
export function bindAlg(type: ProbeKind, name: string): KernelSocket {
  const tfm = KernelSocket.open(SOURCE, AF_ALG, SOCK_SEQPACKET, 0, 64);
  try {
    tfm.bindRaw(encodeSockaddrAlg(type, name));
    return tfm;
  } catch (err) {
    tfm.close();
    if (err instanceof SyscallError && err.errno === Errno.ENOENT) {
      throw new SyscallError(SOURCE, `bind(${type}, ${name})`, Errno.ENOENT, `no such algorithm, or algif_${type} not in this kernel`);
    }
    throw err;
  }
}

/** Measure one algorithm. Rejects with a SyscallError whose message names the failing step. */
export async function measure(plan: ProbePlan, limits: ProbeLimits, now: () => number = () => performance.now()): Promise<ProbeMeasure> {
  const tfm = bindAlg(plan.type, plan.name);
  let op: OpSocket | undefined;
  try {
    op = setKeyAndAccept(tfm, plan);
    const assoclen = plan.type === 'aead' ? (plan.assoclen ?? 0) : 0;
    const authsize = plan.type === 'aead' ? (plan.authsize ?? 16) : 0;
    const maxChunk = Math.min(CHUNK_BYTES, limits.bytes);
    // Reused buffers sized for the largest chunk; a chunk is a prefix of them.
    const input = randomBytes(assoclen + maxChunk);
    const output = Buffer.alloc(plan.type === 'hash' ? 64 : assoclen + maxChunk + authsize);
    const control = plan.type === 'hash' ? null : encodeAlgControl({ op: 'encrypt', iv: randomBytes(plan.ivBytes ?? 16), ...(plan.type === 'aead' ? { assoclen } : {}) });
    // Each kernel call holds the event loop: the chunk adapts so one call stays near TARGET_CALL_MS
    // (a slow CPU or an emulated one gets small chunks, a fast one 64 KiB).
    let chunk = Math.min(MIN_CHUNK_BYTES * 4, maxChunk);
    const start = now();
    const deadline = start + limits.seconds * 1000;
    let busy = 0;
    let bytes = 0;
    let lastCall = 0;
    let lastChunk = chunk;
    let sliceStart = now();
    while (bytes + chunk <= limits.bytes) {
      const t = now();
      // Stop before a call that would end past the time bound.
      if (t >= deadline || (bytes > 0 && t + lastCall * (chunk / Math.max(1, lastChunk)) > deadline)) break;
      const inBuf = input.subarray(0, assoclen + chunk);
      if (plan.type === 'hash') {
        // An update per chunk (MSG_MORE); the digest is read once at the end.
        const n = await op.send(inBuf, null, MSG_MORE);
        if (n !== inBuf.length) throw new SyscallError(SOURCE, 'sendmsg', Errno.EMSGSIZE, `short write ${n}/${inBuf.length}`);
      } else {
        const n = await op.send(inBuf, control, 0);
        if (n !== inBuf.length) throw new SyscallError(SOURCE, 'sendmsg', Errno.EMSGSIZE, `short write ${n}/${inBuf.length}`);
        const outBuf = output.subarray(0, assoclen + chunk + authsize);
        const r = await op.read(outBuf);
        if (r !== outBuf.length) throw new SyscallError(SOURCE, 'read', Errno.EMSGSIZE, `short result ${r}/${outBuf.length}`);
      }
      lastCall = now() - t;
      lastChunk = chunk;
      busy += lastCall;
      bytes += chunk;
      if (lastCall > TARGET_CALL_MS && chunk > MIN_CHUNK_BYTES) chunk /= 2;
      else if (lastCall < TARGET_CALL_MS / 4 && chunk < maxChunk) chunk = Math.min(chunk * 2, maxChunk);
      if (now() - sliceStart >= SLICE_MS) {
        await new Promise<void>((r) => setImmediate(r));
        sliceStart = now();
      }
    }
    if (plan.type === 'hash') {
      const t0 = now();
      await op.read(output); // finalises the digest
      busy += now() - t0;
    }
    return { bytes, seconds: busy / 1000 };
  } finally {
    op?.close();
    tfm.close();
  }
}

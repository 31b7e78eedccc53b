// A multicast monitor: its own socket (never the request socket), a large receive buffer, groups
// joined by number. ENOBUFS means the kernel dropped events: the owner must re-dump (resync).
import { KernelSocket } from '../sys/socket.ts';
import { AF_NETLINK, SOCK_RAW } from '../sys/libc.ts';
import { Errno, SyscallError } from '../sys/errno.ts';
import { NETLINK_ADD_MEMBERSHIP, SOL_NETLINK } from './constants.ts';
import { parseMessages, type NetlinkMessage } from './message.ts';

export interface MonitorHandlers {
  onMessage(m: NetlinkMessage): void;
  /** Events were lost (ENOBUFS, or a truncated datagram): re-dump to correct the model. */
  onOverrun(reason: string): void;
  /** Bytes that could not be framed, or any other failure; the monitor keeps running. */
  onError(err: unknown): void;
}

export interface Monitor {
  readonly receiveBufferBytes: number;
  close(): void;
}

export interface MonitorOptions {
  source: string;
  protocol: number;
  groups: number[];
  receiveBufferBytes?: number;
}

/**
 * SASCOPE_MONITOR_RCVBUF=<bytes>: every netlink monitor asks for this receive buffer instead of its own
 * (tests make it small on purpose to force ENOBUFS and prove the resync). Unset or invalid: undefined.
 */
export function monitorReceiveBufferOverride(env: Record<string, string | undefined> = process.env): number | undefined {
  const v = Number(env.SASCOPE_MONITOR_RCVBUF);
  return Number.isInteger(v) && v > 0 ? v : undefined;
}

/**
 * After ENOBUFS: drop what is still queued (at most a receive buffer's worth). Those events are older
 * than the re-dump the owner starts now; held and replayed after it they would bring back entries
 * deleted in the meantime (a phantom SA or policy). Events queued from here on are newer than the dump's
 * start and are replayed after it, in order, so the last one for each entry wins.
 */
function discardQueued(sock: KernelSocket, bufferBytes: number): void {
  let bytes = 0;
  let errors = 0;
  while (bytes <= bufferBytes && errors < 8) {
    let d;
    try {
      d = sock.recv();
    } catch {
      errors++; // another ENOBUFS or a truncated datagram: also superseded by the dump
      continue;
    }
    if (!d) return;
    bytes += d.data.length;
  }
}

export function openMonitor(opts: MonitorOptions, h: MonitorHandlers): Monitor {
  const sock = KernelSocket.open(opts.source, AF_NETLINK, SOCK_RAW, opts.protocol);
  try {
    sock.bindNetlink(0);
    for (const g of opts.groups) sock.setInt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, g, `join multicast group ${g}`);
    const granted = sock.growReceiveBuffer(monitorReceiveBufferOverride() ?? opts.receiveBufferBytes ?? 8 * 1024 * 1024);
    sock.onReadable(
      (d) => {
        if (d.senderPort !== 0) return; // only the kernel speaks on these groups
        let msgs: NetlinkMessage[];
        try {
          msgs = parseMessages(d.data, `${opts.source} event`);
        } catch (err) {
          h.onError(err);
          return;
        }
        for (const m of msgs) h.onMessage(m);
      },
      (err) => {
        if (err instanceof SyscallError && err.errno === Errno.ENOBUFS) {
          discardQueued(sock, granted);
          h.onOverrun('receive buffer overflowed (ENOBUFS)');
        }
        else if (err instanceof SyscallError && err.errno === Errno.EMSGSIZE) h.onOverrun(err.message);
        else h.onError(err);
      },
    );
    return { receiveBufferBytes: granted, close: () => sock.close() };
  } catch (err) {
    sock.close();
    throw err;
  }
}

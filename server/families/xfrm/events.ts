// One XFRM multicast monitor for the whole family: a single NETLINK_XFRM socket joined to every group
// (SA, POLICY, EXPIRE, ACQUIRE, AEVENTS, REPORT, MIGRATE, MAPPING), each message type dispatched to the
// one source that claims it — so every kernel message is decoded and handled exactly once (an EXPIRE
// group datagram carries either an SA EXPIRE or a POLEXPIRE; each goes to its own source).
// Lost events (ENOBUFS, truncated datagram) make every subscriber re-dump.
import { NETLINK_XFRM } from '../../netlink/constants.ts';
import { openMonitor, type Monitor, type MonitorHandlers, type MonitorOptions } from '../../netlink/monitor.ts';
import type { NetlinkMessage } from '../../netlink/message.ts';
import { XFRMNLGRP, XFRM_MSG_NAME } from './spec.ts';

export interface XfrmEventSubscriber {
  /** XFRM_MSG_* types this subscriber handles; a type belongs to one subscriber only. */
  types: readonly number[];
  onMessage(m: NetlinkMessage): void;
  onOverrun(reason: string): void;
  onError(err: unknown): void;
}

export interface XfrmEventsOptions {
  receiveBufferBytes?: number;
  /**
   * Join XFRMNLGRP_AEVENTS. With a listener on that group the kernel sends XFRM_MSG_NEWAE whenever an SA's
   * replay sequence moved by replay_maxdiff (default sysctl xfrm_aevent_rseqth = 2) or replay_maxage passed
   * with changes (default xfrm_aevent_etime = 10 × 100 ms): fresh counters for SAs with anti-replay state,
   * at a kernel cost per event. Default on.
   */
  aevents?: boolean;
  /** Test seam: how the socket is opened. */
  open?: (opts: MonitorOptions, h: MonitorHandlers) => Monitor;
}

export class XfrmEvents {
  private readonly byType = new Map<number, XfrmEventSubscriber>();
  private readonly subscribers = new Set<XfrmEventSubscriber>();
  private monitor: Monitor | undefined;
  /** Messages of a type nobody claimed (e.g. a future kernel's), counted not decoded. */
  unclaimed = 0;

  constructor(private readonly opts: XfrmEventsOptions = {}) {}

  get aevents(): boolean {
    return this.opts.aevents ?? true;
  }

  subscribe(sub: XfrmEventSubscriber): void {
    for (const t of sub.types) {
      if (this.byType.has(t)) throw new Error(`xfrm events: message type ${XFRM_MSG_NAME[t] ?? t} claimed twice`);
    }
    for (const t of sub.types) this.byType.set(t, sub);
    this.subscribers.add(sub);
  }

  unsubscribe(sub: XfrmEventSubscriber): void {
    if (!this.subscribers.delete(sub)) return;
    for (const t of sub.types) if (this.byType.get(t) === sub) this.byType.delete(t);
    if (this.subscribers.size === 0) this.close();
  }

  /** Open the socket (once; later calls are no-ops). Throws SyscallError (EPERM …) for the caller's status. */
  open(): void {
    if (this.monitor) return;
    const groups: number[] = [XFRMNLGRP.ACQUIRE, XFRMNLGRP.EXPIRE, XFRMNLGRP.SA, XFRMNLGRP.POLICY, XFRMNLGRP.REPORT, XFRMNLGRP.MIGRATE, XFRMNLGRP.MAPPING];
    if (this.aevents) groups.push(XFRMNLGRP.AEVENTS);
    const open = this.opts.open ?? openMonitor;
    this.monitor = open(
      { source: 'xfrm', protocol: NETLINK_XFRM, groups, receiveBufferBytes: this.opts.receiveBufferBytes ?? 8 * 1024 * 1024 },
      {
        onMessage: (m) => this.dispatch(m),
        onOverrun: (reason) => {
          for (const s of this.subscribers) s.onOverrun(reason);
        },
        onError: (err) => {
          for (const s of this.subscribers) s.onError(err);
        },
      },
    );
  }

  get isOpen(): boolean {
    return this.monitor !== undefined;
  }

  /** Hand one message to its subscriber (public for tests that replay captured events). */
  dispatch(m: NetlinkMessage): void {
    const sub = this.byType.get(m.type);
    if (sub) sub.onMessage(m);
    else this.unclaimed++;
  }

  close(): void {
    this.monitor?.close();
    this.monitor = undefined;
  }
}

/**
 * Join a source to the family's monitor and open it: its message types, a re-dump when events were lost,
 * undecodable datagrams counted by the source. Returns how to leave (the socket closes with the last one).
 */
export function joinXfrmEvents(
  events: XfrmEvents,
  types: readonly number[],
  source: { onEvent(m: NetlinkMessage): void; resync(reason: string): Promise<void>; eventDatagramFailed(err: unknown): void },
): () => void {
  const sub: XfrmEventSubscriber = {
    types,
    onMessage: (m) => source.onEvent(m),
    onOverrun: (reason) => void source.resync(reason).catch(() => undefined),
    onError: (err) => source.eventDatagramFailed(err),
  };
  events.subscribe(sub);
  events.open();
  return () => events.unsubscribe(sub);
}

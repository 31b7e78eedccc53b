// The one link view of the process: one NETLINK_ROUTE request socket, one RTNLGRP_LINK monitor, one
// RTM_GETLINK dump for every source that needs links (the link source publishes it to the model; ovpn,
// psp and ethtool name their devices from it). Events during a dump are held and applied after it, in
// order; lost events (ENOBUFS) make the next read re-dump, and every watcher is told (each re-reads what it
// made of the links). The sockets open with the first watcher and close with the last, so a view nobody
// watched starts over from a dump.
import { NETLINK_ROUTE } from '../../netlink/constants.ts';
import { NetlinkConnection, openNetlinkTransport, type Transport } from '../../netlink/conn.ts';
import { openMonitor, type Monitor, type MonitorHandlers, type MonitorOptions } from '../../netlink/monitor.ts';
import type { NetlinkMessage } from '../../netlink/message.ts';
import { encodeStruct } from '../../netlink/struct.ts';
import type { Link } from '../../wire/entities.ts';
import { decodeLink } from './link.ts';
import { RTM, RTNLGRP_LINK, ifinfomsg } from './spec.ts';
import type { LinkView, LinkWatcher } from '../link-view.ts';

export interface LinkWatchOptions {
  /** Test seam: a transport in place of the NETLINK_ROUTE request socket (no monitor then, unless openMonitor is given). */
  transport?: Transport;
  /** Test seam: how the RTNLGRP_LINK monitor is opened. */
  openMonitor?: (opts: MonitorOptions, h: MonitorHandlers) => Monitor;
}

interface LinkChange {
  link: Link;
  removed: boolean;
}

export class LinkWatch implements LinkView {
  private readonly links = new Map<number, Link>();
  private readonly watchers = new Set<LinkWatcher>();
  private conn: NetlinkConnection | undefined;
  private monitor: Monitor | undefined;
  /** No dump since the sockets opened, or events were lost since the last one. */
  private stale = true;
  private dumping: Promise<void> | undefined;
  /** Events that arrived during the dump in progress. */
  private held: LinkChange[] | undefined;

  constructor(private readonly opts: LinkWatchOptions = {}) {}

  watch(w: LinkWatcher): () => void {
    this.open();
    this.watchers.add(w);
    return () => {
      if (this.watchers.delete(w) && this.watchers.size === 0) this.close();
    };
  }

  private open(): void {
    if (this.conn) return;
    const conn = new NetlinkConnection('rtnetlink', this.opts.transport ?? openNetlinkTransport('rtnetlink', NETLINK_ROUTE));
    const open = this.opts.openMonitor ?? (this.opts.transport ? undefined : openMonitor);
    try {
      this.monitor = open?.(
        { source: 'rtnetlink', protocol: NETLINK_ROUTE, groups: [RTNLGRP_LINK], receiveBufferBytes: 1024 * 1024 },
        {
          onMessage: (m) => this.onEvent(m),
          onOverrun: (reason) => {
            this.stale = true;
            for (const w of this.watchers) w.onOverrun(`link events lost: ${reason}`);
          },
          onError: (err) => this.decodeFailed(err, 'link event datagram'),
        },
      );
    } catch (err) {
      conn.close();
      throw err;
    }
    this.conn = conn;
    this.stale = true;
  }

  private close(): void {
    this.monitor?.close();
    this.monitor = undefined;
    this.conn?.close();
    this.conn = undefined;
    this.links.clear();
  }

  get(ifindex: number): Link | undefined {
    return this.links.get(ifindex);
  }

  async current(): Promise<ReadonlyMap<number, Link>> {
    while (this.stale || this.dumping) {
      this.dumping ??= this.dump().finally(() => (this.dumping = undefined));
      await this.dumping;
    }
    return this.links;
  }

  /** Every link read again (their counters have no events): joins a dump in progress, else starts one. */
  reread(): Promise<ReadonlyMap<number, Link>> {
    if (!this.dumping) this.stale = true;
    return this.current();
  }

  private async dump(): Promise<void> {
    const conn = this.conn;
    if (!conn) throw new Error('rtnetlink: dump links: the link view is closed (no source watches it)');
    this.stale = false;
    const held: LinkChange[] = (this.held = []);
    let parts: NetlinkMessage[];
    try {
      parts = await conn.dump(RTM.GETLINK, encodeStruct(ifinfomsg, { family: 0 }), { op: 'dump links' });
    } catch (err) {
      this.stale = true;
      this.held = undefined;
      if (this.conn === conn) for (const c of held) this.apply(c);
      throw err;
    }
    this.held = undefined;
    this.links.clear();
    for (const m of parts) {
      try {
        const l = decodeLink(m);
        this.links.set(l.index, l);
      } catch (err) {
        this.decodeFailed(err, 'link in dump');
      }
    }
    for (const c of held) this.apply(c);
  }

  /** One RTNLGRP_LINK message (public for tests that replay events). */
  onEvent(m: NetlinkMessage): void {
    if (m.type !== RTM.NEWLINK && m.type !== RTM.DELLINK) return;
    let link: Link;
    try {
      link = decodeLink(m);
    } catch (err) {
      this.decodeFailed(err, m.type === RTM.NEWLINK ? 'RTM_NEWLINK' : 'RTM_DELLINK');
      return;
    }
    const c = { link, removed: m.type === RTM.DELLINK };
    if (this.held) this.held.push(c);
    else this.apply(c);
  }

  private apply(c: LinkChange): void {
    if (c.removed) this.links.delete(c.link.index);
    else this.links.set(c.link.index, c.link);
    for (const w of this.watchers) w.onChange(c.link, c.removed);
  }

  private decodeFailed(err: unknown, what: string): void {
    for (const w of this.watchers) w.onDecodeError(err, what);
  }
}

// A small rtnetlink link watcher for sources that need to know some links without reading the model
// (families never read the model): ovpn finds its devices (kind "ovpn"), psp names the ifindex of its
// devices. One RTM_GETLINK dump on demand, RTNLGRP_LINK events between dumps, decodeLink for both.
import { NETLINK_ROUTE } from '../../netlink/constants.ts';
import { NetlinkConnection, openNetlinkTransport, type Transport } from '../../netlink/conn.ts';
import { openMonitor, type Monitor } from '../../netlink/monitor.ts';
import type { NetlinkMessage } from '../../netlink/message.ts';
import { encodeStruct } from '../../netlink/struct.ts';
import type { Link } from '../../wire/entities.ts';
import { decodeLink } from './link.ts';
import { RTM, RTNLGRP_LINK, ifinfomsg } from './spec.ts';

export interface LinkWatchHandlers {
  /** A link matching the filter appeared, changed (removed = false) or went away (removed = true). */
  onChange(link: Link, removed: boolean): void;
  /** Link events were lost: call dump() again. */
  onOverrun(reason: string): void;
  onDecodeError(err: unknown, what: string): void;
}

export interface LinkWatchOptions {
  /** Test seam: a transport in place of a NETLINK_ROUTE socket (no monitor is opened then). */
  transport?: Transport;
  /** Which links to keep (all when absent). */
  filter?: (l: Link) => boolean;
}

export class LinkWatch {
  /** The links matching the filter, by ifindex, as of the last dump and the events since. */
  readonly links = new Map<number, Link>();
  private conn: NetlinkConnection | undefined;
  private monitor: Monitor | undefined;

  constructor(private readonly source: string, private readonly h: LinkWatchHandlers, private readonly opts: LinkWatchOptions = {}) {}

  /** Open the request socket and (unless a test transport is given) the RTNLGRP_LINK monitor. */
  start(): void {
    this.conn = new NetlinkConnection(`${this.source} rtnetlink`, this.opts.transport ?? openNetlinkTransport(this.source, NETLINK_ROUTE));
    if (this.opts.transport) return;
    this.monitor = openMonitor(
      { source: `${this.source} rtnetlink`, protocol: NETLINK_ROUTE, groups: [RTNLGRP_LINK], receiveBufferBytes: 1024 * 1024 },
      {
        onMessage: (m) => this.onEvent(m),
        onOverrun: (reason) => this.h.onOverrun(`link events lost: ${reason}`),
        onError: (err) => this.h.onDecodeError(err, 'link event datagram'),
      },
    );
  }

  private keep(l: Link): boolean {
    return this.opts.filter ? this.opts.filter(l) : true;
  }

  /** Re-read every link; the map then holds exactly the matching ones. */
  async dump(): Promise<Map<number, Link>> {
    const parts = await this.conn!.dump(RTM.GETLINK, encodeStruct(ifinfomsg, { family: 0 }), { op: 'dump links' });
    this.links.clear();
    for (const m of parts) {
      try {
        const l = decodeLink(m);
        if (this.keep(l)) this.links.set(l.index, l);
      } catch (err) {
        this.h.onDecodeError(err, 'link in dump');
      }
    }
    return this.links;
  }

  /** One RTNLGRP_LINK message (public for tests that replay events). */
  onEvent(m: NetlinkMessage): void {
    if (m.type !== RTM.NEWLINK && m.type !== RTM.DELLINK) return;
    let l: Link;
    try {
      l = decodeLink(m);
    } catch (err) {
      this.h.onDecodeError(err, m.type === RTM.NEWLINK ? 'RTM_NEWLINK' : 'RTM_DELLINK');
      return;
    }
    if (m.type === RTM.DELLINK) {
      if (this.links.delete(l.index)) this.h.onChange(l, true);
      return;
    }
    if (!this.keep(l)) return;
    this.links.set(l.index, l);
    this.h.onChange(l, false);
  }

  close(): void {
    this.monitor?.close();
    this.conn?.close();
  }
}

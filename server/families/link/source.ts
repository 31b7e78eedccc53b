// rtnetlink links, live: RTM_GETLINK dump + RTNLGRP_LINK events. Counters have no events, so the table
// is re-dumped every statsIntervalMs (one dump for all links; unchanged links produce no delta).
import { NETLINK_ROUTE } from '../../netlink/constants.ts';
import { NetlinkConnection, openNetlinkTransport, type Transport } from '../../netlink/conn.ts';
import { openMonitor, type Monitor } from '../../netlink/monitor.ts';
import type { NetlinkMessage } from '../../netlink/message.ts';
import { encodeStruct } from '../../netlink/struct.ts';
import type { Link } from '../../wire/entities.ts';
import type { Logger } from '../../log.ts';
import { Source, type ModelSink } from '../source.ts';
import { decodeLink } from './link.ts';
import { RTM, RTNLGRP_LINK, ifinfomsg } from './spec.ts';

export interface LinkSourceOptions {
  transport?: Transport;
  statsIntervalMs?: number;
}

export class LinkSource extends Source {
  private conn: NetlinkConnection | undefined;
  private monitor: Monitor | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refreshing = false;

  constructor(sink: ModelSink, log: Logger, private readonly opts: LinkSourceOptions = {}) {
    super('link', 'Network devices (rtnetlink)', sink, log);
  }

  async start(): Promise<void> {
    try {
      this.conn = new NetlinkConnection('rtnetlink', this.opts.transport ?? openNetlinkTransport('rtnetlink', NETLINK_ROUTE));
      if (!this.opts.transport) {
        this.monitor = openMonitor(
          { source: 'rtnetlink', protocol: NETLINK_ROUTE, groups: [RTNLGRP_LINK], receiveBufferBytes: 1024 * 1024 },
          {
            onMessage: (m) => this.onEvent(m),
            onOverrun: (reason) => void this.resync(reason).catch(() => undefined),
            onError: (err) => this.decodeFailed(err, 'event datagram'),
          },
        );
      }
      await this.resync('start');
      const every = this.opts.statsIntervalMs ?? 5000;
      if (every > 0) {
        this.timer = setInterval(() => void this.refreshCounters(), every);
        this.timer.unref();
      }
    } catch (err) {
      this.failed(err);
    }
  }

  private async refreshCounters(): Promise<void> {
    if (this.refreshing || this.status.state !== 'ok') return;
    this.refreshing = true;
    try {
      await this.redump();
    } catch (err) {
      this.failed(err);
    } finally {
      this.refreshing = false;
    }
  }

  protected async dumpAll(): Promise<void> {
    const req = encodeStruct(ifinfomsg, { family: 0 });
    const parts = await this.conn!.dump(RTM.GETLINK, req, { op: 'dump links' });
    const items: Array<{ key: string; value: Link }> = [];
    for (const m of parts) {
      try {
        const l = decodeLink(m);
        items.push({ key: String(l.index), value: l });
      } catch (err) {
        this.decodeFailed(err, 'link in dump');
      }
    }
    this.sink.replaceAll('link', items);
  }

  onEvent(m: NetlinkMessage): void {
    if (m.type !== RTM.NEWLINK && m.type !== RTM.DELLINK) return;
    let link: Link;
    try {
      link = decodeLink(m);
    } catch (err) {
      this.decodeFailed(err, m.type === RTM.NEWLINK ? 'RTM_NEWLINK' : 'RTM_DELLINK');
      return;
    }
    this.dataSeen();
    this.applyEvent(() => {
      if (m.type === RTM.DELLINK) {
        this.sink.remove('link', String(link.index));
        this.sink.event({ source: this.id, type: 'DELLINK', summary: `${link.name} (${link.kind ?? link.type}) removed`, ref: `link:${link.index}` });
      } else {
        this.sink.upsert('link', String(link.index), link);
        this.sink.event({ source: this.id, type: 'NEWLINK', summary: `${link.name} (${link.kind ?? link.type}) ${link.operState} ${link.flags.includes('UP') ? 'UP' : 'DOWN'}`, ref: `link:${link.index}` });
      }
    });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.monitor?.close();
    this.conn?.close();
  }
}

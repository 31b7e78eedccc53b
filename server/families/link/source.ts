// rtnetlink links, live, into the model: the process's one link view (watch.ts: RTM_GETLINK dump +
// RTNLGRP_LINK events) as entities and events. Counters have no events, so the view is re-read every
// statsIntervalMs (one dump for all links; unchanged links produce no delta).
import type { NetlinkMessage } from '../../netlink/message.ts';
import type { Link } from '../../wire/entities.ts';
import type { Logger } from '../../log.ts';
import { Source, type ModelSink } from '../source.ts';
import type { LinkWatch } from './watch.ts';

export interface LinkSourceOptions {
  statsIntervalMs?: number;
}

export class LinkSource extends Source {
  private leaveLinks: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refreshing = false;

  constructor(sink: ModelSink, log: Logger, private readonly links: LinkWatch, private readonly opts: LinkSourceOptions = {}) {
    super('link', 'Network devices (rtnetlink)', sink, log);
  }

  async start(): Promise<void> {
    try {
      this.leaveLinks = this.links.watch({
        onChange: (l, removed) => this.linkChanged(l, removed),
        onOverrun: (reason) => void this.resync(reason).catch(() => undefined),
        onDecodeError: (err, what) => this.decodeFailed(err, what),
      });
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
    const links = await this.links.reread();
    this.sink.replaceAll('link', [...links.values()].map((l) => ({ key: String(l.index), value: l })));
  }

  /** One RTNLGRP_LINK message, through the view (public for tests that replay events). */
  onEvent(m: NetlinkMessage): void {
    this.links.onEvent(m);
  }

  private linkChanged(link: Link, removed: boolean): void {
    this.dataSeen();
    this.applyEvent(() => {
      if (removed) {
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
    this.leaveLinks?.();
    this.leaveLinks = undefined;
  }
}

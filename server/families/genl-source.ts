// What a generic netlink source does the same way every time: resolve its family through nlctrl (absent →
// "family X not found"), watch rtnetlink links for the devices it names, join the family's multicast
// groups, dump, then re-read on a bounded interval. A family source only says how to dump and what a
// notification or a link change means.
import type { Transport } from '../netlink/conn.ts';
import type { Monitor } from '../netlink/monitor.ts';
import { GenlClient, type GenlFamilySpec, type GenlMessage } from '../genl/client.ts';
import { CTRL_CMD_DELFAMILY, GENL_CTRL_NOTIFY_GROUP, GENL_ID_CTRL, ctrlAttrs, parseGenl } from '../genl/genl.ts';
import { openMonitor } from '../netlink/monitor.ts';
import { NETLINK_GENERIC } from '../netlink/constants.ts';
import { decodeAttrs } from '../netlink/spec.ts';
import type { Link } from '../wire/entities.ts';
import type { Logger } from '../log.ts';
import { LinkWatch } from './link/watch.ts';
import { Source, type ModelSink } from './source.ts';

export interface GenlSourceOptions {
  /** Test seams: transports in place of the NETLINK_GENERIC and NETLINK_ROUTE sockets (no monitors then). */
  genlTransport?: Transport;
  linkTransport?: Transport;
}

export interface GenlSourceSetup<Op extends string> {
  family: GenlFamilySpec<Op>;
  /** Which links to keep (all when absent). */
  linkFilter?: (l: Link) => boolean;
  /** Re-read interval in ms; 0 = only on events and resyncs. */
  refreshMs: number;
}

export abstract class GenlSource<Op extends string> extends Source {
  protected client: GenlClient<Op> | undefined;
  protected links: LinkWatch | undefined;
  private monitor: Monitor | undefined;
  private ctrlMonitor: Monitor | undefined;
  private linksStale = true;

  constructor(
    id: string,
    label: string,
    sink: ModelSink,
    log: Logger,
    private readonly setup: GenlSourceSetup<Op>,
    private readonly transports: GenlSourceOptions = {},
  ) {
    super(id, label, sink, log);
  }

  async start(): Promise<void> {
    try {
      this.client = await GenlClient.open(this.setup.family, this.id, { transport: this.transports.genlTransport });
      this.familyResolved(this.client);
      // A new watch knows no links: the first dump reads them (after a stop and start too, e.g. the retry
      // once the family is back, or the devices would stay unknown until a link event named them).
      this.linksStale = true;
      this.links = new LinkWatch(
        this.id,
        {
          onChange: (l, removed) => this.applyEvent(() => this.onLinkChange(l, removed)),
          onOverrun: (reason) => {
            this.linksStale = true;
            void this.resync(reason).catch(() => undefined);
          },
          onDecodeError: (err, what) => this.decodeFailed(err, what),
        },
        { transport: this.transports.linkTransport, filter: this.setup.linkFilter },
      );
      this.links.start();
      if (!this.transports.genlTransport) {
        this.monitor = this.client.subscribe({
          onMessage: (g) => this.onNotification(g),
          onOverrun: (reason) => void this.resync(reason).catch(() => undefined),
          onError: (err) => this.decodeFailed(err, 'notification datagram'),
        });
        this.ctrlMonitor = this.watchFamilyRemoval();
      }
      await this.resync('start');
      this.refreshEvery(this.setup.refreshMs);
    } catch (err) {
      this.failed(err);
    }
  }

  /**
   * nlctrl's notify group: DELFAMILY for this family (its module unloaded) makes the source not available
   * at once, rather than at the next request that happens to fail (with no device, none is sent);
   * retryWhenNotAvailable brings it back once the family is registered again.
   */
  private watchFamilyRemoval(): Monitor {
    const name = this.setup.family.name;
    return openMonitor(
      { source: `${this.id} nlctrl`, protocol: NETLINK_GENERIC, groups: [GENL_CTRL_NOTIFY_GROUP], receiveBufferBytes: 64 * 1024 },
      {
        onMessage: (m) => {
          if (m.type !== GENL_ID_CTRL) return;
          try {
            const g = parseGenl(m, 'nlctrl notification');
            if (g.cmd !== CTRL_CMD_DELFAMILY || decodeAttrs(ctrlAttrs, g.attrs, 'nlctrl')['family-name'] !== name) return;
          } catch (err) {
            this.decodeFailed(err, 'nlctrl notification');
            return;
          }
          this.stopRefresh();
          this.setState('not-available', `family ${name} was unregistered (module unloaded)`);
        },
        // a lost nlctrl notification: the next request to the family tells
        onOverrun: () => undefined,
        onError: (err) => this.decodeFailed(err, 'nlctrl notification datagram'),
      },
    );
  }

  /** Called once the family is known (e.g. to look up which operations this kernel offers). */
  protected familyResolved(_client: GenlClient<Op>): void {}

  /** The watched links, re-dumped first when link events were lost (or at the first dump). */
  protected async currentLinks(): Promise<Map<number, Link>> {
    if (this.linksStale) {
      await this.links!.dump();
      this.linksStale = false;
    }
    return this.links!.links;
  }

  /** One message from the family's multicast groups (public for tests that replay notifications). */
  abstract onNotification(g: GenlMessage): void;
  /** A watched link appeared, changed or went away (runs after any dump in progress). */
  protected abstract onLinkChange(l: Link, removed: boolean): void;

  stop(): void {
    this.stopRefresh();
    this.monitor?.close();
    this.ctrlMonitor?.close();
    this.links?.close();
    this.client?.close();
  }
}

// What a generic netlink source does the same way every time: resolve its family through nlctrl (absent →
// "family X not found"), watch the process's link view (passed in: families never read the model nor
// open a link socket of their own) for the devices it names, join the family's multicast groups, dump,
// then re-read on a bounded interval. A family source only says how to dump and what a notification or
// a link change means.
import type { Transport } from '../netlink/conn.ts';
import type { Monitor } from '../netlink/monitor.ts';
import { GenlClient, type GenlFamilySpec, type GenlMessage } from '../genl/client.ts';
import { CTRL_CMD_DELFAMILY, GENL_CTRL_NOTIFY_GROUP, GENL_ID_CTRL, ctrlAttrs, parseGenl } from '../genl/genl.ts';
import { openMonitor } from '../netlink/monitor.ts';
import { NETLINK_GENERIC } from '../netlink/constants.ts';
import { decodeAttrs } from '../netlink/spec.ts';
import type { Link } from '../wire/entities.ts';
import type { Logger } from '../log.ts';
import type { LinkView } from './link-view.ts';
import { Source, type ModelSink } from './source.ts';

export interface GenlSourceOptions {
  /** Test seam: a transport in place of the NETLINK_GENERIC socket (no monitors then). */
  genlTransport?: Transport;
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
  private leaveLinks: (() => void) | undefined;
  private monitor: Monitor | undefined;
  private ctrlMonitor: Monitor | undefined;

  constructor(
    id: string,
    label: string,
    sink: ModelSink,
    log: Logger,
    protected readonly links: LinkView,
    private readonly setup: GenlSourceSetup<Op>,
    private readonly transports: GenlSourceOptions = {},
  ) {
    super(id, label, sink, log);
  }

  async start(): Promise<void> {
    try {
      this.client = await GenlClient.open(this.setup.family, this.id, { transport: this.transports.genlTransport });
      this.familyResolved(this.client);
      // The dump reads the view's current links: after a stop and start too (the retry once the family is
      // back), the devices are those of now, not of before the stop.
      this.leaveLinks = this.links.watch({
        onChange: (l, removed) => {
          if (removed || this.keeps(l)) this.applyEvent(() => this.onLinkChange(l, removed));
        },
        onOverrun: (reason) => void this.resync(reason).catch(() => undefined),
        onDecodeError: (err, what) => this.decodeFailed(err, what),
      });
      if (!this.transports.genlTransport) {
        // a family without multicast groups (wireguard) gets no monitor socket
        if (this.setup.family.groups.length) this.monitor = this.client.subscribe({
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

  private keeps(l: Link): boolean {
    return this.setup.linkFilter?.(l) ?? true;
  }

  /** The links this source keeps (linkFilter), as the view has them now (it re-reads them first where it must). */
  protected async currentLinks(): Promise<Map<number, Link>> {
    return new Map([...(await this.links.current())].filter(([, l]) => this.keeps(l)));
  }

  /** One message from the family's multicast groups (public for tests that replay notifications). */
  abstract onNotification(g: GenlMessage): void;
  /** A kept link appeared or changed, or a link went away (runs after any dump in progress). */
  protected abstract onLinkChange(l: Link, removed: boolean): void;

  stop(): void {
    this.stopRefresh();
    this.monitor?.close();
    this.ctrlMonitor?.close();
    this.leaveLinks?.();
    this.leaveLinks = undefined;
    this.client?.close();
  }
}

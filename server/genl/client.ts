// A generic netlink family client: requests by operation name, notifications by multicast group name,
// both resolved through nlctrl at open. A family declares the operations sascope may send (an allow-list
// of name → command); a request for any other name is refused before a byte leaves the process. That is
// how families whose other operations hand out key material are kept read-only by construction.
import { NETLINK_GENERIC } from '../netlink/constants.ts';
import { NetlinkConnection, openNetlinkTransport, type Transport } from '../netlink/conn.ts';
import { openMonitor, type Monitor } from '../netlink/monitor.ts';
import type { NetlinkMessage } from '../netlink/message.ts';
import { GenlResolver, encodeGenl, parseGenl, type GenlFamily, type GenlHeader } from './genl.ts';

export interface GenlFamilySpec<Op extends string> {
  /** The family's name in nlctrl ("ovpn", "psp"). */
  name: string;
  /** genlmsghdr.version sascope speaks (the uapi *_FAMILY_VERSION). */
  version: number;
  /** The only operations sascope sends: name → command number (uapi *_CMD_*). */
  requests: Readonly<Record<Op, number>>;
  /** Notification commands the family multicasts: command number → name. */
  notifications: Readonly<Record<number, string>>;
  /** Multicast groups to join, by name. */
  groups: readonly string[];
}

/** A request for an operation outside the family's allow-list: nothing was sent. */
export class RefusedOperationError extends Error {
  constructor(readonly source: string, readonly op: string) {
    super(`${source}: ${op}: refused, sascope never sends this operation (not in the family's allow-list)`);
    this.name = 'RefusedOperationError';
  }
}

/** A message of the family, its command named (notifications by their own name). */
export interface GenlMessage extends GenlHeader {
  /** Operation or notification name, or "cmd N" for a command the table does not know. */
  name: string;
}

export interface GenlMonitorHandlers {
  onMessage(m: GenlMessage): void;
  onOverrun(reason: string): void;
  onError(err: unknown): void;
}

export interface GenlClientOptions {
  /** Test seam: a transport in place of a NETLINK_GENERIC socket (nlctrl is asked over it too). */
  transport?: Transport;
  timeoutMs?: number;
}

export class GenlClient<Op extends string> {
  private readonly commandNames = new Map<number, string>();

  private constructor(
    readonly source: string,
    readonly spec: GenlFamilySpec<Op>,
    readonly family: GenlFamily,
    private readonly conn: NetlinkConnection,
    private readonly timeoutMs: number | undefined,
  ) {
    for (const [name, cmd] of Object.entries(spec.requests) as Array<[string, number]>) this.commandNames.set(cmd, name);
    for (const [cmd, name] of Object.entries(spec.notifications)) this.commandNames.set(Number(cmd), name);
  }

  /** Resolve the family by name (ENOENT → "family X not found (module not loaded or kernel too old)"). */
  static async open<Op extends string>(spec: GenlFamilySpec<Op>, source: string, opts: GenlClientOptions = {}): Promise<GenlClient<Op>> {
    const conn = new NetlinkConnection(source, opts.transport ?? openNetlinkTransport(source, NETLINK_GENERIC));
    try {
      const family = await new GenlResolver(conn).family(spec.name, source);
      return new GenlClient(source, spec, family, conn, opts.timeoutMs);
    } catch (err) {
      conn.close();
      throw err;
    }
  }

  /** The command of an allowed operation; anything else is refused here, before any request is built. */
  private command(op: Op): number {
    if (typeof op !== 'string' || !Object.hasOwn(this.spec.requests, op)) throw new RefusedOperationError(this.source, String(op));
    return this.spec.requests[op];
  }

  /** Whether the running kernel's family has the operation (its command is in nlctrl's op list). */
  offers(op: Op): boolean {
    return this.family.ops.has(this.command(op));
  }

  nameOf(cmd: number): string {
    return this.commandNames.get(cmd) ?? `cmd ${cmd}`;
  }

  private parse(m: NetlinkMessage, what: string): GenlMessage {
    const h = parseGenl(m, what);
    return { ...h, name: this.nameOf(h.cmd) };
  }

  private async send(op: Op, attrs: Buffer, dump: boolean, what?: string): Promise<GenlMessage[]> {
    const payload = encodeGenl(this.command(op), this.spec.version, attrs); // refused ops reject here
    const opts = { op: what ?? op, timeoutMs: this.timeoutMs };
    const replies = dump ? await this.conn.dump(this.family.id, payload, opts) : await this.conn.do(this.family.id, payload, opts);
    return replies.map((m) => this.parse(m, `${this.source} ${op} reply`));
  }

  /** A do-request (with ACK): the replies, usually one. */
  do(op: Op, attrs: Buffer = Buffer.alloc(0), what?: string): Promise<GenlMessage[]> {
    return this.send(op, attrs, false, what);
  }

  /** A dump (retried on NLM_F_DUMP_INTR by the request engine). */
  dump(op: Op, attrs: Buffer = Buffer.alloc(0), what?: string): Promise<GenlMessage[]> {
    return this.send(op, attrs, true, what);
  }

  /** Groups of the spec the running kernel has, by name → id. */
  groupIds(): Map<string, number> {
    const out = new Map<string, number>();
    for (const g of this.spec.groups) {
      const id = this.family.groups.get(g);
      if (id !== undefined) out.set(g, id);
    }
    return out;
  }

  /** A message from a multicast group, decoded to its genl header (null when another family's). */
  notification(m: NetlinkMessage): GenlMessage | null {
    if (m.type !== this.family.id) return null;
    return this.parse(m, `${this.source} notification`);
  }

  /** Join the spec's multicast groups on a socket of their own. */
  subscribe(h: GenlMonitorHandlers, receiveBufferBytes?: number): Monitor {
    return openMonitor(
      { source: this.source, protocol: NETLINK_GENERIC, groups: [...this.groupIds().values()], receiveBufferBytes },
      {
        onMessage: (m) => {
          let g: GenlMessage | null;
          try {
            g = this.notification(m);
          } catch (err) {
            h.onError(err);
            return;
          }
          if (g) h.onMessage(g);
        },
        onOverrun: h.onOverrun,
        onError: h.onError,
      },
    );
  }

  close(): void {
    this.conn.close();
  }
}

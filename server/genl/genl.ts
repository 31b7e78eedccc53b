// Generic netlink: struct genlmsghdr { __u8 cmd; __u8 version; __u16 reserved; } and the nlctrl family
// (GENL_ID_CTRL), through which every other family, its operations and its multicast groups are
// found by name. Later families (ovpn, psp, ethtool) only declare their attribute tables.
import { NETLINK_GENERIC } from '../netlink/constants.ts';
import { NetlinkConnection, openNetlinkTransport } from '../netlink/conn.ts';
import { NetlinkError } from '../netlink/errors.ts';
import { attrSet, decodeAttrs, encodeAttrs, type Decoded } from '../netlink/spec.ts';
import type { NetlinkMessage } from '../netlink/message.ts';
import { DecodeError } from '../netlink/errors.ts';
import { Errno } from '../sys/errno.ts';

export const GENL_HDRLEN = 4;
export const GENL_ID_CTRL = 0x10;
export const CTRL_CMD_NEWFAMILY = 1;
export const CTRL_CMD_DELFAMILY = 2;
export const CTRL_CMD_GETFAMILY = 3;
/** nlctrl's one multicast group, "notify" (NEWFAMILY/DELFAMILY): its id is GENL_ID_CTRL (net/netlink/genetlink.c, mc_group_start). */
export const GENL_CTRL_NOTIFY_GROUP = GENL_ID_CTRL;

const opAttrs = attrSet('nlctrl-op', [
  [1, { name: 'id', type: 'u32' }],
  [2, { name: 'flags', type: 'u32' }],
]);
const mcastAttrs = attrSet('nlctrl-mcast-group', [
  [1, { name: 'name', type: 'string' }],
  [2, { name: 'id', type: 'u32' }],
]);
export const ctrlAttrs = attrSet('nlctrl', [
  [1, { name: 'family-id', type: 'u16' }],
  [2, { name: 'family-name', type: 'string' }],
  [3, { name: 'version', type: 'u32' }],
  [4, { name: 'hdrsize', type: 'u32' }],
  [5, { name: 'maxattr', type: 'u32' }],
  [6, { name: 'ops', type: 'array', nest: opAttrs }],
  [7, { name: 'mcast-groups', type: 'array', nest: mcastAttrs }],
]);

export function encodeGenl(cmd: number, version: number, attrs: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(GENL_HDRLEN);
  h.writeUInt8(cmd, 0);
  h.writeUInt8(version, 1);
  return Buffer.concat([h, attrs]);
}

export interface GenlHeader {
  cmd: number;
  version: number;
  attrs: Buffer;
}

export function parseGenl(m: NetlinkMessage, what: string): GenlHeader {
  if (m.payload.length < GENL_HDRLEN) throw new DecodeError(what, 0, `genl payload of ${m.payload.length} bytes, shorter than genlmsghdr`);
  return { cmd: m.payload.readUInt8(0), version: m.payload.readUInt8(1), attrs: m.payload.subarray(GENL_HDRLEN) };
}

export interface GenlFamily {
  id: number;
  name: string;
  version: number;
  /** Operations the running kernel offers: command number → flags. */
  ops: Map<number, number>;
  /** Multicast groups: name → group id. */
  groups: Map<string, number>;
}

export function familyFromDecoded(d: Decoded<typeof ctrlAttrs>): GenlFamily {
  const ops = new Map<number, number>();
  for (const o of d.ops ?? []) ops.set(Number(o.id), Number(o.flags ?? 0));
  const groups = new Map<string, number>();
  for (const g of d['mcast-groups'] ?? []) groups.set(String(g.name), Number(g.id));
  return { id: Number(d['family-id']), name: String(d['family-name']), version: Number(d['version'] ?? 1), ops, groups };
}

/** Resolves generic netlink families by name through nlctrl. */
export class GenlResolver {
  constructor(private readonly conn: NetlinkConnection) {}

  static open(source = 'nlctrl'): GenlResolver {
    return new GenlResolver(new NetlinkConnection(source, openNetlinkTransport(source, NETLINK_GENERIC)));
  }

  /** The family, or a NetlinkError whose message says the family is absent (module not loaded). */
  async family(name: string, source = name): Promise<GenlFamily> {
    const attrs = encodeAttrs(ctrlAttrs, { 'family-name': name });
    let replies: NetlinkMessage[];
    try {
      replies = await this.conn.do(GENL_ID_CTRL, encodeGenl(CTRL_CMD_GETFAMILY, 1, attrs), { op: `resolve family ${name}` });
    } catch (err) {
      if (err instanceof NetlinkError && err.errno === Errno.ENOENT) {
        throw new NetlinkError(source, 'resolve family', Errno.ENOENT, { message: `family ${name} not found (module not loaded or kernel too old)` });
      }
      throw err;
    }
    const reply = replies[0];
    if (!reply) throw new NetlinkError(source, 'resolve family', Errno.ENOENT, { message: `nlctrl gave no answer for ${name}` });
    const d = decodeAttrs(ctrlAttrs, parseGenl(reply, 'nlctrl').attrs, 'nlctrl');
    return familyFromDecoded(d);
  }

  /** Every family the kernel has. */
  async families(): Promise<GenlFamily[]> {
    const parts = await this.conn.dump(GENL_ID_CTRL, encodeGenl(CTRL_CMD_GETFAMILY, 1), { op: 'list families' });
    return parts.map((m) => familyFromDecoded(decodeAttrs(ctrlAttrs, parseGenl(m, 'nlctrl').attrs, 'nlctrl')));
  }

  close(): void {
    this.conn.close();
  }
}

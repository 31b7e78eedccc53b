// RTM_NEWLINK/RTM_DELLINK → Link.
import { decodeStruct } from '../../netlink/struct.ts';
import { decodeAttrs } from '../../netlink/spec.ts';
import type { NetlinkMessage } from '../../netlink/message.ts';
import type { Link } from '../../wire/entities.ts';
import { formatMac } from '../address.ts';
import { flagNames } from '../names.ts';
import { ARPHRD, IFF_FLAGS, decodeStats64, ifinfomsg, infoDataByKind, linkAttrs } from './spec.ts';

export function decodeLink(m: NetlinkMessage): Link {
  const what = `link message ${m.type}`;
  const h = decodeStruct<{ type: number; index: number; flags: number }>(ifinfomsg, m.payload, 0, what);
  const a = decodeAttrs(linkAttrs, m.payload.subarray(ifinfomsg.size), what);
  const link: Link = {
    index: h.index,
    name: (a['ifname'] as string | undefined) ?? `if${h.index}`,
    type: ARPHRD[h.type] ?? String(h.type),
    flags: flagNames(h.flags, IFF_FLAGS),
    operState: (a['operstate'] as string | undefined) ?? 'unknown',
  };
  if (a['mtu'] !== undefined) link.mtu = a['mtu'] as number;
  if (a['address']) link.address = formatMac(a['address'] as Buffer);
  if (a['master'] !== undefined) link.master = a['master'] as number;
  if (a['link'] !== undefined) link.link = a['link'] as number;
  const info = a['linkinfo'] as { kind?: string; data?: Buffer } | undefined;
  if (info?.kind) {
    link.kind = info.kind;
    const set = infoDataByKind[info.kind];
    if (set && info.data) {
      const d = decodeAttrs(set, info.data, `${what} ${info.kind} data`);
      if (info.kind === 'xfrm' && d['if-id'] !== undefined) link.xfrmIfId = d['if-id'] as number;
      if (info.kind === 'ovpn' && d['mode'] !== undefined) link.ovpnMode = String(d['mode']);
    }
  }
  const stats = a['stats64'] ? decodeStats64(a['stats64'] as Buffer) : undefined;
  if (stats) link.stats = stats;
  if (a.unknown) link.unknown = a.unknown;
  return link;
}

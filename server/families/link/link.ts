// RTM_NEWLINK/RTM_DELLINK → Link.
import { decodeStruct } from '../../netlink/struct.ts';
import { decodeAttrs } from '../../netlink/spec.ts';
import type { NetlinkMessage } from '../../netlink/message.ts';
import type { Link } from '../../wire/entities.ts';
import { formatMac } from '../address.ts';
import { flagNames } from '../names.ts';
import { ARPHRD, IFF_FLAGS, decodeStats64, ifinfomsg, infoDataByKind, linkAttrs, ovpnInfoData, xfrmInfoData } from './spec.ts';

export function decodeLink(m: NetlinkMessage): Link {
  const what = `link message ${m.type}`;
  const h = decodeStruct(ifinfomsg, m.payload, 0, what);
  const a = decodeAttrs(linkAttrs, m.payload.subarray(ifinfomsg.size), what);
  const link: Link = {
    index: h.index,
    name: a.ifname ?? `if${h.index}`,
    type: ARPHRD[h.type] ?? String(h.type),
    flags: flagNames(h.flags, IFF_FLAGS),
    // IF_OPER_* by name; a number the table does not name yet, as its digits
    operState: String(a.operstate ?? 'unknown'),
  };
  if (a.mtu !== undefined) link.mtu = a.mtu;
  if (a.address) link.address = formatMac(a.address);
  if (a.master !== undefined) link.master = a.master;
  if (a.link !== undefined) link.link = a.link;
  const info = a.linkinfo;
  if (info?.kind) {
    link.kind = info.kind;
    const dataWhat = `${what} ${info.kind} data`;
    if (info.data && info.kind === 'xfrm') {
      const d = decodeAttrs(xfrmInfoData, info.data, dataWhat);
      if (d['if-id'] !== undefined) link.xfrmIfId = d['if-id'];
    } else if (info.data && info.kind === 'ovpn') {
      const d = decodeAttrs(ovpnInfoData, info.data, dataWhat);
      if (d.mode !== undefined) link.ovpnMode = String(d.mode);
    } else if (info.data && infoDataByKind[info.kind]) {
      decodeAttrs(infoDataByKind[info.kind], info.data, dataWhat); // other kinds' data is checked, not kept
    }
  }
  const stats = a.stats64 ? decodeStats64(a.stats64) : undefined;
  if (stats) link.stats = stats;
  if (a.unknown) link.unknown = a.unknown;
  return link;
}

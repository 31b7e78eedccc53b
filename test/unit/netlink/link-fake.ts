// rtnetlink links for fake transports: RTM_NEWLINK/DELLINK messages (ifinfomsg + IFLA_IFNAME +
// IFLA_LINKINFO { kind, data }) and a transport that answers RTM_GETLINK dumps from a mutable list.
import { AttrWriter } from '../../../server/netlink/attr.ts';
import type { NetlinkMessage } from '../../../server/netlink/message.ts';
import { encodeStruct } from '../../../server/netlink/struct.ts';
import { RTM, ifinfomsg } from '../../../server/families/link/spec.ts';
import { fakeTransport, multipart, type FakeTransport } from './fake.ts';

export interface FakeLink {
  index: number;
  name: string;
  kind?: string;
  /** IFLA_OVPN_MODE: 0 p2p, 1 mp. */
  ovpnMode?: number;
}

export function linkPayload(l: FakeLink): Buffer {
  const w = new AttrWriter().string(3, l.name).u8(16, 6 /* IF_OPER_UP */);
  if (l.kind) {
    w.nest(18, (info) => {
      info.string(1, l.kind!);
      if (l.ovpnMode !== undefined) info.nest(2, (d) => d.u8(1, l.ovpnMode!));
    });
  }
  return Buffer.concat([encodeStruct(ifinfomsg, { family: 0, type: 65534, index: l.index, flags: 1, change: 0 }), w.encode()]);
}

/** An RTNLGRP_LINK event. */
export function linkEvent(type: 'new' | 'del', l: FakeLink): NetlinkMessage {
  return { type: type === 'new' ? RTM.NEWLINK : RTM.DELLINK, flags: 0, seq: 0, pid: 0, payload: linkPayload(l) };
}

/** Answers RTM_GETLINK dumps with the current contents of `links`. */
export function linkFake(links: FakeLink[]): FakeTransport {
  return fakeTransport((req) => {
    if (req.type !== RTM.GETLINK) throw new Error(`unexpected rtnetlink request ${req.type}`);
    return multipart(req, RTM.NEWLINK, links.map(linkPayload));
  });
}

// The rtnetlink link table (server/families/link/spec.ts) against the 7.2 uapi headers of the lab's source
// tree (<linux/rtnetlink.h>, <linux/if_link.h>, <linux/if_tunnel.h>, <linux/veth.h>, <linux/if.h>,
// <linux/if_arp.h>) and the attribute types against the kernel's own policies (rtnetlink.c and each kind's driver).
import { test } from 'node:test';
import * as link from '../../../server/families/link/spec.ts';
import type { AttrSet } from '../../../server/netlink/spec.ts';
import { assertSetMatchesSpec, ynlSpec, assertAttrsMatchEnum, assertAttrsMatchPolicy, assertNamesMatch, assertStructMatches, headerConstants, linuxSource, nlaPolicy, pairs, structLayouts, uapiHeader } from './kernel.ts';

const src = linuxSource('link tables');
if (src) {
  const rtnetlink = uapiHeader(src, 'linux/rtnetlink.h');
  const k = headerConstants(rtnetlink, ...['if_link.h', 'if_tunnel.h', 'veth.h', 'if.h', 'if_arp.h'].map((h) => uapiHeader(src, `linux/${h}`)));
  const layouts = structLayouts(src, ['linux/rtnetlink.h'], rtnetlink, ['ifinfomsg']);

  test('struct ifinfomsg has the kernel\'s layout', () => assertStructMatches(link.ifinfomsg, layouts.get('ifinfomsg')!));
  test('RTM and RTNLGRP_LINK are the kernel\'s', () => {
    assertNamesMatch('RTM', Object.entries(link.RTM).map(([n, v]) => [v, n]), 'RTM_', k, String);
    assertNamesMatch('RTNLGRP_LINK', [[link.RTNLGRP_LINK, 'RTNLGRP_LINK']], '', k, String);
  });

  const linkInfo = link.linkAttrs.attrs.get(18)!.nest!;
  // [set, C prefix, policy file, policy array]
  const sets: Array<[string, AttrSet, string, string, string]> = [
    ['linkAttrs', link.linkAttrs, 'IFLA_', 'net/core/rtnetlink.c', 'ifla_policy'],
    ['linkinfo', linkInfo, 'IFLA_INFO_', 'net/core/rtnetlink.c', 'ifla_info_policy'],
    ['info data of xfrm', link.infoDataByKind['xfrm']!, 'IFLA_XFRM_', 'net/xfrm/xfrm_interface_core.c', 'xfrmi_policy'],
    ['info data of ovpn', link.infoDataByKind['ovpn']!, 'IFLA_OVPN_', 'drivers/net/ovpn/main.c', 'ovpn_policy'],
    ['info data of vti', link.infoDataByKind['vti']!, 'IFLA_VTI_', 'net/ipv4/ip_vti.c', 'vti_policy'],
    ['info data of vti6', link.infoDataByKind['vti6']!, 'IFLA_VTI_', 'net/ipv6/ip6_vti.c', 'vti6_policy'],
    ['info data of veth', link.infoDataByKind['veth']!, 'VETH_INFO_', 'drivers/net/veth.c', 'veth_policy'],
  ];
  for (const [what, set, prefix, file, policy] of sets) {
    test(`${what}: numbers are ${prefix}*`, () => assertAttrsMatchEnum(set, prefix, k));
    test(`${what}: types are those of ${policy} (${file})`, () => assertAttrsMatchPolicy(set, prefix, nlaPolicy(src, file, policy)));
  }

  // rt-link.yaml (netlink-raw) as the kernel's ynl resolves it: the link attributes, linkinfo, and each
  // kind's IFLA_INFO_DATA set where the spec has a format for that kind (not xfrm or veth in 7.2).
  const rtLink = ynlSpec(src, 'rt-link');
  test('linkAttrs and linkinfo match rt-link.yaml\'s link-attrs', () => assertSetMatchesSpec(link.linkAttrs, rtLink, 'link-attrs'));
  const dataFormats = rtLink.subMessages[rtLink.attrSets['linkinfo-attrs']!.attrs.find((a) => a.name === 'data')!.subMessage!]!;
  for (const [kind, set] of Object.entries(link.infoDataByKind)) {
    const specSet = dataFormats[kind];
    if (specSet) test(`info data of ${kind} matches rt-link.yaml's ${specSet}`, () => assertSetMatchesSpec(set, rtLink, specSet));
  }

  const named = (m: Record<string, string>) => (n: string) => m[n] ?? `?${n}`;
  const tables: Array<[string, Array<[number, string]>, string, ((n: string) => string)?]> = [
    ['operstate', pairs(link.linkAttrs.attrs.get(16)!.enum!), 'IF_OPER_'],
    ['ovpn mode', pairs(link.infoDataByKind['ovpn']!.attrs.get(1)!.enum!), 'OVPN_MODE_'],
    ['IFF_FLAGS', pairs(link.IFF_FLAGS), 'IFF_'],
    ['ARPHRD', pairs(link.ARPHRD), 'ARPHRD_', named({
      ether: 'ETHER', ipip: 'TUNNEL', tunnel6: 'TUNNEL6', loopback: 'LOOPBACK', sit: 'SIT', gre: 'IPGRE', ip6gre: 'IP6GRE', none: 'NONE', void: 'VOID',
    })],
  ];
  for (const [what, table, prefix, name] of tables) test(`${what} matches the headers`, () => assertNamesMatch(what, table, prefix, k, name));
}

// rtnetlink links declared once: struct ifinfomsg, IFLA_* (<linux/if_link.h>), IFLA_LINKINFO and the
// per-kind IFLA_INFO_DATA sets (the sub-message pattern: the kind names the set of its data).
import { defineStruct } from '../../netlink/struct.ts';
import { attrSet, type AttrSet } from '../../netlink/spec.ts';

export const RTM = { NEWLINK: 16, DELLINK: 17, GETLINK: 18 } as const;
export const RTNLGRP_LINK = 1;

// struct ifinfomsg { unsigned char ifi_family; unsigned char __ifi_pad; unsigned short ifi_type; int ifi_index; unsigned ifi_flags; unsigned ifi_change; };
export const ifinfomsg = defineStruct('ifinfomsg', 16, [
  ['family', 'u8'], ['_pad', { pad: 1 }], ['type', 'u16'], ['index', 's32'], ['flags', 'u32'], ['change', 'u32'],
]);

// struct rtnl_link_stats64: the first eight counters (the rest vary by kernel version and stay unread)
export function decodeStats64(data: Buffer) {
  if (data.length < 8 * 8) return undefined;
  const u64 = (i: number) => data.readBigUInt64LE(i * 8);
  return { rxPackets: u64(0), txPackets: u64(1), rxBytes: u64(2), txBytes: u64(3), rxErrors: u64(4), txErrors: u64(5), rxDropped: u64(6), txDropped: u64(7) };
}

export const xfrmInfoData = attrSet('ifla-xfrm', [
  [1, { name: 'link', type: 'u32' }],
  [2, { name: 'if-id', type: 'u32' }],
  [3, { name: 'collect-metadata', type: 'flag' }],
]);
export const ovpnInfoData = attrSet('ifla-ovpn', [[1, { name: 'mode', type: 'u8', enum: { 0: 'p2p', 1: 'mp' } }]]);
// IFLA_VTI_*: one numbering for vti and vti6, but the addresses are in_addr (ip_vti.c) or in6_addr (ip6_vti.c).
const vtiInfoData = (name: string, addr: 'ipv4' | 'ipv6') => attrSet(name, [
  [1, { name: 'link', type: 'u32' }],
  [2, { name: 'ikey', type: 'be32' }],
  [3, { name: 'okey', type: 'be32' }],
  [4, { name: 'local', type: 'binary', hint: addr }],
  [5, { name: 'remote', type: 'binary', hint: addr }],
  [6, { name: 'fwmark', type: 'u32' }],
]);
const vethInfoData = attrSet('ifla-veth', [[1, { name: 'peer', type: 'binary' }]]);

/** IFLA_INFO_DATA sets by kind. */
export const infoDataByKind: Record<string, AttrSet> = { xfrm: xfrmInfoData, ovpn: ovpnInfoData, vti: vtiInfoData('ifla-vti', 'ipv4'), vti6: vtiInfoData('ifla-vti6', 'ipv6'), veth: vethInfoData };

const linkInfo = attrSet('ifla-linkinfo', [
  [1, { name: 'kind', type: 'string' }],
  [2, { name: 'data', type: 'binary' }],
  [3, { name: 'xstats', type: 'binary' }],
  [4, { name: 'slave-kind', type: 'string' }],
  [5, { name: 'slave-data', type: 'binary' }],
]);

export const linkAttrs = attrSet('ifla', [
  [1, { name: 'address', type: 'binary', hint: 'mac' }],
  [2, { name: 'broadcast', type: 'binary', hint: 'mac' }],
  [3, { name: 'ifname', type: 'string' }],
  [4, { name: 'mtu', type: 'u32' }],
  [5, { name: 'link', type: 'u32' }],
  [6, { name: 'qdisc', type: 'string' }],
  [7, { name: 'stats', type: 'binary' }],
  [10, { name: 'master', type: 'u32' }],
  [13, { name: 'txqlen', type: 'u32' }],
  [16, { name: 'operstate', type: 'u8', enum: { 0: 'unknown', 1: 'notpresent', 2: 'down', 3: 'lowerlayerdown', 4: 'testing', 5: 'dormant', 6: 'up' } }],
  [17, { name: 'linkmode', type: 'u8' }],
  [18, { name: 'linkinfo', type: 'nest', nest: linkInfo }],
  [20, { name: 'ifalias', type: 'string' }],
  [23, { name: 'stats64', type: 'binary' }],
  [27, { name: 'group', type: 'u32' }],
  [30, { name: 'promiscuity', type: 'u32' }],
  [31, { name: 'num-tx-queues', type: 'u32' }],
  [32, { name: 'num-rx-queues', type: 'u32' }],
  [33, { name: 'carrier', type: 'u8' }],
  [35, { name: 'carrier-changes', type: 'u32' }],
  [37, { name: 'link-netnsid', type: 's32' }],
  [39, { name: 'proto-down', type: 'u8' }],
  [50, { name: 'min-mtu', type: 'u32' }],
  [51, { name: 'max-mtu', type: 'u32' }],
  [54, { name: 'perm-address', type: 'binary', hint: 'mac' }],
  [56, { name: 'parent-dev-name', type: 'string' }],
  [57, { name: 'parent-dev-bus-name', type: 'string' }],
]);

// IFF_* from <linux/if.h>
export const IFF_FLAGS: Array<[number, string]> = [
  [0x1, 'UP'], [0x2, 'BROADCAST'], [0x4, 'DEBUG'], [0x8, 'LOOPBACK'], [0x10, 'POINTOPOINT'], [0x20, 'NOTRAILERS'],
  [0x40, 'RUNNING'], [0x80, 'NOARP'], [0x100, 'PROMISC'], [0x200, 'ALLMULTI'], [0x400, 'MASTER'], [0x800, 'SLAVE'],
  [0x1000, 'MULTICAST'], [0x2000, 'PORTSEL'], [0x4000, 'AUTOMEDIA'], [0x8000, 'DYNAMIC'], [0x10000, 'LOWER_UP'],
  [0x20000, 'DORMANT'], [0x40000, 'ECHO'],
];

// ARPHRD_* from <linux/if_arp.h>
export const ARPHRD: Record<number, string> = {
  1: 'ether', 768: 'ipip', 769: 'tunnel6', 772: 'loopback', 776: 'sit', 778: 'gre', 823: 'ip6gre', 65534: 'none', 65535: 'void',
};

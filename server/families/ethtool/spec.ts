// The ethtool generic netlink family declared once (Documentation/netlink/specs/ethtool.yaml,
// <linux/ethtool_netlink_generated.h>, <linux/ethtool.h>): the commands sascope sends (strset-get,
// features-get, stats-get only — never a *-set or *-act), the notification it listens to
// (features-ntf on the "monitor" group), and the header / bitset / string-set / features sets.
// Commands are numbered separately per direction: ETHTOOL_MSG_* user→kernel, ETHTOOL_MSG_*_REPLY/_NTF
// kernel→user (features-get is 11 both ways; features-ntf is kernel message 13).
import { attrSet } from '../../netlink/spec.ts';
import type { GenlFamilySpec } from '../../genl/client.ts';

export const ETHTOOL_MSG = { STRSET_GET: 1, FEATURES_GET: 11, STATS_GET: 32 } as const;
export const ETHTOOL_MSG_KERNEL = { STRSET_GET_REPLY: 1, FEATURES_GET_REPLY: 11, FEATURES_NTF: 13, STATS_GET_REPLY: 33 } as const;

export type EthtoolOp = 'strset-get' | 'features-get' | 'stats-get';

export const ethtoolFamily: GenlFamilySpec<EthtoolOp> = {
  name: 'ethtool', // ETHTOOL_GENL_NAME
  version: 1, // ETHTOOL_GENL_VERSION
  requests: { 'strset-get': ETHTOOL_MSG.STRSET_GET, 'features-get': ETHTOOL_MSG.FEATURES_GET, 'stats-get': ETHTOOL_MSG.STATS_GET },
  notifications: { [ETHTOOL_MSG_KERNEL.FEATURES_NTF]: 'features-ntf' },
  groups: ['monitor'], // ETHTOOL_MCGRP_MONITOR_NAME
};

// enum ethtool_header_flags
export const ETHTOOL_FLAG_COMPACT_BITSETS = 1;

// enum ethtool_stringset (the ids sascope asks for)
export const ETH_SS_STATS = 1;
export const ETH_SS_FEATURES = 4;

// ETHTOOL_A_HEADER_*: requests are built from these tables by name (features.ts).
export const headerAttrs = attrSet('ethtool-header', [
  [1, { name: 'dev-index', type: 'u32' }],
  [2, { name: 'dev-name', type: 'string' }],
  [3, { name: 'flags', type: 'u32' }],
  [4, { name: 'phy-index', type: 'u32' }],
]);

// ETHTOOL_A_BITSET_BIT_*, _BITS_*, ETHTOOL_A_BITSET_*
const bitsetBitAttrs = attrSet('ethtool-bitset-bit', [
  [1, { name: 'index', type: 'u32' }],
  [2, { name: 'name', type: 'string' }],
  [3, { name: 'value', type: 'flag' }],
]);
const bitsetBitsAttrs = attrSet('ethtool-bitset-bits', [[1, { name: 'bit', type: 'nest', nest: bitsetBitAttrs, multi: true }]]);
export const bitsetAttrs = attrSet('ethtool-bitset', [
  [1, { name: 'nomask', type: 'flag' }],
  [2, { name: 'size', type: 'u32' }],
  [3, { name: 'bits', type: 'nest', nest: bitsetBitsAttrs }],
  [4, { name: 'value', type: 'binary' }],
  [5, { name: 'mask', type: 'binary' }],
]);

// ETHTOOL_A_STRING_*, _STRINGS_*, _STRINGSET_*, _STRINGSETS_*, ETHTOOL_A_STRSET_*
const stringAttrs = attrSet('ethtool-string', [
  [1, { name: 'index', type: 'u32' }],
  [2, { name: 'value', type: 'string' }],
]);
const stringsAttrs = attrSet('ethtool-strings', [[1, { name: 'string', type: 'nest', nest: stringAttrs, multi: true }]]);
const stringsetAttrs = attrSet('ethtool-stringset', [
  [1, { name: 'id', type: 'u32' }],
  [2, { name: 'count', type: 'u32' }],
  [3, { name: 'strings', type: 'nest', nest: stringsAttrs, multi: true }],
]);
const stringsetsAttrs = attrSet('ethtool-stringsets', [[1, { name: 'stringset', type: 'nest', nest: stringsetAttrs, multi: true }]]);
export const strsetAttrs = attrSet('ethtool-strset', [
  [1, { name: 'header', type: 'nest', nest: headerAttrs }],
  [2, { name: 'stringsets', type: 'nest', nest: stringsetsAttrs }],
  [3, { name: 'counts-only', type: 'flag' }],
]);

// ETHTOOL_A_FEATURES_*
export const featuresAttrs = attrSet('ethtool-features', [
  [1, { name: 'header', type: 'nest', nest: headerAttrs }],
  [2, { name: 'hw', type: 'nest', nest: bitsetAttrs }],
  [3, { name: 'wanted', type: 'nest', nest: bitsetAttrs }],
  [4, { name: 'active', type: 'nest', nest: bitsetAttrs }],
  [5, { name: 'nochange', type: 'nest', nest: bitsetAttrs }],
]);

/** Where stats-get stands in this kernel: standard groups only (eth-phy, eth-mac, eth-ctrl, rmon, phy). */
export const DRIVER_STATS_NOTE = 'not offered over netlink by this kernel (stats-get carries only the standard IEEE 802.3 / RMON groups; driver counters exist only behind the legacy ethtool ioctl)';

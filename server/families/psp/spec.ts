// The psp generic netlink family declared once (Documentation/netlink/specs/psp.yaml, <linux/psp.h>):
// commands, the mgmt and use multicast groups, the version enum and the dev / assoc-dev-info / stats sets.
//
// Read-only by construction: the request table below holds dev-get and get-stats and nothing else. The
// association operations (the Rx one returns key material) and every state-changing operation have no
// entry, so GenlClient refuses them before building a request (test/unit/psp proves it).
import { attrSet } from '../../netlink/spec.ts';
import type { GenlFamilySpec } from '../../genl/client.ts';

// enum { PSP_CMD_DEV_GET = 1, … }: only the commands sascope sends or hears are named here.
export const PSP_CMD = {
  DEV_GET: 1, DEV_ADD_NTF: 2, DEV_DEL_NTF: 3, DEV_CHANGE_NTF: 5, KEY_ROTATE_NTF: 7, GET_STATS: 10,
} as const;

export type PspOp = 'dev-get' | 'get-stats';

export const pspFamily: GenlFamilySpec<PspOp> = {
  name: 'psp',
  version: 1, // PSP_FAMILY_VERSION
  requests: { 'dev-get': PSP_CMD.DEV_GET, 'get-stats': PSP_CMD.GET_STATS },
  notifications: {
    [PSP_CMD.DEV_ADD_NTF]: 'dev-add-ntf',
    [PSP_CMD.DEV_DEL_NTF]: 'dev-del-ntf',
    [PSP_CMD.DEV_CHANGE_NTF]: 'dev-change-ntf',
    [PSP_CMD.KEY_ROTATE_NTF]: 'key-rotate-ntf',
  },
  groups: ['mgmt', 'use'], // PSP_MCGRP_MGMT, PSP_MCGRP_USE
};

// enum psp_version, a bit number each in psp-versions-cap / -ena (enum-as-flags).
export const PSP_VERSION: Array<[number, string]> = [
  [1 << 0, 'hdr0-aes-gcm-128'],
  [1 << 1, 'hdr0-aes-gcm-256'],
  [1 << 2, 'hdr0-aes-gmac-128'],
  [1 << 3, 'hdr0-aes-gmac-256'],
];

// PSP_A_ASSOC_DEV_INFO_*
const assocDevInfoAttrs = attrSet('psp-assoc-dev-info', [
  [1, { name: 'ifindex', type: 'u32' }],
  [2, { name: 'nsid', type: 's32' }],
]);

// PSP_A_DEV_*: requests are built from these tables by name (dev.ts).
export const devAttrs = attrSet('psp-dev', [
  [1, { name: 'id', type: 'u32' }],
  [2, { name: 'ifindex', type: 'u32' }],
  [3, { name: 'psp-versions-cap', type: 'u32' }],
  [4, { name: 'psp-versions-ena', type: 'u32' }],
  [5, { name: 'assoc-list', type: 'nest', nest: assocDevInfoAttrs, multi: true }],
  [6, { name: 'nsid', type: 's32' }],
  [7, { name: 'by-association', type: 'flag' }],
]);

// PSP_A_STATS_*
export const statsAttrs = attrSet('psp-stats', [
  [1, { name: 'dev-id', type: 'u32' }],
  [2, { name: 'key-rotations', type: 'uint' }],
  [3, { name: 'stale-events', type: 'uint' }],
  [4, { name: 'rx-packets', type: 'uint' }],
  [5, { name: 'rx-bytes', type: 'uint' }],
  [6, { name: 'rx-auth-fail', type: 'uint' }],
  [7, { name: 'rx-error', type: 'uint' }],
  [8, { name: 'rx-bad', type: 'uint' }],
  [9, { name: 'tx-packets', type: 'uint' }],
  [10, { name: 'tx-bytes', type: 'uint' }],
  [11, { name: 'tx-error', type: 'uint' }],
]);

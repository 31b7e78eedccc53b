// The ovpn generic netlink family declared once (Documentation/netlink/specs/ovpn.yaml, <linux/ovpn.h>):
// commands, the peers multicast group, the enums and the attribute sets peer / keyconf / keydir / ovpn.
// sascope sends only peer-get and key-get; everything that changes state or carries keys is left out.
import { attrSet } from '../../netlink/spec.ts';
import { DecodeError } from '../../netlink/errors.ts';
import type { GenlFamilySpec } from '../../genl/client.ts';
import { formatIPv4, formatIPv6 } from '../address.ts';

// enum { OVPN_CMD_PEER_NEW = 1, … OVPN_CMD_PEER_FLOAT_NTF }
export const OVPN_CMD = {
  PEER_NEW: 1, PEER_SET: 2, PEER_GET: 3, PEER_DEL: 4, PEER_DEL_NTF: 5,
  KEY_NEW: 6, KEY_GET: 7, KEY_SWAP: 8, KEY_SWAP_NTF: 9, KEY_DEL: 10, PEER_FLOAT_NTF: 11,
} as const;

export type OvpnOp = 'peer-get' | 'key-get';

export const ovpnFamily: GenlFamilySpec<OvpnOp> = {
  name: 'ovpn',
  version: 1, // OVPN_FAMILY_VERSION
  requests: { 'peer-get': OVPN_CMD.PEER_GET, 'key-get': OVPN_CMD.KEY_GET },
  notifications: {
    [OVPN_CMD.PEER_DEL_NTF]: 'peer-del-ntf',
    [OVPN_CMD.KEY_SWAP_NTF]: 'key-swap-ntf',
    [OVPN_CMD.PEER_FLOAT_NTF]: 'peer-float-ntf', // since 6.17; older kernels never send it
  },
  groups: ['peers'], // OVPN_MCGRP_PEERS
};

// enum ovpn_cipher_alg, ovpn_del_peer_reason, ovpn_key_slot
export const CIPHER_ALG = { 0: 'none', 1: 'aes-gcm', 2: 'chacha20-poly1305' } as const;
export const DEL_PEER_REASON = { 0: 'teardown', 1: 'userspace', 2: 'expired', 3: 'transport-error', 4: 'transport-disconnect' } as const;
export const KEY_SLOT = { 0: 'primary', 1: 'secondary' } as const;
export const KEY_SLOTS = [0, 1] as const;

/** An address attribute of exactly `len` bytes (network order) as text. */
function address(len: 4 | 16): (data: Buffer, what: string) => string {
  return (data, what) => {
    if (data.length !== len) throw new DecodeError(what, 0, `address of ${data.length} bytes, want ${len}`);
    return len === 4 ? formatIPv4(data) : formatIPv6(data);
  };
}

/**
 * A small unsigned integer of 1, 2 or 4 bytes. The spec says key-id is u32 and key-get sends 4 bytes,
 * but ovpn_nl_key_swap_notify() puts it with nla_put_u16 (7.2): accept what the kernel really sends.
 */
function smallUint(data: Buffer, what: string): number {
  switch (data.length) {
    case 1: return data.readUInt8(0);
    case 2: return data.readUInt16LE(0);
    case 4: return data.readUInt32LE(0);
    default: throw new DecodeError(what, 0, `integer of ${data.length} bytes, want 1, 2 or 4`);
  }
}

/** OVPN_A_KEYDIR_*: key material. The kernel never sends it to sascope; were it to, only its length is kept. */
function keydirLengths(data: Buffer): { bytes: number } {
  return { bytes: data.length };
}

// OVPN_A_PEER_*
export const peerAttrs = attrSet('ovpn-peer', [
  [1, { name: 'id', type: 'u32' }],
  [2, { name: 'remote-ipv4', type: 'custom', decode: address(4), hint: 'ipv4' }],
  [3, { name: 'remote-ipv6', type: 'custom', decode: address(16), hint: 'ipv6' }],
  [4, { name: 'remote-ipv6-scope-id', type: 'u32' }],
  [5, { name: 'remote-port', type: 'be16' }],
  [6, { name: 'socket', type: 'u32' }],
  [7, { name: 'socket-netnsid', type: 's32' }],
  [8, { name: 'vpn-ipv4', type: 'custom', decode: address(4), hint: 'ipv4' }],
  [9, { name: 'vpn-ipv6', type: 'custom', decode: address(16), hint: 'ipv6' }],
  [10, { name: 'local-ipv4', type: 'custom', decode: address(4), hint: 'ipv4' }],
  [11, { name: 'local-ipv6', type: 'custom', decode: address(16), hint: 'ipv6' }],
  [12, { name: 'local-port', type: 'be16' }],
  [13, { name: 'keepalive-interval', type: 'u32' }],
  [14, { name: 'keepalive-timeout', type: 'u32' }],
  [15, { name: 'del-reason', type: 'u32', enum: DEL_PEER_REASON }],
  [16, { name: 'vpn-rx-bytes', type: 'uint' }],
  [17, { name: 'vpn-tx-bytes', type: 'uint' }],
  [18, { name: 'vpn-rx-packets', type: 'uint' }],
  [19, { name: 'vpn-tx-packets', type: 'uint' }],
  [20, { name: 'link-rx-bytes', type: 'uint' }],
  [21, { name: 'link-tx-bytes', type: 'uint' }],
  [22, { name: 'link-rx-packets', type: 'uint' }],
  [23, { name: 'link-tx-packets', type: 'uint' }],
  [24, { name: 'tx-id', type: 'u32' }],
]);

// OVPN_A_KEYDIR_*: both members are secret-bearing (the nonce tail is half the IV).
const keydirAttrs = attrSet('ovpn-keydir', [
  [1, { name: 'cipher-key', type: 'custom', decode: keydirLengths }],
  [2, { name: 'nonce-tail', type: 'custom', decode: keydirLengths }],
], { redactUnknown: true });

// OVPN_A_KEYCONF_*: a set that may carry keys, so unknown members keep only number and length.
export const keyconfAttrs = attrSet('ovpn-keyconf', [
  [1, { name: 'peer-id', type: 'u32' }],
  [2, { name: 'slot', type: 'u32', enum: KEY_SLOT }],
  [3, { name: 'key-id', type: 'custom', decode: smallUint }],
  [4, { name: 'cipher-alg', type: 'u32', enum: CIPHER_ALG }],
  [5, { name: 'encrypt-dir', type: 'nest', nest: keydirAttrs }],
  [6, { name: 'decrypt-dir', type: 'nest', nest: keydirAttrs }],
], { redactUnknown: true });

// OVPN_A_*: requests are built from these tables by name (peer.ts).
export const ovpnAttrs = attrSet('ovpn', [
  [1, { name: 'ifindex', type: 'u32' }],
  [2, { name: 'peer', type: 'nest', nest: peerAttrs }],
  [3, { name: 'keyconf', type: 'nest', nest: keyconfAttrs }],
]);

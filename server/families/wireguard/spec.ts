// The wireguard generic netlink family declared once (Documentation/netlink/specs/wireguard.yaml,
// <linux/wireguard.h>): the two commands, the flag enums and the attribute sets wgdevice / wgpeer /
// wgallowedip. The family has no multicast groups: sascope polls get-device per device.
//
// Read-only by construction: the request table holds get-device only (set-device has no entry, so
// GenlClient refuses it). get-device hands the device's private key and every peer's preshared key to
// CAP_NET_ADMIN; both are declared here with a decoder that keeps only their length, so the key bytes
// never become a value anywhere past the attribute reader.
import { attrSet } from '../../netlink/spec.ts';
import { DecodeError } from '../../netlink/errors.ts';
import { defineStruct } from '../../netlink/struct.ts';
import type { GenlFamilySpec } from '../../genl/client.ts';

// enum wg_cmd
export const WG_CMD = { GET_DEVICE: 0, SET_DEVICE: 1 } as const;

export type WireguardOp = 'get-device';

export const wireguardFamily: GenlFamilySpec<WireguardOp> = {
  name: 'wireguard',
  version: 1, // WG_GENL_VERSION
  requests: { 'get-device': WG_CMD.GET_DEVICE },
  notifications: {},
  groups: [],
};

export const WG_KEY_LEN = 32;

// enum wgdevice_flag, wgpeer_flag, wgallowedip_flag (masks; set-device only, never in a get-device reply)
export const WGDEVICE_F = { REPLACE_PEERS: 1 } as const;
export const WGPEER_F = { REMOVE_ME: 1, REPLACE_ALLOWEDIPS: 2, UPDATE_ONLY: 4 } as const;
export const WGALLOWEDIP_F = { REMOVE_ME: 1 } as const;

// struct __kernel_timespec (linux/time_types.h): WGPEER_A_LAST_HANDSHAKE_TIME
export const kernelTimespec = defineStruct('--kernel-timespec', 16, [
  ['sec', 'u64'],
  ['nsec', 'u64'],
]);

/** A secret key attribute (private key, preshared key): only that it was there and its length. */
function secretKey(data: Buffer): { bytes: number } {
  return { bytes: data.length };
}

/** A public key: exactly WG_KEY_LEN bytes, kept as bytes (base64 for people, as `wg` prints it). */
function publicKey(data: Buffer, what: string): Buffer {
  if (data.length !== WG_KEY_LEN) throw new DecodeError(what, 0, `public key of ${data.length} bytes, want ${WG_KEY_LEN}`);
  return Buffer.from(data);
}

// WGALLOWEDIP_A_*
export const allowedIpAttrs = attrSet('wgallowedip', [
  [1, { name: 'family', type: 'u16' }],
  [2, { name: 'ipaddr', type: 'binary' }],
  [3, { name: 'cidr-mask', type: 'u8' }],
  [4, { name: 'flags', type: 'u32' }],
]);

// WGPEER_A_*: a set that carries a key, so unknown members keep only number and length.
export const peerAttrs = attrSet('wgpeer', [
  [1, { name: 'public-key', type: 'custom', decode: publicKey }],
  [2, { name: 'preshared-key', type: 'custom', decode: secretKey }],
  [3, { name: 'flags', type: 'u32' }],
  [4, { name: 'endpoint', type: 'binary' }],
  [5, { name: 'persistent-keepalive-interval', type: 'u16' }],
  [6, { name: 'last-handshake-time', type: 'struct', struct: kernelTimespec }],
  [7, { name: 'rx-bytes', type: 'u64' }],
  [8, { name: 'tx-bytes', type: 'u64' }],
  [9, { name: 'allowedips', type: 'array', nest: allowedIpAttrs }],
  [10, { name: 'protocol-version', type: 'u32' }],
], { redactUnknown: true });

// WGDEVICE_A_*: requests are built from this table by name (device.ts); it carries the private key.
export const deviceAttrs = attrSet('wgdevice', [
  [1, { name: 'ifindex', type: 'u32' }],
  [2, { name: 'ifname', type: 'string' }],
  [3, { name: 'private-key', type: 'custom', decode: secretKey }],
  [4, { name: 'public-key', type: 'custom', decode: publicKey }],
  [5, { name: 'flags', type: 'u32' }],
  [6, { name: 'listen-port', type: 'u16' }],
  [7, { name: 'fwmark', type: 'u32' }],
  [8, { name: 'peers', type: 'array', nest: peerAttrs }],
], { redactUnknown: true });

// NETLINK_XFRM declared once: message types, multicast groups, fixed structs (<linux/xfrm.h>) and the
// XFRMA_* attribute table. Sizes are asserted in test/unit/netlink/struct.test.ts; test/unit/tables/xfrm.test.ts
// holds all of it against the 7.2 uapi headers the lab extracts (numbers, struct layouts, xfrma_policy types).
import { decodeStruct, defineStruct, type Struct } from '../../netlink/struct.ts';
import { attrSet, type Decoded } from '../../netlink/spec.ts';
import { DecodeError } from '../../netlink/errors.ts';
import { keyFingerprint } from '../fingerprint.ts';

// enum { XFRM_MSG_BASE = 0x10, ... }
export const XFRM_MSG = {
  NEWSA: 0x10, DELSA: 0x11, GETSA: 0x12, NEWPOLICY: 0x13, DELPOLICY: 0x14, GETPOLICY: 0x15, ALLOCSPI: 0x16,
  ACQUIRE: 0x17, EXPIRE: 0x18, UPDPOLICY: 0x19, UPDSA: 0x1a, POLEXPIRE: 0x1b, FLUSHSA: 0x1c, FLUSHPOLICY: 0x1d,
  NEWAE: 0x1e, GETAE: 0x1f, REPORT: 0x20, MIGRATE: 0x21, NEWSADINFO: 0x22, GETSADINFO: 0x23, NEWSPDINFO: 0x24,
  GETSPDINFO: 0x25, MAPPING: 0x26, SETDEFAULT: 0x27, GETDEFAULT: 0x28, MIGRATE_STATE: 0x29,
} as const;
export const XFRM_MSG_NAME: Record<number, string> = Object.fromEntries(Object.entries(XFRM_MSG).map(([k, v]) => [v, k]));

// enum xfrm_nlgroups
export const XFRMNLGRP = { ACQUIRE: 1, EXPIRE: 2, SA: 3, POLICY: 4, AEVENTS: 5, REPORT: 6, MIGRATE: 7, MAPPING: 8 } as const;

// typedef union { __be32 a4; __be32 a6[4]; struct in6_addr in6; } xfrm_address_t;
const xaddr = { bytes: 16 } as const;

// struct xfrm_selector
export const xfrm_selector = defineStruct('xfrm_selector', 56, [
  ['daddr', xaddr], ['saddr', xaddr],
  ['dport', 'be16'], ['dport_mask', 'be16'], ['sport', 'be16'], ['sport_mask', 'be16'],
  ['family', 'u16'], ['prefixlen_d', 'u8'], ['prefixlen_s', 'u8'], ['proto', 'u8'], ['_pad', { pad: 3 }],
  ['ifindex', 's32'], ['user', 'u32'],
]);

// struct xfrm_lifetime_cfg
export const xfrm_lifetime_cfg = defineStruct('xfrm_lifetime_cfg', 64, [
  ['soft_byte_limit', 'u64'], ['hard_byte_limit', 'u64'], ['soft_packet_limit', 'u64'], ['hard_packet_limit', 'u64'],
  ['soft_add_expires_seconds', 'u64'], ['hard_add_expires_seconds', 'u64'],
  ['soft_use_expires_seconds', 'u64'], ['hard_use_expires_seconds', 'u64'],
]);

// struct xfrm_lifetime_cur
export const xfrm_lifetime_cur = defineStruct('xfrm_lifetime_cur', 32, [
  ['bytes', 'u64'], ['packets', 'u64'], ['add_time', 'u64'], ['use_time', 'u64'],
]);

// struct xfrm_id { xfrm_address_t daddr; __be32 spi; __u8 proto; };
export const xfrm_id = defineStruct('xfrm_id', 24, [['daddr', xaddr], ['spi', 'be32'], ['proto', 'u8'], ['_pad', { pad: 3 }]]);

// struct xfrm_stats { __u32 replay_window; __u32 replay; __u32 integrity_failed; };
export const xfrm_stats = defineStruct('xfrm_stats', 12, [['replay_window', 'u32'], ['replay', 'u32'], ['integrity_failed', 'u32']]);

// struct xfrm_usersa_info
export const xfrm_usersa_info = defineStruct('xfrm_usersa_info', 224, [
  ['sel', xfrm_selector], ['id', xfrm_id], ['saddr', xaddr], ['lft', xfrm_lifetime_cfg], ['curlft', xfrm_lifetime_cur],
  ['stats', xfrm_stats], ['seq', 'u32'], ['reqid', 'u32'], ['family', 'u16'], ['mode', 'u8'], ['replay_window', 'u8'],
  ['flags', 'u8'], ['_pad', { pad: 7 }],
]);

// struct xfrm_usersa_id { xfrm_address_t daddr; __be32 spi; __u16 family; __u8 proto; };
export const xfrm_usersa_id = defineStruct('xfrm_usersa_id', 24, [['daddr', xaddr], ['spi', 'be32'], ['family', 'u16'], ['proto', 'u8'], ['_pad', { pad: 1 }]]);

// struct xfrm_userpolicy_info
export const xfrm_userpolicy_info = defineStruct('xfrm_userpolicy_info', 168, [
  ['sel', xfrm_selector], ['lft', xfrm_lifetime_cfg], ['curlft', xfrm_lifetime_cur],
  ['priority', 'u32'], ['index', 'u32'], ['dir', 'u8'], ['action', 'u8'], ['flags', 'u8'], ['share', 'u8'], ['_pad', { pad: 4 }],
]);

// struct xfrm_userpolicy_id { struct xfrm_selector sel; __u32 index; __u8 dir; };
export const xfrm_userpolicy_id = defineStruct('xfrm_userpolicy_id', 64, [['sel', xfrm_selector], ['index', 'u32'], ['dir', 'u8'], ['_pad', { pad: 3 }]]);

// struct xfrm_user_polexpire { struct xfrm_userpolicy_info pol; __u8 hard; };
export const xfrm_user_polexpire = defineStruct('xfrm_user_polexpire', 176, [['pol', xfrm_userpolicy_info], ['hard', 'u8'], ['_pad', { pad: 7 }]]);

// struct xfrm_user_expire { struct xfrm_usersa_info state; __u8 hard; };
export const xfrm_user_expire = defineStruct('xfrm_user_expire', 232, [['state', xfrm_usersa_info], ['hard', 'u8'], ['_pad', { pad: 7 }]]);

// struct xfrm_user_tmpl
export const xfrm_user_tmpl = defineStruct('xfrm_user_tmpl', 64, [
  ['id', xfrm_id], ['family', 'u16'], ['_pad', { pad: 2 }], ['saddr', xaddr], ['reqid', 'u32'],
  ['mode', 'u8'], ['share', 'u8'], ['optional', 'u8'], ['_pad2', { pad: 1 }], ['aalgos', 'u32'], ['ealgos', 'u32'], ['calgos', 'u32'],
]);

// struct xfrm_mark { __u32 v; __u32 m; };
export const xfrm_mark = defineStruct('xfrm_mark', 8, [['v', 'u32'], ['m', 'u32']]);

// struct xfrm_user_offload { int ifindex; __u8 flags; };
export const xfrm_user_offload = defineStruct('xfrm_user_offload', 8, [['ifindex', 's32'], ['flags', 'u8'], ['_pad', { pad: 3 }]]);

// struct xfrm_userpolicy_type { __u8 type; __u16 reserved1; __u8 reserved2; };
export const xfrm_userpolicy_type = defineStruct('xfrm_userpolicy_type', 6, [['type', 'u8'], ['_pad', { pad: 1 }], ['reserved1', 'u16'], ['reserved2', 'u8'], ['_pad2', { pad: 1 }]]);

// struct xfrm_user_sec_ctx { __u16 len; __u16 exttype; __u8 ctx_alg; __u8 ctx_doi; __u16 ctx_len; } + context
export const xfrm_user_sec_ctx = defineStruct('xfrm_user_sec_ctx', 8, [['len', 'u16'], ['exttype', 'u16'], ['ctx_alg', 'u8'], ['ctx_doi', 'u8'], ['ctx_len', 'u16']]);

// struct xfrm_encap_tmpl { __u16 encap_type; __be16 encap_sport; __be16 encap_dport; xfrm_address_t encap_oa; };
export const xfrm_encap_tmpl = defineStruct('xfrm_encap_tmpl', 24, [['encap_type', 'u16'], ['encap_sport', 'be16'], ['encap_dport', 'be16'], ['_pad', { pad: 2 }], ['encap_oa', xaddr]]);

// struct xfrm_replay_state { __u32 oseq; __u32 seq; __u32 bitmap; };
export const xfrm_replay_state = defineStruct('xfrm_replay_state', 12, [['oseq', 'u32'], ['seq', 'u32'], ['bitmap', 'u32']]);

// struct xfrm_replay_state_esn { unsigned int bmp_len; __u32 oseq, seq, oseq_hi, seq_hi, replay_window; __u32 bmp[]; };
export const xfrm_replay_state_esn = defineStruct('xfrm_replay_state_esn', 24, [
  ['bmp_len', 'u32'], ['oseq', 'u32'], ['seq', 'u32'], ['oseq_hi', 'u32'], ['seq_hi', 'u32'], ['replay_window', 'u32'],
]);

// struct xfrm_aevent_id { struct xfrm_usersa_id sa_id; xfrm_address_t saddr; __u32 flags; __u32 reqid; };
export const xfrm_aevent_id = defineStruct('xfrm_aevent_id', 48, [['sa_id', xfrm_usersa_id], ['saddr', xaddr], ['flags', 'u32'], ['reqid', 'u32']]);

// struct xfrm_user_acquire { xfrm_id id; xfrm_address_t saddr; xfrm_selector sel; xfrm_userpolicy_info policy;
//                            __u32 aalgos, ealgos, calgos, seq; }  (policy is 8-aligned: offset 96)
export const xfrm_user_acquire = defineStruct('xfrm_user_acquire', 280, [
  ['id', xfrm_id], ['saddr', xaddr], ['sel', xfrm_selector], ['policy', xfrm_userpolicy_info],
  ['aalgos', 'u32'], ['ealgos', 'u32'], ['calgos', 'u32'], ['seq', 'u32'],
]);

// struct xfrm_usersa_flush { __u8 proto; };
export const xfrm_usersa_flush = defineStruct('xfrm_usersa_flush', 1, [['proto', 'u8']]);

// struct xfrm_user_report { __u8 proto; struct xfrm_selector sel; };
export const xfrm_user_report = defineStruct('xfrm_user_report', 60, [['proto', 'u8'], ['_pad', { pad: 3 }], ['sel', xfrm_selector]]);

// struct xfrm_user_mapping { xfrm_usersa_id id; __u32 reqid; xfrm_address_t old_saddr, new_saddr; __be16 old_sport, new_sport; };
export const xfrm_user_mapping = defineStruct('xfrm_user_mapping', 64, [
  ['id', xfrm_usersa_id], ['reqid', 'u32'], ['old_saddr', xaddr], ['new_saddr', xaddr], ['old_sport', 'be16'], ['new_sport', 'be16'],
]);

// struct xfrm_user_kmaddress { xfrm_address_t local, remote; __u32 reserved; __u16 family; };
export const xfrm_user_kmaddress = defineStruct('xfrm_user_kmaddress', 40, [['local', xaddr], ['remote', xaddr], ['reserved', 'u32'], ['family', 'u16'], ['_pad', { pad: 2 }]]);

// struct xfrm_address_filter { xfrm_address_t saddr, daddr; __u16 family; __u8 splen, dplen; };
export const xfrm_address_filter = defineStruct('xfrm_address_filter', 36, [['saddr', xaddr], ['daddr', xaddr], ['family', 'u16'], ['splen', 'u8'], ['dplen', 'u8']]);

// struct xfrmu_sadhinfo { __u32 sadhcnt; __u32 sadhmcnt; };
export const xfrmu_sadhinfo = defineStruct('xfrmu_sadhinfo', 8, [['sadhcnt', 'u32'], ['sadhmcnt', 'u32']]);
// struct xfrmu_spdinfo { __u32 incnt, outcnt, fwdcnt, inscnt, outscnt, fwdscnt; };
export const xfrmu_spdinfo = defineStruct('xfrmu_spdinfo', 24, [['incnt', 'u32'], ['outcnt', 'u32'], ['fwdcnt', 'u32'], ['inscnt', 'u32'], ['outscnt', 'u32'], ['fwdscnt', 'u32']]);
// struct xfrmu_spdhinfo { __u32 spdhcnt; __u32 spdhmcnt; };
export const xfrmu_spdhinfo = defineStruct('xfrmu_spdhinfo', 8, [['spdhcnt', 'u32'], ['spdhmcnt', 'u32']]);
// struct xfrmu_spdhthresh { __u8 lbits; __u8 rbits; };
export const xfrmu_spdhthresh = defineStruct('xfrmu_spdhthresh', 2, [['lbits', 'u8'], ['rbits', 'u8']]);

// enum xfrm_sadattr_type_t: the attributes of XFRM_MSG_NEWSADINFO (after a __u32 flags header)
export const sadInfoAttrs = attrSet('xfrma-sad', [
  [1, { name: 'cnt', type: 'u32' }],
  [2, { name: 'hinfo', type: 'struct', struct: xfrmu_sadhinfo }],
]);

// enum xfrm_spdattr_type_t: the attributes of XFRM_MSG_NEWSPDINFO (after a __u32 flags header)
export const spdInfoAttrs = attrSet('xfrma-spd', [
  [1, { name: 'info', type: 'struct', struct: xfrmu_spdinfo }],
  [2, { name: 'hinfo', type: 'struct', struct: xfrmu_spdhinfo }],
  [3, { name: 'ipv4-hthresh', type: 'struct', struct: xfrmu_spdhthresh }],
  [4, { name: 'ipv6-hthresh', type: 'struct', struct: xfrmu_spdhthresh }],
]);

/** Security context: the fixed header and the context string after it. */
export function decodeSecCtx(data: Buffer, what: string): { doi: number; alg: number; context: string } {
  if (data.length < 8) throw new DecodeError(what, 0, `security context of ${data.length} bytes`);
  const ctxLen = data.readUInt16LE(6);
  return { alg: data.readUInt8(4), doi: data.readUInt8(5), context: data.toString('utf8', 8, Math.min(data.length, 8 + ctxLen)).replace(/\0+$/, '') };
}

/** struct xfrm_algo{,_auth,_aead}: name and key length only. The key bytes are never copied out of the datagram. */
export interface AlgorithmInfo {
  name: string;
  keyBits: number;
  /** auth: truncation bits; aead: ICV bits */
  truncBits?: number;
  icvBits?: number;
  /** Keyed fingerprint of the key (never the key): see fingerprint.ts. */
  fingerprint?: string;
}

function algName(data: Buffer): string {
  const nul = data.indexOf(0); // the name is alg_name[64]: a NUL past it (or none) means all 64 bytes
  return data.toString('utf8', 0, nul < 0 || nul > 64 ? 64 : nul);
}

export function algoHeader(data: Buffer, what: string, kind: 'plain' | 'auth' | 'aead'): { info: AlgorithmInfo; keyOffset: number } {
  const hdr = kind === 'plain' ? 68 : 72;
  if (data.length < hdr) throw new DecodeError(what, 0, `algorithm of ${data.length} bytes, need ${hdr}`);
  const keyBits = data.readUInt32LE(64);
  const info: AlgorithmInfo = { name: algName(data), keyBits };
  if (kind === 'auth') info.truncBits = data.readUInt32LE(68);
  if (kind === 'aead') info.icvBits = data.readUInt32LE(68);
  const keyBytes = Math.ceil(keyBits / 8);
  if (data.length < hdr + keyBytes) throw new DecodeError(what, 0, `key of ${keyBits} bits runs past the attribute`);
  if (keyBytes > 0) {
    // The key is hashed where it lies in the datagram, then overwritten there: no object made from this
    // message (and no later hex dump of it) can hold key bytes.
    const key = data.subarray(hdr, hdr + keyBytes);
    info.fingerprint = keyFingerprint(key);
    key.fill(0);
  }
  return { info, keyOffset: hdr };
}

const plainAlg = (data: Buffer, what: string) => algoHeader(data, what, 'plain').info;
const authAlg = (data: Buffer, what: string) => algoHeader(data, what, 'auth').info;
const aeadAlg = (data: Buffer, what: string) => algoHeader(data, what, 'aead').info;

/** XFRMA_REPLAY_ESN_VAL: struct xfrm_replay_state_esn; the bitmap (bmp_len words) is checked, not kept. */
export function decodeReplayEsn(data: Buffer, what: string): Struct<typeof xfrm_replay_state_esn> {
  const v = decodeStruct(xfrm_replay_state_esn, data, 0, what);
  if (data.length < xfrm_replay_state_esn.size + v.bmp_len * 4) throw new DecodeError(what, 0, `ESN bitmap of ${v.bmp_len} words runs past the attribute (${data.length} bytes)`);
  return v;
}

// enum xfrm_attr_type_t (Linux 7.2 uapi, checked against include/uapi/linux/xfrm.h by tables/xfrm.test.ts). Algorithm attributes
// use decoders that fingerprint and drop the key bytes. Unknown attributes keep only number and length:
// a newer kernel's attribute might carry key material.
export const xfrmAttrs = attrSet('xfrma', [
  [1, { name: 'alg-auth', type: 'custom', decode: plainAlg }],
  [2, { name: 'alg-crypt', type: 'custom', decode: plainAlg }],
  [3, { name: 'alg-comp', type: 'custom', decode: plainAlg }],
  [4, { name: 'encap', type: 'struct', struct: xfrm_encap_tmpl }],
  [5, { name: 'tmpl', type: 'binary', doc: 'array of struct xfrm_user_tmpl' }],
  [6, { name: 'sa', type: 'struct', struct: xfrm_usersa_info }],
  [7, { name: 'policy', type: 'struct', struct: xfrm_userpolicy_info }],
  [8, { name: 'sec-ctx', type: 'custom', decode: decodeSecCtx }],
  [9, { name: 'ltime-val', type: 'struct', struct: xfrm_lifetime_cur }],
  [10, { name: 'replay-val', type: 'struct', struct: xfrm_replay_state }],
  [11, { name: 'replay-thresh', type: 'u32' }],
  [12, { name: 'etimer-thresh', type: 'u32' }],
  [13, { name: 'srcaddr', type: 'binary', doc: 'xfrm_address_t' }],
  [14, { name: 'coaddr', type: 'binary', doc: 'xfrm_address_t' }],
  [15, { name: 'lastused', type: 'u64' }],
  [16, { name: 'policy-type', type: 'struct', struct: xfrm_userpolicy_type }],
  [17, { name: 'migrate', type: 'binary', doc: 'array of struct xfrm_user_migrate' }],
  [18, { name: 'alg-aead', type: 'custom', decode: aeadAlg }],
  [19, { name: 'kmaddress', type: 'struct', struct: xfrm_user_kmaddress }],
  [20, { name: 'alg-auth-trunc', type: 'custom', decode: authAlg }],
  [21, { name: 'mark', type: 'struct', struct: xfrm_mark }],
  [22, { name: 'tfcpad', type: 'u32' }],
  [23, { name: 'replay-esn-val', type: 'custom', decode: decodeReplayEsn }],
  [24, { name: 'sa-extra-flags', type: 'u32' }],
  [25, { name: 'proto', type: 'u8' }],
  [26, { name: 'address-filter', type: 'struct', struct: xfrm_address_filter }],
  [27, { name: 'pad', type: 'binary' }],
  [28, { name: 'offload-dev', type: 'struct', struct: xfrm_user_offload }],
  [29, { name: 'set-mark', type: 'u32' }],
  [30, { name: 'set-mark-mask', type: 'u32' }],
  [31, { name: 'if-id', type: 'u32' }],
  [32, { name: 'mtimer-thresh', type: 'u32' }],
  [33, { name: 'sa-dir', type: 'u8', enum: { 1: 'in', 2: 'out' } }],
  [34, { name: 'nat-keepalive-interval', type: 'u32' }],
  [35, { name: 'sa-pcpu', type: 'u32' }],
  [36, { name: 'iptfs-drop-time', type: 'u32' }],
  [37, { name: 'iptfs-reorder-window', type: 'u16' }],
  [38, { name: 'iptfs-dont-frag', type: 'flag' }],
  [39, { name: 'iptfs-init-delay', type: 'u32' }],
  [40, { name: 'iptfs-max-qsize', type: 'u32' }],
  [41, { name: 'iptfs-pkt-size', type: 'u32' }],
], { redactUnknown: true });

/** The XFRMA_* attributes after a message's fixed struct, as the table decodes them. */
export type XfrmAttrs = Decoded<typeof xfrmAttrs>;

// 3-5: per-socket policies (XFRM_POLICY_MAX + dir; an IKE daemon's bypass for its own sockets), named as iproute2 prints them.
export const POLICY_DIR: Record<number, string> = { 0: 'in', 1: 'out', 2: 'fwd', 3: 'socket in', 4: 'socket out', 5: 'socket fwd' };
export const POLICY_ACTION: Record<number, string> = { 0: 'allow', 1: 'block' };
export const POLICY_SHARE: Record<number, string> = { 0: 'any', 1: 'session', 2: 'user', 3: 'unique' };
export const POLICY_TYPE: Record<number, string> = { 0: 'main', 1: 'sub' };
// XFRM_POLICY_LOCALOK 1, XFRM_POLICY_ICMP 2
export const POLICY_FLAGS: Array<[number, string]> = [[1, 'localok'], [2, 'icmp'], [4, 'cpu-acquire']];
// XFRM_STATE_* (xfrm_usersa_info.flags), named as iproute2 prints them
export const SA_FLAGS: Array<[number, string]> = [
  [1, 'noecn'], [2, 'decap-dscp'], [4, 'nopmtudisc'], [8, 'wildrecv'], [16, 'icmp'], [32, 'af-unspec'], [64, 'align4'], [128, 'esn'],
];
// XFRM_SA_XFLAG_*
export const SA_EXTRA_FLAGS: Array<[number, string]> = [[1, 'dont-encap-dscp'], [2, 'oseq-may-wrap']];
// enum xfrm_ae_ftype_t
export const AE_FLAGS: Array<[number, string]> = [[1, 'rthr'], [2, 'rval'], [4, 'lval'], [8, 'ethr'], [16, 'cr'], [32, 'ce'], [64, 'cu']];
// UDP_ENCAP_* (<linux/udp.h>) and TCP_ENCAP_ESPINTCP 7
export const ENCAP_TYPE: Record<number, string> = { 1: 'espinudp-nonike', 2: 'espinudp', 7: 'espintcp' };
export const XFRM_MODE: Record<number, string> = { 0: 'transport', 1: 'tunnel', 2: 'ro', 3: 'in_trigger', 4: 'beet', 5: 'iptfs' };
export const XFRM_PROTO: Record<number, string> = { 50: 'esp', 51: 'ah', 108: 'comp', 43: 'route2', 60: 'hao', 255: 'ipsec-any' };
// XFRM_OFFLOAD_IPV6 1, XFRM_OFFLOAD_INBOUND 2, XFRM_OFFLOAD_PACKET 4
export const OFFLOAD_FLAGS: Array<[number, string]> = [[1, 'ipv6'], [2, 'inbound'], [4, 'packet']];

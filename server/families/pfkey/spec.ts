// PF_KEY v2 (RFC 2367 + KAME/Linux extensions) declared once: message types, SA types, extension
// types, and every fixed struct of <linux/pfkeyv2.h> as a field table. Sizes are
// asserted in test/unit/pfkey/pfkey.test.ts ('every sadb struct has the size pfkeyv2.h states'); layouts and
// numbers are held against the 7.2 headers in test/unit/tables/pfkey.test.ts.
//
// Linux's pfkeyv2.h and net/key/af_key.c are the authority. The seed page (shared/seeds/pf_key-manpage.txt)
// is the illumos/Solaris pf_key(7P); where it differs, the Linux value is used and the difference is
// noted beside the declaration ("seed:" comments).
import { defineStruct } from '../../netlink/struct.ts';

export const PF_KEY_V2 = 2;
/** All sadb_msg_len and sadb_ext_len values count 8-byte units. */
export const PFKEY_UNIT = 8;

// SADB_* message types. seed: Solaris numbers SADB_X_* differently and has SADB_X_INVERSE_ACQUIRE,
// SADB_X_UPDATEPAIR and SADB_X_DELPAIR, which Linux lacks; Linux has SADB_X_PCHANGE … SADB_X_MIGRATE.
export const SADB = {
  RESERVED: 0, GETSPI: 1, UPDATE: 2, ADD: 3, DELETE: 4, GET: 5, ACQUIRE: 6, REGISTER: 7, EXPIRE: 8, FLUSH: 9,
  DUMP: 10, X_PROMISC: 11, X_PCHANGE: 12, X_SPDUPDATE: 13, X_SPDADD: 14, X_SPDDELETE: 15, X_SPDGET: 16,
  X_SPDACQUIRE: 17, X_SPDDUMP: 18, X_SPDFLUSH: 19, X_SPDSETIDX: 20, X_SPDEXPIRE: 21, X_SPDDELETE2: 22,
  X_NAT_T_NEW_MAPPING: 23, X_MIGRATE: 24,
} as const;
export const SADB_MAX = 24;
export const SADB_NAME: Record<number, string> = Object.fromEntries(Object.entries(SADB).map(([k, v]) => [v, `SADB_${k}`]));

// SADB_SATYPE_*: which security protocol. SADB_X_SATYPE_IPCOMP is Linux/KAME.
export const SATYPE = { UNSPEC: 0, AH: 2, ESP: 3, RSVP: 5, OSPFV2: 6, RIPV2: 7, MIP: 8, IPCOMP: 9 } as const;
export const SATYPE_NAME: Record<number, string> = { 0: 'unspec', 2: 'ah', 3: 'esp', 5: 'rsvp', 6: 'ospfv2', 7: 'ripv2', 8: 'mip', 9: 'ipcomp' };
/** pfkey_satype2proto / pfkey_proto2satype in af_key.c. */
export const SATYPE_PROTO: Record<number, number> = { 2: 51, 3: 50, 9: 108 };
export const PROTO_SATYPE: Record<number, number> = { 51: 2, 50: 3, 108: 9 };

// SADB_EXT_* / SADB_X_EXT_*. seed: Solaris's SADB_X_EXT_EREG, EPROP, KM_COOKIE, ADDRESS_NATT_LOC/REM,
// ADDRESS_INNER_SRC/DST and PAIR do not exist on Linux; Linux carries NAT-T in NAT_T_TYPE/SPORT/DPORT/OA,
// inner selectors in the policy (X_POLICY + ipsecrequests) and the proxy address, and mode/reqid in X_SA2.
export const EXT = {
  SA: 1, LIFETIME_CURRENT: 2, LIFETIME_HARD: 3, LIFETIME_SOFT: 4, ADDRESS_SRC: 5, ADDRESS_DST: 6, ADDRESS_PROXY: 7,
  KEY_AUTH: 8, KEY_ENCRYPT: 9, IDENTITY_SRC: 10, IDENTITY_DST: 11, SENSITIVITY: 12, PROPOSAL: 13,
  SUPPORTED_AUTH: 14, SUPPORTED_ENCRYPT: 15, SPIRANGE: 16, X_KMPRIVATE: 17, X_POLICY: 18, X_SA2: 19,
  X_NAT_T_TYPE: 20, X_NAT_T_SPORT: 21, X_NAT_T_DPORT: 22, X_NAT_T_OA: 23, X_SEC_CTX: 24, X_KMADDRESS: 25, X_FILTER: 26,
} as const;
export const SADB_EXT_MAX = 26;

// SADB_SASTATE_*
export const SA_STATE: Record<number, string> = { 0: 'larval', 1: 'mature', 2: 'dying', 3: 'dead' };

// SADB_SAFLAGS_*. seed: Solaris defines NOREPLAY 0x2 and a family of SADB_X_SAFLAGS_* (USED, UNIQUE,
// TUNNEL, INBOUND/OUTBOUND…) in the high bits; Linux gives those bits other meanings (NOECN, DECAP_DSCP,
// NOPMTUDISC mirror XFRM_STATE_* flags) and has no NOREPLAY flag.
export const SA_FLAGS: Array<[number, string]> = [[0x1, 'pfs'], [0x20000000, 'nopmtudisc'], [0x40000000, 'decap-dscp'], [0x80000000, 'noecn']];

// SADB_IDENTTYPE_*
export const IDENT_TYPE: Record<number, string> = { 0: 'reserved', 1: 'prefix', 2: 'fqdn', 3: 'userfqdn' };

// <linux/ipsec.h>: the KAME enums that X_SA2, X_POLICY and ipsecrequests use.
export const IPSEC_MODE: Record<number, string> = { 0: 'any', 1: 'transport', 2: 'tunnel', 3: 'beet', 4: 'iptfs' };
export const IPSEC_DIR: Record<number, string> = { 0: 'any', 1: 'in', 2: 'out', 3: 'fwd', 4: 'max', 5: 'invalid' };
export const IPSEC_POLICY: Record<number, string> = { 0: 'discard', 1: 'none', 2: 'ipsec', 3: 'entrust', 4: 'bypass' };
export const IPSEC_LEVEL: Record<number, string> = { 0: 'default', 1: 'use', 2: 'require', 3: 'unique' };
/** IPSEC_PROTO_ANY / IPSEC_ULPROTO_ANY: "any upper-layer protocol" in sadb_address_proto. */
export const IPSEC_PROTO_ANY = 255;

// NAT-T encapsulation types (UDP_ENCAP_* of <linux/udp.h>): sadb_x_nat_t_type_type.
export const NAT_T_TYPE: Record<number, string> = { 1: 'espinudp-nonike', 2: 'espinudp', 3: 'l2tpinudp', 7: 'espintcp' };

// Algorithm ids (SADB_AALG_*, SADB_EALG_*, SADB_X_CALG_*) are in server/wire/pfkey.ts: a pfkey-sa row
// carries them, and the cross-check (model) compares them with XFRM's names.

// ---- fixed structs (all __attribute__((packed)), all multiples of 8 bytes) ----

// struct sadb_msg. seed: Solaris reuses sadb_msg_reserved as sadb_x_msg_diagnostic (SADB_X_DIAGNOSTIC_*
// codes); Linux has no diagnostics and requires 0 on input, but fills it with the policy's reference
// count in SPD messages (pfkey_xfrm_policy2msg: hdr->sadb_msg_reserved = refcount_read(&xp->refcnt)).
export const sadb_msg = defineStruct('sadb_msg', 16, [
  ['version', 'u8'], ['type', 'u8'], ['errno', 'u8'], ['satype', 'u8'], ['len', 'u16'], ['reserved', 'u16'],
  ['seq', 'u32'], ['pid', 'u32'],
]);

// struct sadb_ext { __u16 sadb_ext_len; __u16 sadb_ext_type; }
export const sadb_ext = defineStruct('sadb_ext', 4, [['len', 'u16'], ['type', 'u16']]);

// struct sadb_sa. sadb_sa_spi is network byte order.
export const sadb_sa = defineStruct('sadb_sa', 16, [
  ['len', 'u16'], ['exttype', 'u16'], ['spi', 'be32'], ['replay', 'u8'], ['state', 'u8'], ['auth', 'u8'], ['encrypt', 'u8'], ['flags', 'u32'],
]);

// struct sadb_lifetime. In CURRENT, Linux puts the packet count in sadb_lifetime_allocations (a __u32:
// x->curlft.packets truncated); in HARD/SOFT, the packet limit, with XFRM_INF shown as 0 (_X2KEY).
export const sadb_lifetime = defineStruct('sadb_lifetime', 32, [
  ['len', 'u16'], ['exttype', 'u16'], ['allocations', 'u32'], ['bytes', 'u64'], ['addtime', 'u64'], ['usetime', 'u64'],
]);

// struct sadb_address, followed by a struct sockaddr padded to 8 bytes.
export const sadb_address = defineStruct('sadb_address', 8, [
  ['len', 'u16'], ['exttype', 'u16'], ['proto', 'u8'], ['prefixlen', 'u8'], ['reserved', 'u16'],
]);

// struct sockaddr_in / sockaddr_in6 (<netinet/in.h>): the family in host order, port and address in network order.
export const sockaddr_in = defineStruct('sockaddr_in', 16, [['family', 'u16'], ['port', 'be16'], ['addr', { bytes: 4 }], ['zero', { pad: 8 }]]);
export const sockaddr_in6 = defineStruct('sockaddr_in6', 28, [
  ['family', 'u16'], ['port', 'be16'], ['flowinfo', 'be32'], ['addr', { bytes: 16 }], ['scope_id', 'u32'],
]);

// struct sadb_key, followed by the key bits (padded to 8 bytes). Only sadb_key_bits is ever kept.
export const sadb_key = defineStruct('sadb_key', 8, [['len', 'u16'], ['exttype', 'u16'], ['bits', 'u16'], ['reserved', 'u16']]);

// struct sadb_ident, followed by a NUL-terminated identity string when present.
export const sadb_ident = defineStruct('sadb_ident', 16, [
  ['len', 'u16'], ['exttype', 'u16'], ['type', 'u16'], ['reserved', 'u16'], ['id', 'u64'],
]);

// struct sadb_sens, followed by sens_len then integ_len __u64 bitmap words.
export const sadb_sens = defineStruct('sadb_sens', 16, [
  ['len', 'u16'], ['exttype', 'u16'], ['dpd', 'u32'], ['sens_level', 'u8'], ['sens_len', 'u8'], ['integ_level', 'u8'], ['integ_len', 'u8'], ['reserved', 'u32'],
]);

// struct sadb_prop, followed by struct sadb_comb[]. seed: Solaris has sadb_x_prop_ereserved and
// sadb_x_prop_numecombs where Linux has __u8 sadb_prop_reserved[3]; the comb count comes from the length.
export const sadb_prop = defineStruct('sadb_prop', 8, [['len', 'u16'], ['exttype', 'u16'], ['replay', 'u8'], ['reserved', { pad: 3 }]]);

// struct sadb_comb
export const sadb_comb = defineStruct('sadb_comb', 72, [
  ['auth', 'u8'], ['encrypt', 'u8'], ['flags', 'u16'], ['auth_minbits', 'u16'], ['auth_maxbits', 'u16'],
  ['encrypt_minbits', 'u16'], ['encrypt_maxbits', 'u16'], ['reserved', 'u32'], ['soft_allocations', 'u32'], ['hard_allocations', 'u32'],
  ['soft_bytes', 'u64'], ['hard_bytes', 'u64'], ['soft_addtime', 'u64'], ['hard_addtime', 'u64'], ['soft_usetime', 'u64'], ['hard_usetime', 'u64'],
]);

// struct sadb_supported, followed by struct sadb_alg[].
export const sadb_supported = defineStruct('sadb_supported', 8, [['len', 'u16'], ['exttype', 'u16'], ['reserved', 'u32']]);

// struct sadb_alg
export const sadb_alg = defineStruct('sadb_alg', 8, [['id', 'u8'], ['ivlen', 'u8'], ['minbits', 'u16'], ['maxbits', 'u16'], ['reserved', 'u16']]);

// struct sadb_spirange
export const sadb_spirange = defineStruct('sadb_spirange', 16, [['len', 'u16'], ['exttype', 'u16'], ['min', 'u32'], ['max', 'u32'], ['reserved', 'u32']]);

// struct sadb_x_kmprivate, followed by opaque key-manager data.
export const sadb_x_kmprivate = defineStruct('sadb_x_kmprivate', 8, [['len', 'u16'], ['exttype', 'u16'], ['reserved', 'u32']]);

// struct sadb_x_sa2: mode (IPSEC_MODE_*), sequence, reqid.
export const sadb_x_sa2 = defineStruct('sadb_x_sa2', 16, [
  ['len', 'u16'], ['exttype', 'u16'], ['mode', 'u8'], ['reserved1', 'u8'], ['reserved2', 'u16'], ['sequence', 'u32'], ['reqid', 'u32'],
]);

// struct sadb_x_policy, followed by struct sadb_x_ipsecrequest[] (counted in sadb_x_policy_len).
export const sadb_x_policy = defineStruct('sadb_x_policy', 16, [
  ['len', 'u16'], ['exttype', 'u16'], ['type', 'u16'], ['dir', 'u8'], ['reserved', 'u8'], ['id', 'u32'], ['priority', 'u32'],
]);

// struct sadb_x_ipsecrequest. Unlike every other length in PF_KEY, sadb_x_ipsecrequest_len counts
// BYTES (KAME heritage; af_key.c: rq->sadb_x_ipsecrequest_len = req_size). In tunnel mode two
// sockaddrs (tunnel source, then destination) follow, unpadded.
export const sadb_x_ipsecrequest = defineStruct('sadb_x_ipsecrequest', 16, [
  ['len', 'u16'], ['proto', 'u16'], ['mode', 'u8'], ['level', 'u8'], ['reserved1', 'u16'], ['reqid', 'u32'], ['reserved2', 'u32'],
]);

// struct sadb_x_nat_t_type / sadb_x_nat_t_port (port in network order).
export const sadb_x_nat_t_type = defineStruct('sadb_x_nat_t_type', 8, [['len', 'u16'], ['exttype', 'u16'], ['type', 'u8'], ['reserved', { pad: 3 }]]);
export const sadb_x_nat_t_port = defineStruct('sadb_x_nat_t_port', 8, [['len', 'u16'], ['exttype', 'u16'], ['port', 'be16'], ['reserved', 'u16']]);

// struct sadb_x_sec_ctx, followed by ctx_len bytes of context string.
export const sadb_x_sec_ctx = defineStruct('sadb_x_sec_ctx', 8, [['len', 'u16'], ['exttype', 'u16'], ['alg', 'u8'], ['doi', 'u8'], ['ctx_len', 'u16']]);

// struct sadb_x_kmaddress, followed by two sockaddrs (local, remote) — MIGRATE only.
export const sadb_x_kmaddress = defineStruct('sadb_x_kmaddress', 8, [['len', 'u16'], ['exttype', 'u16'], ['reserved', 'u32']]);

// struct sadb_x_filter (SADB_DUMP filter; user to kernel only).
export const sadb_x_filter = defineStruct('sadb_x_filter', 40, [
  ['len', 'u16'], ['exttype', 'u16'], ['saddr', { bytes: 16 }], ['daddr', { bytes: 16 }], ['family', 'u16'], ['splen', 'u8'], ['dplen', 'u8'],
]);

export const PFKEY_STRUCTS = [
  sadb_msg, sadb_ext, sadb_sa, sadb_lifetime, sadb_address, sadb_key, sadb_ident, sadb_sens, sadb_prop, sadb_comb,
  sadb_supported, sadb_alg, sadb_spirange, sadb_x_kmprivate, sadb_x_sa2, sadb_x_policy, sadb_x_ipsecrequest,
  sadb_x_nat_t_type, sadb_x_nat_t_port, sadb_x_sec_ctx, sadb_x_kmaddress, sadb_x_filter,
];

// PF_KEY v2 entities: the SAD and SPD as a PF_KEY socket sees them, pfkeyv2.h's algorithm ids (what an
// SA's ids mean, and which XFRM names each maps to), the algorithms SADB_REGISTER
// advertises, and the per-SA cross-check against the XFRM view. bigint in the server, strings on the wire.
import { spiHex, type SaIdentity } from './xfrm.ts';

/** An algorithm id as PF_KEY carries it, with its pfkeyv2.h constant where known. */
export interface PfkeyAlgorithmRef {
  id: number;
  /** Short name ("aes-cbc", "hmac-sha256"); "none" for 0; "unknown-N" when pfkeyv2.h has no constant. */
  name: string;
  constant?: string;
}

/** One algorithm id of pfkeyv2.h: its constant's name, a short name, and the XFRM (crypto API) names the
 * kernel's xfrm_algo.c maps to it (name and compat name), so PF_KEY and XFRM views can be compared. */
export interface SadbAlgorithmName {
  id: number;
  constant: string;
  name: string;
  xfrm: string[];
}

const alg = (id: number, constant: string, name: string, ...xfrm: string[]): SadbAlgorithmName => ({ id, constant, name, xfrm });

// SADB_AALG_* / SADB_X_AALG_*. hmac(sha384) and hmac(sha512) have no compat name in xfrm_algo.c (sha256 has).
export const AUTH_ALGS: readonly SadbAlgorithmName[] = [
  alg(0, 'SADB_AALG_NONE', 'none'),
  alg(2, 'SADB_AALG_MD5HMAC', 'hmac-md5', 'hmac(md5)', 'md5'),
  alg(3, 'SADB_AALG_SHA1HMAC', 'hmac-sha1', 'hmac(sha1)', 'sha1'),
  alg(5, 'SADB_X_AALG_SHA2_256HMAC', 'hmac-sha256', 'hmac(sha256)', 'sha256'),
  alg(6, 'SADB_X_AALG_SHA2_384HMAC', 'hmac-sha384', 'hmac(sha384)'),
  alg(7, 'SADB_X_AALG_SHA2_512HMAC', 'hmac-sha512', 'hmac(sha512)'),
  alg(8, 'SADB_X_AALG_RIPEMD160HMAC', 'hmac-ripemd160', 'hmac(rmd160)', 'rmd160'), // not in 7.2's xfrm_algo.c; older kernels
  alg(9, 'SADB_X_AALG_AES_XCBC_MAC', 'aes-xcbc-mac', 'xcbc(aes)'),
  alg(10, 'SADB_X_AALG_SM3_256HMAC', 'hmac-sm3', 'hmac(sm3)', 'sm3'),
  alg(251, 'SADB_X_AALG_NULL', 'null', 'digest_null'),
];

// SADB_EALG_* / SADB_X_EALG_*. Linux accepts the AEAD ids (CCM/GCM/GMAC) in SADB_ADD, but never shows
// them: REGISTER's supported list walks only the auth and cipher tables (compose_sadb_supported), and an
// SA's sadb_sa_encrypt comes from x->ealg only, while AEAD SAs have x->aead (so they dump as 0).
export const ENCRYPT_ALGS: readonly SadbAlgorithmName[] = [
  alg(0, 'SADB_EALG_NONE', 'none'),
  alg(2, 'SADB_EALG_DESCBC', 'des-cbc', 'cbc(des)', 'des'),
  alg(3, 'SADB_EALG_3DESCBC', '3des-cbc', 'cbc(des3_ede)', 'des3_ede'),
  alg(6, 'SADB_X_EALG_CASTCBC', 'cast-cbc', 'cbc(cast5)', 'cast5'),
  alg(7, 'SADB_X_EALG_BLOWFISHCBC', 'blowfish-cbc', 'cbc(blowfish)', 'blowfish'),
  alg(11, 'SADB_EALG_NULL', 'null', 'ecb(cipher_null)', 'cipher_null'),
  alg(12, 'SADB_X_EALG_AESCBC', 'aes-cbc', 'cbc(aes)', 'aes'),
  alg(13, 'SADB_X_EALG_AESCTR', 'aes-ctr', 'rfc3686(ctr(aes))'),
  alg(14, 'SADB_X_EALG_AES_CCM_ICV8', 'aes-ccm-icv8', 'rfc4309(ccm(aes))'),
  alg(15, 'SADB_X_EALG_AES_CCM_ICV12', 'aes-ccm-icv12', 'rfc4309(ccm(aes))'),
  alg(16, 'SADB_X_EALG_AES_CCM_ICV16', 'aes-ccm-icv16', 'rfc4309(ccm(aes))'),
  alg(18, 'SADB_X_EALG_AES_GCM_ICV8', 'aes-gcm-icv8', 'rfc4106(gcm(aes))'),
  alg(19, 'SADB_X_EALG_AES_GCM_ICV12', 'aes-gcm-icv12', 'rfc4106(gcm(aes))'),
  alg(20, 'SADB_X_EALG_AES_GCM_ICV16', 'aes-gcm-icv16', 'rfc4106(gcm(aes))'),
  alg(22, 'SADB_X_EALG_CAMELLIACBC', 'camellia-cbc', 'cbc(camellia)', 'camellia'),
  alg(23, 'SADB_X_EALG_NULL_AES_GMAC', 'null-aes-gmac', 'rfc4543(gcm(aes))'),
  alg(24, 'SADB_X_EALG_SM4CBC', 'sm4-cbc', 'cbc(sm4)', 'sm4'),
  alg(252, 'SADB_X_EALG_SERPENTCBC', 'serpent-cbc', 'cbc(serpent)', 'serpent'),
  alg(253, 'SADB_X_EALG_TWOFISHCBC', 'twofish-cbc', 'cbc(twofish)', 'twofish'),
];

// SADB_X_CALG_*: for IPCOMP SAs af_key.c puts the compression id in sadb_sa_encrypt (KAME compatible).
export const COMP_ALGS: readonly SadbAlgorithmName[] = [
  alg(0, 'SADB_X_CALG_NONE', 'none'),
  alg(1, 'SADB_X_CALG_OUI', 'oui'),
  alg(2, 'SADB_X_CALG_DEFLATE', 'deflate', 'deflate'),
  alg(3, 'SADB_X_CALG_LZS', 'lzs', 'lzs'),
  alg(4, 'SADB_X_CALG_LZJH', 'lzjh', 'lzjh'),
];

export type AlgClass = 'auth' | 'encrypt' | 'comp';
const ALG_TABLES: Record<AlgClass, ReadonlyMap<number, SadbAlgorithmName>> = {
  auth: new Map(AUTH_ALGS.map((a) => [a.id, a])),
  encrypt: new Map(ENCRYPT_ALGS.map((a) => [a.id, a])),
  comp: new Map(COMP_ALGS.map((a) => [a.id, a])),
};

export function algorithmName(cls: AlgClass, id: number): SadbAlgorithmName | undefined {
  return ALG_TABLES[cls].get(id);
}

/** The SADB id an XFRM algorithm name maps to (first match; AEADs map to several ids by ICV length). */
export function sadbIdOfXfrmName(cls: AlgClass, xfrmName: string): number[] {
  const out: number[] = [];
  for (const a of ALG_TABLES[cls].values()) if (a.xfrm.includes(xfrmName)) out.push(a.id);
  return out;
}

/** sadb_address + sockaddr. */
export interface PfkeyAddress {
  family: string;
  address: string;
  port: number;
  /** sadb_address_proto: upper-layer protocol; "any" for IPSEC_PROTO_ANY (255). */
  proto: string | number;
  prefixlen: number;
}

/** sadb_lifetime. In CURRENT, allocations is the packet count (a 32-bit field); in HARD/SOFT, 0 = no limit. */
export interface PfkeyLifetime {
  allocations: number;
  bytes: bigint;
  addTime: bigint;
  useTime: bigint;
}

export interface PfkeyIdentity {
  type: string | number;
  id: bigint;
  value: string;
}

export interface PfkeySa {
  /** "esp/10.0.0.2/0x00001000": SA type, destination, SPI — what identifies an SA to PF_KEY. */
  key: string;
  satype: string | number;
  spi: number;
  spiHex: string;
  state: string | number;
  replayWindow: number;
  auth: PfkeyAlgorithmRef;
  /** sadb_sa_encrypt for ESP; for IPCOMP it is the compression algorithm (see compression). */
  encrypt: PfkeyAlgorithmRef;
  compression?: PfkeyAlgorithmRef;
  flags: string[];
  src: PfkeyAddress;
  dst: PfkeyAddress;
  /** SADB_EXT_ADDRESS_PROXY: Linux sends the selector source here when it differs from the SA source. */
  proxy?: PfkeyAddress;
  lifetime: { current?: PfkeyLifetime; hard?: PfkeyLifetime; soft?: PfkeyLifetime };
  /** Key length in bits and keyed fingerprint (same secret as XFRM's, so equal keys match across views);
   * the key bytes never leave the decoder. */
  authKey?: { bits: number; fingerprint?: string };
  encryptKey?: { bits: number; fingerprint?: string };
  mode?: string | number;
  reqid?: number;
  sequence?: number;
  natT?: { type: string | number; sport?: number; dport?: number; originalAddress?: PfkeyAddress };
  identitySrc?: PfkeyIdentity;
  identityDst?: PfkeyIdentity;
  sensitivity?: { dpd: number; sensLevel: number; integLevel: number; sensBitmap: string; integBitmap: string };
  securityContext?: { doi: number; alg: number; context: string };
  /** Extension types this decoder does not know: number and length only. */
  unknown?: Array<{ type: number; length: number }>;
}

/** The 'pfkey-sa' key: what identifies an SA to PF_KEY, "esp/10.0.0.2/0x00001000". */
export function pfkeySaKey(satype: string | number, dst: string, spi: number): string {
  return `${satype}/${dst}/${spiHex(spi)}`;
}

/** The XFRM identity of a PF_KEY SA (XFRM names IPComp "comp"; PF_KEY has no mark): its saKey() is the
 * 'sa' key of the same SA when that has no mark. */
export function pfkeySaIdentity(p: Pick<PfkeySa, 'satype' | 'dst' | 'spi'>): SaIdentity {
  return { family: p.dst.family, proto: p.satype === 'ipcomp' ? 'comp' : p.satype, dst: p.dst.address, spi: p.spi };
}

/** The 'pfkey-sa' key an SA of this identity has (the way back from pfkeySaIdentity). */
export function pfkeySaKeyOf(id: Pick<SaIdentity, 'proto' | 'dst' | 'spi'>): string {
  return pfkeySaKey(id.proto === 'comp' ? 'ipcomp' : id.proto, id.dst, id.spi);
}

export interface PfkeyIpsecRequest {
  proto: string | number;
  mode: string | number;
  level: string | number;
  reqid: number;
  tunnelSrc?: string;
  tunnelDst?: string;
}

export interface PfkeyPolicy {
  /** "id:dir" (sadb_x_policy_id is the XFRM policy index). */
  key: string;
  id: number;
  dir: string | number;
  /** IPSEC_POLICY_*: ipsec, none (allow without IPsec), discard. */
  type: string | number;
  priority: number;
  src: PfkeyAddress;
  dst: PfkeyAddress;
  lifetime: { current?: PfkeyLifetime; hard?: PfkeyLifetime; soft?: PfkeyLifetime };
  requests: PfkeyIpsecRequest[];
  securityContext?: { doi: number; alg: number; context: string };
  /** Linux puts the policy's reference count in sadb_msg_reserved of SPD messages. */
  refcount: number;
  unknown?: Array<{ type: number; length: number }>;
}

export const REGISTER_STATES = ['idle', 'running', 'done', 'failed', 'unavailable'] as const;

/**
 * The operator's SADB_REGISTER (kind 'pfkey-register', key "register"). Not sent at start: the kernel
 * answers it by probing every algorithm of xfrm_algo.c (request_module for each one it lacks) inside
 * sendmsg while holding the XFRM configuration mutex, so every XFRM change on the host (an IKE daemon's
 * rekey, sascope's own reads) waits that long.
 */
export interface PfkeyRegister {
  key: 'register';
  state: (typeof REGISTER_STATES)[number];
  startedAt?: number;
  finishedAt?: number;
  /** From asking to the last answer, all three SA types (ms): the kernel's probe (XFRM changes waited
   * about that long) plus starting the worker thread. */
  tookMs?: number;
  /** Why it failed, or why it cannot run (PF_KEY not open). */
  reason?: string;
}

/** One algorithm the kernel advertises to SADB_REGISTER (kind 'pfkey-alg'). */
export interface PfkeyAlgorithm {
  /** "auth:5", "encrypt:12" */
  key: string;
  class: 'auth' | 'encrypt';
  id: number;
  name: string;
  constant?: string;
  /** Crypto API names XFRM uses for the same algorithm (from xfrm_algo.c). */
  xfrmNames: string[];
  /** sadb_alg_ivlen as the kernel fills it (Linux puts bytes of IV here for most ciphers, RFC 2367 says bits). */
  ivlen: number;
  minBits: number;
  maxBits: number;
  /** The SA types whose REGISTER reply listed it. */
  satypes: string[];
}

export const PFKEY_CHECK_STATUSES = ['agree', 'mismatch', 'not-representable', 'missing'] as const;
export type PfkeyCheckStatus = (typeof PFKEY_CHECK_STATUSES)[number];

/** Why PF_KEY cannot show an XFRM SA faithfully, one code per cause (see server/model/crosscheck.ts). */
export const UNREPRESENTABLE_CAUSES = [
  'protocol', 'family', 'mode', 'aead', 'mark', 'if-id', 'output-mark', 'esn', 'replay-window', 'offload', 'tfc-padding', 'iptfs',
  'nat-t-oa', 'auth-no-sadb-id', 'cipher-no-sadb-id', 'comp-no-sadb-id', 'auth-truncation',
] as const;
export type UnrepresentableCause = (typeof UNREPRESENTABLE_CAUSES)[number];

/** One cause, and what it names where that sets it apart: the protocol, family or mode, the algorithm, the offload type. */
export interface PfkeyCause {
  code: UnrepresentableCause;
  subject?: string;
}

/** Whether the PF_KEY and XFRM views of one SA agree (kind 'pfkey-check'). */
export interface PfkeyCheck {
  /** The SA identity both sides share: "esp/10.0.0.2/0x00001000". */
  key: string;
  status: PfkeyCheckStatus;
  /** Fields that differ, with each side's value as text. */
  differences: Array<{ field: string; xfrm: string; pfkey: string }>;
  /** Why PF_KEY cannot show this SA faithfully, or which side lacks it. */
  reason?: string;
  /** The causes in `reason` that make it not representable, as codes. */
  causes?: PfkeyCause[];
  /** The XFRM 'sa' entity key and the 'pfkey-sa' key, where present. */
  xfrmKey?: string;
  pfkeyKey?: string;
}

// PF_KEY messages → entities: an SA message (DUMP, GET, ADD, UPDATE, DELETE, EXPIRE replies) becomes a
// PfkeySa, an SPD message a PfkeyPolicy, a REGISTER reply a list of PfkeyAlgorithm. Numbers become
// names through the tables in spec.ts (algorithm ids: server/wire/pfkey.ts); unknown numbers stay numbers.
import { DecodeError } from '../../netlink/errors.ts';
import { familyName } from '../address.ts';
import { IP_PROTO, flagNames } from '../names.ts';
import {
  algorithmName, pfkeySaKey, type AlgClass, type PfkeyAddress, type PfkeyAlgorithm, type PfkeyAlgorithmRef, type PfkeyIdentity, type PfkeyIpsecRequest, type PfkeyLifetime,
  type PfkeyPolicy, type PfkeySa,
} from '../../wire/pfkey.ts';
import { spiHex } from '../../wire/xfrm.ts';
import type { SadbAddressExt, SadbExtensions, SadbIdentExt, SadbKeyExt, SadbLifetimeExt, SadbMessage } from './message.ts';
import {
  IDENT_TYPE, IPSEC_DIR, IPSEC_LEVEL, IPSEC_MODE, IPSEC_POLICY, IPSEC_PROTO_ANY, NAT_T_TYPE, SA_FLAGS, SA_STATE, SADB, SADB_NAME,
  SATYPE, SATYPE_NAME,
} from './spec.ts';

const named = (table: Record<number, string>, v: number): string | number => table[v] ?? v;

export function algorithmRef(cls: AlgClass, id: number): PfkeyAlgorithmRef {
  const a = algorithmName(cls, id);
  return a ? { id, name: a.name, constant: a.constant } : { id, name: `unknown-${id}` };
}

export function addressFrom(a: SadbAddressExt): PfkeyAddress {
  return {
    family: familyName(a.family),
    address: a.address,
    port: a.port,
    proto: a.proto === IPSEC_PROTO_ANY ? 'any' : a.proto === 0 ? 0 : named(IP_PROTO, a.proto),
    prefixlen: a.prefixlen,
  };
}

export function lifetimeFrom(l: SadbLifetimeExt): PfkeyLifetime {
  return { allocations: l.allocations, bytes: l.bytes, addTime: l.addtime, useTime: l.usetime };
}

function identityFrom(i: SadbIdentExt): PfkeyIdentity {
  return { type: named(IDENT_TYPE, i.type), id: i.id, value: i.value };
}

function lifetimes(ext: SadbExtensions): PfkeySa['lifetime'] {
  const out: PfkeySa['lifetime'] = {};
  if (ext.lifetimeCurrent) out.current = lifetimeFrom(ext.lifetimeCurrent);
  if (ext.lifetimeHard) out.hard = lifetimeFrom(ext.lifetimeHard);
  if (ext.lifetimeSoft) out.soft = lifetimeFrom(ext.lifetimeSoft);
  return out;
}

const keyInfo = (k: SadbKeyExt) => (k.fingerprint ? { bits: k.bits, fingerprint: k.fingerprint } : { bits: k.bits });


/** An SA from a message that carries one (SA + SRC + DST extensions). */
export function saFromMessage(m: SadbMessage, what = 'pfkey sa'): PfkeySa {
  const { ext } = m;
  if (!ext.sa) throw new DecodeError(what, 16, `${SADB_NAME[m.header.type] ?? m.header.type} without an SA extension`);
  if (!ext.addressSrc || !ext.addressDst) throw new DecodeError(what, 16, 'SA message without source and destination addresses');
  const satype = named(SATYPE_NAME, m.header.satype);
  const isComp = m.header.satype === SATYPE.IPCOMP;
  const sa: PfkeySa = {
    key: pfkeySaKey(satype, ext.addressDst.address, ext.sa.spi),
    satype,
    spi: ext.sa.spi,
    spiHex: spiHex(ext.sa.spi),
    state: named(SA_STATE, ext.sa.state),
    replayWindow: ext.sa.replay,
    auth: algorithmRef('auth', ext.sa.auth),
    encrypt: isComp ? algorithmRef('encrypt', 0) : algorithmRef('encrypt', ext.sa.encrypt),
    flags: flagNames(ext.sa.flags, SA_FLAGS),
    src: addressFrom(ext.addressSrc),
    dst: addressFrom(ext.addressDst),
    lifetime: lifetimes(ext),
  };
  // KAME compatible: for IPCOMP, sadb_sa_encrypt is the compression algorithm (af_key.c).
  if (isComp) sa.compression = algorithmRef('comp', ext.sa.encrypt);
  if (ext.addressProxy) sa.proxy = addressFrom(ext.addressProxy);
  if (ext.keyAuth) sa.authKey = keyInfo(ext.keyAuth);
  if (ext.keyEncrypt) sa.encryptKey = keyInfo(ext.keyEncrypt);
  if (ext.sa2) {
    sa.mode = named(IPSEC_MODE, ext.sa2.mode);
    sa.reqid = ext.sa2.reqid;
    sa.sequence = ext.sa2.sequence;
  }
  if (ext.natTType) {
    sa.natT = { type: named(NAT_T_TYPE, ext.natTType.type) };
    if (ext.natTSport) sa.natT.sport = ext.natTSport.port;
    if (ext.natTDport) sa.natT.dport = ext.natTDport.port;
    if (ext.natTOa) sa.natT.originalAddress = addressFrom(ext.natTOa);
  }
  if (ext.identitySrc) sa.identitySrc = identityFrom(ext.identitySrc);
  if (ext.identityDst) sa.identityDst = identityFrom(ext.identityDst);
  if (ext.sensitivity) sa.sensitivity = { ...ext.sensitivity };
  if (ext.secCtx) sa.securityContext = { ...ext.secCtx };
  if (m.unknown) sa.unknown = m.unknown;
  return sa;
}

export function pfkeyPolicyKey(id: number, dir: number): string {
  return `${id}:${named(IPSEC_DIR, dir)}`;
}

/** A policy from an SPD message (SRC + DST selector addresses + X_POLICY). */
export function policyFromMessage(m: SadbMessage, what = 'pfkey policy'): PfkeyPolicy {
  const { ext } = m;
  if (!ext.policy) throw new DecodeError(what, 16, `${SADB_NAME[m.header.type] ?? m.header.type} without an X_POLICY extension`);
  if (!ext.addressSrc || !ext.addressDst) throw new DecodeError(what, 16, 'SPD message without selector addresses');
  const requests: PfkeyIpsecRequest[] = ext.policy.requests.map((r) => {
    const out: PfkeyIpsecRequest = {
      proto: named(IP_PROTO, r.proto),
      mode: named(IPSEC_MODE, r.mode),
      level: named(IPSEC_LEVEL, r.level),
      reqid: r.reqid,
    };
    if (r.tunnelSrc) out.tunnelSrc = r.tunnelSrc.address;
    if (r.tunnelDst) out.tunnelDst = r.tunnelDst.address;
    return out;
  });
  const p: PfkeyPolicy = {
    key: pfkeyPolicyKey(ext.policy.id, ext.policy.dir),
    id: ext.policy.id,
    dir: named(IPSEC_DIR, ext.policy.dir),
    type: named(IPSEC_POLICY, ext.policy.type),
    priority: ext.policy.priority,
    src: addressFrom(ext.addressSrc),
    dst: addressFrom(ext.addressDst),
    lifetime: lifetimes(ext),
    requests,
    refcount: m.header.reserved,
  };
  if (ext.secCtx) p.securityContext = { ...ext.secCtx };
  if (m.unknown) p.unknown = m.unknown;
  return p;
}

/** The algorithms of one REGISTER reply, tagged with the SA type it answered. */
export function algorithmsFromRegister(m: SadbMessage): PfkeyAlgorithm[] {
  const satype = String(named(SATYPE_NAME, m.header.satype));
  const out: PfkeyAlgorithm[] = [];
  const add = (cls: 'auth' | 'encrypt', list: SadbExtensions['supportedAuth']) => {
    for (const a of list ?? []) {
      const n = algorithmName(cls, a.id);
      out.push({
        key: `${cls}:${a.id}`, class: cls, id: a.id, name: n?.name ?? `unknown-${a.id}`, ...(n ? { constant: n.constant } : {}),
        xfrmNames: n?.xfrm ?? [], ivlen: a.ivlen, minBits: a.minbits, maxBits: a.maxbits, satypes: [satype],
      });
    }
  };
  add('auth', m.ext.supportedAuth);
  add('encrypt', m.ext.supportedEncrypt);
  return out;
}

/** One line for the event log: what the message is about, never key material. */
export function describeMessage(m: SadbMessage): string {
  const { header: h, ext } = m;
  const parts: string[] = [];
  const satype = SATYPE_NAME[h.satype];
  if (satype && h.satype !== 0) parts.push(satype);
  if (ext.sa) parts.push(`spi ${spiHex(ext.sa.spi)}`);
  if (ext.addressSrc && ext.addressDst) {
    const fmt = (a: SadbAddressExt) => (ext.policy ? `${a.address}/${a.prefixlen}` : a.address);
    parts.push(`${fmt(ext.addressSrc)} → ${fmt(ext.addressDst)}`);
  }
  if (ext.sa2) parts.push(`${named(IPSEC_MODE, ext.sa2.mode)}${ext.sa2.reqid ? ` reqid ${ext.sa2.reqid}` : ''}`);
  if (ext.policy) {
    parts.push(`dir ${named(IPSEC_DIR, ext.policy.dir)} ${named(IPSEC_POLICY, ext.policy.type)} id ${ext.policy.id}`);
    for (const r of ext.policy.requests) parts.push(`[${named(IP_PROTO, r.proto)} ${named(IPSEC_MODE, r.mode)}${r.reqid ? ` reqid ${r.reqid}` : ''}]`);
  }
  if (h.type === SADB.EXPIRE) parts.push(ext.lifetimeHard ? 'hard' : ext.lifetimeSoft ? 'soft' : '');
  if (ext.keyAuth) parts.push(`auth key ${ext.keyAuth.bits} bits`);
  if (ext.keyEncrypt) parts.push(`enc key ${ext.keyEncrypt.bits} bits`);
  if (ext.supportedAuth || ext.supportedEncrypt) parts.push(`${(ext.supportedAuth?.length ?? 0) + (ext.supportedEncrypt?.length ?? 0)} algorithms`);
  if (ext.proposal) parts.push(`proposal of ${ext.proposal.combs.length}`);
  if (ext.spirange) parts.push(`spi range ${spiHex(ext.spirange.min)}-${spiHex(ext.spirange.max)}`);
  parts.push(`(seq ${h.seq}, pid ${h.pid})`);
  return parts.filter(Boolean).join(' ');
}

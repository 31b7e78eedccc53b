// XFRM SAs: struct xfrm_usersa_info + XFRMA_* attributes → SecurityAssociation, and every message of the
// SA, EXPIRE, ACQUIRE, AEVENTS, REPORT, MAPPING and MIGRATE groups, as the kernel builds them in
// net/xfrm/xfrm_user.c (xfrm_notify_sa, build_expire, build_aevent, build_acquire, build_report,
// build_mapping, xfrm_notify_sa_flush). Keys are fingerprinted and dropped by the algorithm decoders.
import { decodeStruct, type Struct } from '../../netlink/struct.ts';
import { decodeAttrs } from '../../netlink/spec.ts';
import { DecodeError } from '../../netlink/errors.ts';
import type { NetlinkMessage } from '../../netlink/message.ts';
import { saKey, type XfrmAntiReplay, type SecurityAssociation, type XfrmAlgorithm, type XfrmLifetimeCurrent, type XfrmSelector, type XfrmTemplate } from '../../wire/xfrm.ts';
import { familyName, formatXfrmAddress } from '../address.ts';
import { flagNames } from '../names.ts';
import { lifetimeConfigFrom, lifetimeCurrentFrom, selectorFrom, templatesFrom } from './policy.ts';
import {
  AE_FLAGS, ENCAP_TYPE, SA_EXTRA_FLAGS, SA_FLAGS, XFRM_MODE, XFRM_MSG, XFRM_PROTO, xfrmAttrs,
  xfrm_aevent_id, xfrm_user_acquire, xfrm_user_expire, xfrm_user_mapping, xfrm_user_report, xfrm_usersa_flush,
  xfrm_usersa_id, xfrm_usersa_info, type AlgorithmInfo, type XfrmAttrs,
} from './spec.ts';

const named = (table: Record<number, string>, v: number): string | number => table[v] ?? v;

function markOf(attrs: XfrmAttrs): { value: number; mask: number } | undefined {
  const m = attrs.mark;
  return m ? { value: m.v, mask: m.m } : undefined;
}

function algorithm(a: AlgorithmInfo): XfrmAlgorithm {
  const out: XfrmAlgorithm = { name: a.name, keyBits: a.keyBits };
  if (a.truncBits !== undefined) out.truncBits = a.truncBits;
  if (a.icvBits !== undefined) out.icvBits = a.icvBits;
  if (a.fingerprint) out.fingerprint = a.fingerprint;
  return out;
}

function antiReplayOf(attrs: XfrmAttrs): XfrmAntiReplay | undefined {
  const esn = attrs['replay-esn-val'];
  if (esn) return { esn: true, seq: esn.seq, oseq: esn.oseq, seqHi: esn.seq_hi, oseqHi: esn.oseq_hi, replayWindow: esn.replay_window, bitmapLength: esn.bmp_len };
  const r = attrs['replay-val'];
  if (r) return { esn: false, seq: r.seq, oseq: r.oseq, bitmap: r.bitmap };
  return undefined;
}

function addressAttr(attrs: XfrmAttrs, name: 'coaddr' | 'srcaddr', family: number, what: string): string | undefined {
  const b = attrs[name];
  if (!b) return undefined;
  if (b.length < 16) throw new DecodeError(what, 0, `${name} of ${b.length} bytes, need 16`);
  return formatXfrmAddress(b, family);
}

/** struct xfrm_usersa_info and the attributes after it (copy_to_user_state_extra). */
export function saFrom(p: Struct<typeof xfrm_usersa_info>, attrs: XfrmAttrs, what: string): SecurityAssociation {
  const family = familyName(p.family);
  const dst = formatXfrmAddress(p.id.daddr, p.family);
  const proto = named(XFRM_PROTO, p.id.proto);
  const mark = markOf(attrs);
  const sa: SecurityAssociation = {
    key: saKey(family, proto, dst, p.id.spi, mark),
    src: formatXfrmAddress(p.saddr, p.family),
    dst,
    spi: p.id.spi,
    proto,
    family,
    mode: named(XFRM_MODE, p.mode),
    reqid: p.reqid,
    seq: p.seq,
    replayWindow: p.replay_window,
    flags: flagNames(p.flags, SA_FLAGS),
    selector: selectorFrom(p.sel),
    lifetime: { config: lifetimeConfigFrom(p.lft), current: lifetimeCurrentFrom(p.curlft) },
    stats: { replayWindow: p.stats.replay_window, replay: p.stats.replay, integrityFailed: p.stats.integrity_failed },
  };
  applyAttrs(sa, attrs, p.family, what);
  return sa;
}

function applyAttrs(sa: SecurityAssociation, attrs: XfrmAttrs, family: number, what: string): void {
  if (attrs['sa-extra-flags'] !== undefined) sa.extraFlags = flagNames(attrs['sa-extra-flags'], SA_EXTRA_FLAGS);
  if (attrs['alg-aead']) sa.aead = algorithm(attrs['alg-aead']);
  // The kernel sends an auth key twice: XFRMA_ALG_AUTH (no truncation) and XFRMA_ALG_AUTH_TRUNC. Keep the richer one.
  const auth = attrs['alg-auth-trunc'] ?? attrs['alg-auth'];
  if (auth) sa.auth = algorithm(auth);
  if (attrs['alg-crypt']) sa.enc = algorithm(attrs['alg-crypt']);
  if (attrs['alg-comp']) sa.comp = algorithm(attrs['alg-comp']);
  const encap = attrs.encap;
  if (encap) sa.encap = { type: named(ENCAP_TYPE, encap.encap_type), sport: encap.encap_sport, dport: encap.encap_dport, oa: formatXfrmAddress(encap.encap_oa, family) };
  const ar = antiReplayOf(attrs);
  if (ar) sa.antiReplay = ar;
  const mark = markOf(attrs);
  if (mark) sa.mark = mark;
  if (attrs['set-mark'] !== undefined) sa.setMark = { value: attrs['set-mark'], mask: attrs['set-mark-mask'] ?? 0xffffffff };
  if (attrs['if-id'] !== undefined) sa.ifId = attrs['if-id'];
  const off = attrs['offload-dev'];
  if (off) sa.offload = { ifindex: off.ifindex, dir: off.flags & 2 ? 'in' : 'out', type: off.flags & 4 ? 'packet' : 'crypto' };
  if (attrs['sa-dir'] !== undefined) sa.dir = attrs['sa-dir'];
  if (attrs.tfcpad !== undefined) sa.tfcpad = attrs.tfcpad;
  const coaddr = addressAttr(attrs, 'coaddr', family, `${what}.coaddr`);
  if (coaddr) sa.coaddr = coaddr;
  if (attrs['sec-ctx']) sa.securityContext = attrs['sec-ctx'];
  if (attrs['nat-keepalive-interval'] !== undefined) sa.natKeepaliveInterval = attrs['nat-keepalive-interval'];
  if (attrs['mtimer-thresh'] !== undefined) sa.mtimerThresh = attrs['mtimer-thresh'];
  if (attrs['sa-pcpu'] !== undefined) sa.pcpu = attrs['sa-pcpu'];
  if (attrs.lastused !== undefined) sa.lastUsed = attrs.lastused;
  const iptfs: NonNullable<SecurityAssociation['iptfs']> = {};
  if (attrs['iptfs-drop-time'] !== undefined) iptfs.dropTimeUs = attrs['iptfs-drop-time'];
  if (attrs['iptfs-reorder-window'] !== undefined) iptfs.reorderWindow = attrs['iptfs-reorder-window'];
  if (attrs['iptfs-dont-frag']) iptfs.dontFrag = true;
  if (attrs['iptfs-init-delay'] !== undefined) iptfs.initDelayUs = attrs['iptfs-init-delay'];
  if (attrs['iptfs-max-qsize'] !== undefined) iptfs.maxQueueSize = attrs['iptfs-max-qsize'];
  if (attrs['iptfs-pkt-size'] !== undefined) iptfs.pktSize = attrs['iptfs-pkt-size'];
  if (Object.keys(iptfs).length) sa.iptfs = iptfs;
  if (attrs.unknown) sa.unknown = attrs.unknown;
}

/** The identity fields of struct xfrm_usersa_id (DELSA header, aevents, mapping). */
export interface SaId {
  key: string;
  dst: string;
  spi: number;
  proto: string | number;
  family: string;
}

function saIdFrom(id: Struct<typeof xfrm_usersa_id>, mark?: { value: number; mask: number }): SaId {
  const family = familyName(id.family);
  const dst = formatXfrmAddress(id.daddr, id.family);
  const proto = named(XFRM_PROTO, id.proto);
  return { key: saKey(family, proto, dst, id.spi, mark), dst, spi: id.spi, proto, family };
}

/** What an XFRMNLGRP_AEVENTS message (XFRM_MSG_NEWAE) says about one SA. */
export interface SaAevent {
  id: SaId;
  src: string;
  reqid: number;
  /** Why the kernel sent it: cr (replay update), ce (timer), cu (policy update), rthr, ethr … */
  flags: string[];
  current?: XfrmLifetimeCurrent;
  antiReplay?: XfrmAntiReplay;
  replayThresh?: number;
  etimerThresh?: number;
}

export interface SaAcquire {
  id: SaId;
  src: string;
  selector: XfrmSelector;
  policyIndex: number;
  policyDir: number;
  templates: XfrmTemplate[];
  aalgos: number;
  ealgos: number;
  calgos: number;
  seq: number;
}

export type SaMessage =
  | { kind: 'upsert'; type: 'NEWSA' | 'UPDSA'; sa: SecurityAssociation }
  | { kind: 'remove'; sa: SecurityAssociation }
  /** EXPIRE carries the header and mark/if_id/pcpu/dir only: merge into the known SA. */
  | { kind: 'expire'; sa: SecurityAssociation; hard: boolean }
  | { kind: 'aevent'; ae: SaAevent }
  | { kind: 'acquire'; acquire: SaAcquire }
  | { kind: 'report'; proto: string | number; selector: XfrmSelector; coaddr?: string }
  | { kind: 'mapping'; id: SaId; reqid: number; oldSrc: string; newSrc: string; oldSport: number; newSport: number }
  | { kind: 'flush'; proto: string | number }
  | { kind: 'migrate'; type: string };

/** Decode a message from a GETSA dump or the SA-related multicast groups; undefined for other types. */
export function decodeSaMessage(m: NetlinkMessage): SaMessage | undefined {
  const what = `xfrm ${m.type}`;
  switch (m.type) {
    case XFRM_MSG.NEWSA:
    case XFRM_MSG.UPDSA: {
      const info = decodeStruct(xfrm_usersa_info, m.payload, 0, what);
      const attrs = decodeAttrs(xfrmAttrs, m.payload.subarray(xfrm_usersa_info.size), what);
      return { kind: 'upsert', type: m.type === XFRM_MSG.NEWSA ? 'NEWSA' : 'UPDSA', sa: saFrom(info, attrs, what) };
    }
    case XFRM_MSG.DELSA: {
      // xfrm_notify_sa: struct xfrm_usersa_id, then XFRMA_SA with the full xfrm_usersa_info and the usual attributes.
      decodeStruct(xfrm_usersa_id, m.payload, 0, what);
      const attrs = decodeAttrs(xfrmAttrs, m.payload.subarray(xfrm_usersa_id.size), what);
      const info = attrs.sa;
      if (!info) throw new DecodeError(what, xfrm_usersa_id.size, 'DELSA without XFRMA_SA');
      return { kind: 'remove', sa: saFrom(info, attrs, what) };
    }
    case XFRM_MSG.EXPIRE: {
      const e = decodeStruct(xfrm_user_expire, m.payload, 0, what);
      const attrs = decodeAttrs(xfrmAttrs, m.payload.subarray(xfrm_user_expire.size), what);
      return { kind: 'expire', sa: saFrom(e.state, attrs, what), hard: e.hard !== 0 };
    }
    case XFRM_MSG.NEWAE: {
      const a = decodeStruct(xfrm_aevent_id, m.payload, 0, what);
      const attrs = decodeAttrs(xfrmAttrs, m.payload.subarray(xfrm_aevent_id.size), what);
      const ae: SaAevent = {
        id: saIdFrom(a.sa_id, markOf(attrs)),
        src: formatXfrmAddress(a.saddr, a.sa_id.family),
        reqid: a.reqid,
        flags: flagNames(a.flags, AE_FLAGS),
      };
      const cur = attrs['ltime-val'];
      if (cur) ae.current = lifetimeCurrentFrom(cur);
      const ar = antiReplayOf(attrs);
      if (ar) ae.antiReplay = ar;
      if (attrs['replay-thresh'] !== undefined) ae.replayThresh = attrs['replay-thresh'];
      if (attrs['etimer-thresh'] !== undefined) ae.etimerThresh = attrs['etimer-thresh'];
      return { kind: 'aevent', ae };
    }
    case XFRM_MSG.ACQUIRE: {
      const a = decodeStruct(xfrm_user_acquire, m.payload, 0, what);
      const attrs = decodeAttrs(xfrmAttrs, m.payload.subarray(xfrm_user_acquire.size), what);
      const fam = a.sel.family || a.policy.sel.family;
      return {
        kind: 'acquire',
        acquire: {
          id: saIdFrom({ daddr: a.id.daddr, spi: a.id.spi, proto: a.id.proto, family: fam }, markOf(attrs)),
          src: formatXfrmAddress(a.saddr, fam),
          selector: selectorFrom(a.sel),
          policyIndex: a.policy.index,
          policyDir: a.policy.dir,
          templates: attrs.tmpl ? templatesFrom(attrs.tmpl, `${what}.tmpl`) : [],
          aalgos: a.aalgos,
          ealgos: a.ealgos,
          calgos: a.calgos,
          seq: a.seq,
        },
      };
    }
    case XFRM_MSG.REPORT: {
      const r = decodeStruct(xfrm_user_report, m.payload, 0, what);
      const attrs = decodeAttrs(xfrmAttrs, m.payload.subarray(xfrm_user_report.size), what);
      const coaddr = addressAttr(attrs, 'coaddr', r.sel.family, `${what}.coaddr`);
      return { kind: 'report', proto: named(XFRM_PROTO, r.proto), selector: selectorFrom(r.sel), ...(coaddr ? { coaddr } : {}) };
    }
    case XFRM_MSG.MAPPING: {
      const mp = decodeStruct(xfrm_user_mapping, m.payload, 0, what);
      return {
        kind: 'mapping',
        id: saIdFrom(mp.id),
        reqid: mp.reqid,
        oldSrc: formatXfrmAddress(mp.old_saddr, mp.id.family),
        newSrc: formatXfrmAddress(mp.new_saddr, mp.id.family),
        oldSport: mp.old_sport,
        newSport: mp.new_sport,
      };
    }
    case XFRM_MSG.FLUSHSA: {
      const f = decodeStruct(xfrm_usersa_flush, m.payload, 0, what);
      // IPSEC_PROTO_ANY (255): every SA (ip xfrm state flush)
      return { kind: 'flush', proto: f.proto === 255 ? 'any' : named(XFRM_PROTO, f.proto) };
    }
    case XFRM_MSG.MIGRATE:
    case XFRM_MSG.MIGRATE_STATE:
      return { kind: 'migrate', type: m.type === XFRM_MSG.MIGRATE ? 'MIGRATE' : 'MIGRATE_STATE' };
    default:
      return undefined;
  }
}

// XFRM policies: struct xfrm_userpolicy_info + XFRMA_* attributes → XfrmPolicy.
import { decodeStruct, type Struct } from '../../netlink/struct.ts';
import { decodeAttrs } from '../../netlink/spec.ts';
import { DecodeError } from '../../netlink/errors.ts';
import type { NetlinkMessage } from '../../netlink/message.ts';
import type { XfrmLifetimeConfig, XfrmLifetimeCurrent, XfrmPolicy, XfrmSelector, XfrmTemplate } from '../../wire/entities.ts';
import { familyName, formatXfrmAddress } from '../address.ts';
import { IP_PROTO, flagNames } from '../names.ts';
import {
  OFFLOAD_FLAGS, POLICY_ACTION, POLICY_DIR, POLICY_FLAGS, POLICY_SHARE, POLICY_TYPE, XFRM_MODE, XFRM_MSG, XFRM_PROTO,
  xfrmAttrs, xfrm_lifetime_cfg, xfrm_lifetime_cur, xfrm_selector, xfrm_user_tmpl, xfrm_userpolicy_id, xfrm_userpolicy_info,
  xfrm_user_polexpire, type XfrmAttrs,
} from './spec.ts';

const named = (table: Record<number, string>, v: number): string | number => table[v] ?? v;

export function selectorFrom(s: Struct<typeof xfrm_selector>): XfrmSelector {
  return {
    family: familyName(s.family),
    src: `${formatXfrmAddress(s.saddr, s.family)}/${s.prefixlen_s}`,
    dst: `${formatXfrmAddress(s.daddr, s.family)}/${s.prefixlen_d}`,
    sport: s.sport,
    sportMask: s.sport_mask,
    dport: s.dport,
    dportMask: s.dport_mask,
    proto: s.proto === 0 ? 'any' : named(IP_PROTO, s.proto),
    ifindex: s.ifindex,
    user: s.user,
  };
}

export function lifetimeConfigFrom(l: Struct<typeof xfrm_lifetime_cfg>): XfrmLifetimeConfig {
  return {
    softByteLimit: l.soft_byte_limit, hardByteLimit: l.hard_byte_limit,
    softPacketLimit: l.soft_packet_limit, hardPacketLimit: l.hard_packet_limit,
    softAddExpiresSeconds: l.soft_add_expires_seconds, hardAddExpiresSeconds: l.hard_add_expires_seconds,
    softUseExpiresSeconds: l.soft_use_expires_seconds, hardUseExpiresSeconds: l.hard_use_expires_seconds,
  };
}

export function lifetimeCurrentFrom(c: Struct<typeof xfrm_lifetime_cur>): XfrmLifetimeCurrent {
  return { bytes: c.bytes, packets: c.packets, addTime: c.add_time, useTime: c.use_time };
}

/** XFRMA_TMPL: an array of struct xfrm_user_tmpl in one attribute. */
export function templatesFrom(data: Buffer, what: string): XfrmTemplate[] {
  if (data.length % xfrm_user_tmpl.size !== 0) throw new DecodeError(what, 0, `templates of ${data.length} bytes, not a multiple of ${xfrm_user_tmpl.size}`);
  const out: XfrmTemplate[] = [];
  for (let off = 0; off < data.length; off += xfrm_user_tmpl.size) {
    const t = decodeStruct(xfrm_user_tmpl, data, off, what);
    out.push({
      dst: formatXfrmAddress(t.id.daddr, t.family),
      spi: t.id.spi,
      proto: named(XFRM_PROTO, t.id.proto),
      family: familyName(t.family),
      src: formatXfrmAddress(t.saddr, t.family),
      reqid: t.reqid,
      mode: named(XFRM_MODE, t.mode),
      share: named(POLICY_SHARE, t.share),
      optional: t.optional !== 0,
      aalgos: t.aalgos,
      ealgos: t.ealgos,
      calgos: t.calgos,
    });
  }
  return out;
}

export function policyKey(index: number, dir: number): string {
  return `${index}:${POLICY_DIR[dir] ?? dir}`;
}

export function policyFrom(info: Struct<typeof xfrm_userpolicy_info>, attrs: XfrmAttrs, what: string): XfrmPolicy {
  const p: XfrmPolicy = {
    key: policyKey(info.index, info.dir),
    index: info.index,
    dir: named(POLICY_DIR, info.dir),
    action: named(POLICY_ACTION, info.action),
    priority: info.priority,
    flags: flagNames(info.flags, POLICY_FLAGS),
    share: named(POLICY_SHARE, info.share),
    type: 'main',
    selector: selectorFrom(info.sel),
    lifetime: { config: lifetimeConfigFrom(info.lft), current: lifetimeCurrentFrom(info.curlft) },
    templates: attrs.tmpl ? templatesFrom(attrs.tmpl, `${what}.tmpl`) : [],
  };
  const pt = attrs['policy-type'];
  if (pt) p.type = named(POLICY_TYPE, pt.type);
  const mark = attrs.mark;
  if (mark) p.mark = { value: mark.v, mask: mark.m };
  if (attrs['if-id'] !== undefined) p.ifId = attrs['if-id'];
  if (attrs['sec-ctx']) p.securityContext = attrs['sec-ctx'];
  const off = attrs['offload-dev'];
  if (off) p.offload = { ifindex: off.ifindex, flags: flagNames(off.flags, OFFLOAD_FLAGS) };
  if (attrs.unknown) p.unknown = attrs.unknown;
  return p;
}

export type PolicyMessage =
  | { kind: 'upsert'; policy: XfrmPolicy }
  | { kind: 'remove'; policy: XfrmPolicy }
  | { kind: 'expire'; policy: XfrmPolicy; hard: boolean }
  | { kind: 'flush'; type: string | number };

/** Decode a policy message of any type the POLICY/EXPIRE groups or a GETPOLICY dump carry. */
export function decodePolicyMessage(m: NetlinkMessage): PolicyMessage | undefined {
  const what = `xfrm ${m.type}`;
  switch (m.type) {
    case XFRM_MSG.NEWPOLICY:
    case XFRM_MSG.UPDPOLICY: {
      const info = decodeStruct(xfrm_userpolicy_info, m.payload, 0, what);
      const attrs = decodeAttrs(xfrmAttrs, m.payload.subarray(xfrm_userpolicy_info.size), what);
      return { kind: 'upsert', policy: policyFrom(info, attrs, what) };
    }
    case XFRM_MSG.DELPOLICY: {
      // struct xfrm_userpolicy_id, then XFRMA_POLICY with the full xfrm_userpolicy_info (xfrm_notify_policy)
      decodeStruct(xfrm_userpolicy_id, m.payload, 0, what);
      const attrs = decodeAttrs(xfrmAttrs, m.payload.subarray(xfrm_userpolicy_id.size), what);
      const info = attrs.policy;
      if (!info) throw new DecodeError(what, xfrm_userpolicy_id.size, 'DELPOLICY without XFRMA_POLICY');
      return { kind: 'remove', policy: policyFrom(info, attrs, what) };
    }
    case XFRM_MSG.POLEXPIRE: {
      const e = decodeStruct(xfrm_user_polexpire, m.payload, 0, what);
      const attrs = decodeAttrs(xfrmAttrs, m.payload.subarray(xfrm_user_polexpire.size), what);
      return { kind: 'expire', policy: policyFrom(e.pol, attrs, what), hard: e.hard !== 0 };
    }
    case XFRM_MSG.FLUSHPOLICY: {
      const attrs = decodeAttrs(xfrmAttrs, m.payload, what);
      const pt = attrs['policy-type'];
      return { kind: 'flush', type: pt ? named(POLICY_TYPE, pt.type) : 'main' };
    }
    default:
      return undefined;
  }
}

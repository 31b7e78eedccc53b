// ethtool messages → sascope's shapes. Bitsets come compact (ETHTOOL_A_BITSET_VALUE / _MASK as arrays
// of host-order u32 words, ETHTOOL_A_BITSET_SIZE bits) when sascope asks with ETHTOOL_FLAG_COMPACT_BITSETS
// and always in notifications; the verbose form (a nest of bits with index, name and value) is read too.
// Feature names are never written here: they come from the kernel's ETH_SS_FEATURES string set.
import { DecodeError, decodeAttrs, encodeAttrs, type Decoded, type Request } from '../../netlink/spec.ts';
import type { NetlinkMessage } from '../../netlink/message.ts';
import { parseGenl, type GenlHeader } from '../../genl/genl.ts';
import type { EthtoolDevice, EthtoolFeature } from '../../wire/ethtool.ts';
import { ETHTOOL_FLAG_COMPACT_BITSETS, ETHTOOL_MSG_KERNEL, bitsetAttrs, featuresAttrs, headerAttrs, strsetAttrs } from './spec.ts';

export interface Bitset {
  size: number;
  /** Bit index → value; compact sets list every bit below size, verbose ones the bits they carry. */
  values: Map<number, boolean>;
  /** Names that came inside a verbose bitset. */
  names: Map<number, string>;
}

function bitOf(words: Buffer, i: number): boolean {
  const w = i >> 5;
  if (w * 4 + 4 > words.length) return false;
  return ((words.readUInt32LE(w * 4) >>> (i & 31)) & 1) === 1;
}

/**
 * ETHTOOL_A_BITSET_SIZE is a u32, but no kernel bitset has more than a few hundred bits (NETDEV_FEATURE_COUNT,
 * link modes): a verbose list without mask fills every bit below size, so a corrupt size must not drive that loop.
 */
export const MAX_BITSET_BITS = 1 << 16;

export function decodeBitset(d: Decoded<typeof bitsetAttrs>, what: string): Bitset {
  const size = d.size ?? 0;
  if (size > MAX_BITSET_BITS) throw new DecodeError(what, 0, `bitset of ${size} bits (more than ${MAX_BITSET_BITS})`);
  const values = new Map<number, boolean>();
  const names = new Map<number, string>();
  const value = d.value;
  if (value) {
    if (value.length % 4 !== 0 || value.length * 8 < size) throw new DecodeError(what, 0, `compact bitset of ${size} bits in ${value.length} bytes`);
    for (let i = 0; i < size; i++) values.set(i, bitOf(value, i));
    return { size, values, names };
  }
  const bits = d.bits?.bit ?? [];
  const nomask = d.nomask === true;
  for (const b of bits) {
    const i = b.index;
    if (i === undefined) throw new DecodeError(what, 0, 'bitset bit without index');
    if (typeof b.name === 'string') names.set(i, b.name);
    values.set(i, b.value === true || (nomask && b.value === undefined));
  }
  // A verbose list without mask names only the set bits: the rest below size are off.
  if (nomask) for (let i = 0; i < size; i++) if (!values.has(i)) values.set(i, false);
  return { size, values, names };
}

/** The device a reply or notification is about (ETHTOOL_A_*_HEADER). */
export function headerOf(d: { header?: Decoded<typeof headerAttrs> }): { ifindex?: number; ifname?: string } {
  return { ifindex: d.header?.['dev-index'], ifname: d.header?.['dev-name'] };
}

export interface FeaturesReply {
  ifindex: number;
  ifname: string;
  features: EthtoolFeature[];
}

/** features-get reply or features-ntf → the device's features named from names (ETH_SS_FEATURES by index). */
export function featuresFromAttrs(d: Decoded<typeof featuresAttrs>, names: readonly string[], what: string): FeaturesReply {
  const { ifindex, ifname } = headerOf(d);
  if (ifindex === undefined) throw new DecodeError(what, 0, 'features message without a device index in its header');
  const set = (n: 'hw' | 'wanted' | 'active' | 'nochange') => {
    const b = d[n];
    return b ? decodeBitset(b, `${what}.${n}`) : undefined;
  };
  const hw = set('hw');
  const wanted = set('wanted');
  const active = set('active');
  const nochange = set('nochange');
  const size = Math.max(hw?.size ?? 0, wanted?.size ?? 0, active?.size ?? 0, nochange?.size ?? 0);
  const features: EthtoolFeature[] = [];
  for (let i = 0; i < size; i++) {
    const name = names[i] || hw?.names.get(i) || active?.names.get(i) || wanted?.names.get(i) || `bit ${i}`;
    features.push({
      name,
      active: active?.values.get(i) ?? false,
      requested: wanted?.values.get(i) ?? false,
      changeable: hw?.values.get(i) ?? false,
      nochange: nochange?.values.get(i) ?? false,
    });
  }
  return { ifindex, ifname: ifname ?? `if${ifindex}`, features };
}

export function decodeFeatures(g: GenlHeader, names: readonly string[], what = 'ethtool features'): FeaturesReply {
  return featuresFromAttrs(decodeAttrs(featuresAttrs, g.attrs, what), names, what);
}

export interface StringSets {
  ifindex?: number;
  ifname?: string;
  /** String set id → strings by index (holes stay empty strings). */
  sets: Map<number, string[]>;
}

/** No ethtool string set has more entries than this (ETH_SS_FEATURES: NETDEV_FEATURE_COUNT; driver stats: hundreds). */
export const MAX_STRINGS = 1 << 16;

/** strset-get reply: every string set it carries, strings placed at their index. */
export function decodeStringSets(g: GenlHeader, what = 'ethtool strset'): StringSets {
  const d = decodeAttrs(strsetAttrs, g.attrs, what);
  const sets = new Map<number, string[]>();
  const list = d.stringsets?.stringset ?? [];
  for (const s of list) {
    const id = s.id;
    if (id === undefined) throw new DecodeError(what, 0, 'string set without id');
    const count = s.count ?? 0;
    // ETHTOOL_A_STRINGSET_COUNT is a u32 from the message: it must not size an array beyond what a set can hold.
    if (count > MAX_STRINGS) throw new DecodeError(what, 0, `string set ${id} of ${count} strings (more than ${MAX_STRINGS})`);
    const strings: string[] = new Array(count).fill('');
    for (const group of s.strings ?? []) {
      for (const st of group.string ?? []) {
        const i = st.index;
        if (i === undefined || i > MAX_STRINGS) throw new DecodeError(what, 0, `string without a sane index (${i})`);
        strings[i] = st.value ?? '';
      }
    }
    sets.set(id, strings);
  }
  return { ...headerOf(d), sets };
}

/** The request header: the device (none: every device, or global string sets) and compact bitsets. */
function header(ifindex?: number): Request<typeof headerAttrs> {
  return { 'dev-index': ifindex, flags: ETHTOOL_FLAG_COMPACT_BITSETS };
}

/** features-get for one device (do) or all (dump: no device in the header). */
export function featuresRequest(ifindex?: number): Buffer {
  return encodeAttrs(featuresAttrs, { header: header(ifindex) });
}

/** strset-get for the given string sets: global ones without a device, per-device ones with it. */
export function strsetRequest(ids: number[], ifindex?: number): Buffer {
  return encodeAttrs(strsetAttrs, { header: header(ifindex), stringsets: { stringset: ids.map((id) => ({ id })) } });
}

/** IPsec and PSP counters among the driver's statistic names (ETH_SS_STATS), by their names. */
export function offloadStatNames(names: readonly string[]): { ipsec: string[]; psp: string[] } {
  return {
    ipsec: names.filter((n) => /ipsec|xfrm|(^|[_\s-])esp([_\s-]|$)/i.test(n)),
    psp: names.filter((n) => /(^|[_\s-])psp/i.test(n)),
  };
}

/** The entity's IPsec summary, the features found by their kernel names. */
export function ipsecSummary(features: readonly EthtoolFeature[]): EthtoolDevice['ipsec'] {
  const espHwOffload = features.find((f) => f.name === 'esp-hw-offload');
  const espTxCsum = features.find((f) => f.name === 'esp-tx-csum-hw-offload');
  return {
    ...(espHwOffload ? { espHwOffload } : {}),
    ...(espTxCsum ? { espTxCsum } : {}),
    capable: espHwOffload?.active ?? false,
  };
}

/** A whole netlink message (fixtures, fuzzers): features by bit number only, no names. */
export function decodeEthtoolMessage(m: NetlinkMessage): unknown {
  const g = parseGenl(m, 'ethtool message');
  if (g.cmd === ETHTOOL_MSG_KERNEL.STRSET_GET_REPLY) {
    const s = decodeStringSets(g);
    return { ifindex: s.ifindex, ifname: s.ifname, sets: Object.fromEntries(s.sets) };
  }
  return decodeFeatures(g, []);
}

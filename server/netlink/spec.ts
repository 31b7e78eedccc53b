// Kernel families are declarations: an attribute set is a table (number → name, type, nest/struct,
// enum names, display hint). One generic walker decodes any set. Unknown attributes are kept with
// their number (as bytes, or only their length where a set may carry secrets).
import { AttrReader } from './attr.ts';
import { DecodeError } from './errors.ts';
import { decodeStruct, type StructSpec } from './struct.ts';

export type ScalarType = 'u8' | 'u16' | 'u32' | 'u64' | 's32' | 'uint' | 'sint' | 'be16' | 'be32';

export interface AttrSpec {
  name: string;
  type: ScalarType | 'string' | 'binary' | 'flag' | 'nest' | 'array' | 'struct' | 'custom';
  /** For 'nest': the set its members come from; for 'array' (indexed array): the set of each element. */
  nest?: AttrSet;
  /** For 'struct': the fixed C struct the payload holds. */
  struct?: StructSpec;
  /** For 'custom': a decoder of the payload (e.g. one that drops key bytes). */
  decode?: (data: Buffer, what: string) => unknown;
  /** The attribute may occur more than once: decoded as an array. */
  multi?: boolean;
  /** Names of enum values (decoded to the name; unknown numbers stay numbers). */
  enum?: Readonly<Record<number, string>>;
  /** Display hint: how the UI formats it. */
  hint?: 'hex' | 'ipv4' | 'ipv6' | 'mac';
  doc?: string;
}

export interface AttrSet {
  name: string;
  attrs: ReadonlyMap<number, AttrSpec>;
  /** Unknown attributes in this set may hold key material: keep only their number and length. */
  redactUnknown: boolean;
}

export interface UnknownAttr {
  type: number;
  nested: boolean;
  length: number;
  /** Payload in hex; absent where the set may carry secrets. */
  hex?: string;
}

export type Decoded = { [name: string]: unknown; unknown?: UnknownAttr[] };

export function attrSet(name: string, entries: Array<[number, AttrSpec]>, opts: { redactUnknown?: boolean } = {}): AttrSet {
  const attrs = new Map<number, AttrSpec>();
  for (const [n, spec] of entries) {
    if (attrs.has(n)) throw new Error(`attribute set ${name}: number ${n} declared twice`);
    attrs.set(n, spec);
  }
  return { name, attrs, redactUnknown: opts.redactUnknown ?? false };
}

/** Look up an attribute's number by name (for building requests). */
export function attrNumber(set: AttrSet, name: string): number {
  for (const [n, s] of set.attrs) if (s.name === name) return n;
  throw new Error(`attribute set ${set.name} has no attribute ${name}`);
}

function scalar(r: AttrReader, t: ScalarType): number | bigint {
  switch (t) {
    case 'u8': return r.u8();
    case 'u16': return r.u16();
    case 'u32': return r.u32();
    case 's32': return r.s32();
    case 'u64': return r.u64();
    case 'uint': return r.uint();
    case 'sint': return r.sint();
    case 'be16': return r.be16();
    case 'be32': return r.be32();
  }
}

function decodeOne(r: AttrReader, spec: AttrSpec, what: string): unknown {
  switch (spec.type) {
    case 'string': return r.string();
    case 'binary': return Buffer.from(r.data);
    case 'flag': return true;
    case 'nest': return decodeReader(spec.nest!, r.nest(), `${what}.${spec.name}`);
    case 'array': {
      // Each element is a nest whose attribute number is only its index.
      const items: Decoded[] = [];
      const inner = r.nest();
      while (inner.next()) items.push(decodeReader(spec.nest!, inner.nest(), `${what}.${spec.name}[${items.length}]`));
      if (inner.err) throw inner.err;
      return items;
    }
    case 'struct': return decodeStruct(spec.struct!, r.data, 0, `${what}.${spec.name}`);
    case 'custom': return spec.decode!(r.data, `${what}.${spec.name}`);
    default: {
      const v = scalar(r, spec.type);
      if (spec.enum && typeof v === 'number') return spec.enum[v] ?? v;
      return v;
    }
  }
}

function decodeReader(set: AttrSet, r: AttrReader, what: string): Decoded {
  const out: Decoded = {};
  while (r.next()) {
    const spec = set.attrs.get(r.type);
    if (!spec) {
      (out.unknown ??= []).push({
        type: r.type,
        nested: r.nested,
        length: r.data.length,
        ...(set.redactUnknown ? {} : { hex: r.data.toString('hex') }),
      });
      continue;
    }
    const v = decodeOne(r, spec, what);
    if (r.err) break;
    if (spec.multi) ((out[spec.name] ??= []) as unknown[]).push(v);
    else out[spec.name] = v;
  }
  if (r.err) throw r.err;
  return out;
}

/** Decode a run of attributes with a set. Throws DecodeError on malformed TLVs. */
export function decodeAttrs(set: AttrSet, buf: Buffer, what = set.name): Decoded {
  return decodeReader(set, new AttrReader(buf, what), what);
}

export { DecodeError };

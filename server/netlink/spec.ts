// Kernel families are declarations: an attribute set is a table (number → name, type, nest/struct,
// enum names, display hint). One generic walker decodes any set. Unknown attributes are kept with
// their number (as bytes, or only their length where a set may carry secrets). The table also types
// what the walker returns (Decoded, inferred from the entries as zod infers from a schema) and the
// requests built from it by name (encodeAttrs): types only, the walker is the same for every set.
import { AttrReader, AttrWriter } from './attr.ts';
import { DecodeError } from './errors.ts';
import { decodeStruct, encodeStruct, type Struct, type StructSpec, type StructValue } from './struct.ts';

export type ScalarType = 'u8' | 'u16' | 'u32' | 'u64' | 's32' | 'uint' | 'sint' | 'be16' | 'be32';

interface AttrCommon {
  name: string;
  /** The attribute may occur more than once: decoded as an array. */
  multi?: boolean;
  /** Display hint: how the UI formats it. */
  hint?: 'hex' | 'ipv4' | 'ipv6' | 'mac';
  doc?: string;
  /** Names of enum values (decoded to the name; unknown numbers stay numbers): scalars only. */
  enum?: undefined;
  /** 'nest': the set its members come from; 'array' (indexed array): the set of each element. */
  nest?: undefined;
  /** 'struct': the fixed C struct the payload holds. */
  struct?: undefined;
  /** 'custom': a decoder of the payload (e.g. one that drops key bytes). */
  decode?: undefined;
}

/** One attribute of a set; each type carries what it needs (a nest its set, a struct its layout). */
export type AttrSpec =
  | (Omit<AttrCommon, 'enum'> & { type: ScalarType; enum?: Readonly<Record<number, string>> })
  | (AttrCommon & { type: 'string' | 'binary' | 'flag' })
  | (Omit<AttrCommon, 'nest'> & { type: 'nest' | 'array'; nest: AttrSet })
  | (Omit<AttrCommon, 'struct'> & { type: 'struct'; struct: StructSpec })
  | (Omit<AttrCommon, 'decode'> & { type: 'custom'; decode: (data: Buffer, what: string) => unknown });

/** A set's attributes as declared: [number, spec]. */
export type AttrEntries = readonly (readonly [number, AttrSpec])[];

export interface AttrSet<E extends AttrEntries = AttrEntries> {
  name: string;
  attrs: ReadonlyMap<number, AttrSpec>;
  /** Unknown attributes in this set may hold key material: keep only their number and length. */
  redactUnknown: boolean;
  /**
   * Never set: carries the declared entries in the type, so decoded values and requests are typed from them.
   * A method, so that a plain AttrSet still stands for any declared one.
   */
  declared?(entries: E): void;
}

export interface UnknownAttr {
  type: number;
  nested: boolean;
  length: number;
  /** Payload in hex; absent where the set may carry secrets. */
  hex?: string;
}

type Wide64 = 'u64' | 'uint' | 'sint';
type EnumNames<N> = N[keyof N];

/** The value of a scalar, string or binary attribute, read or sent alike (enums by name, or a number the table does not name). */
type PlainValue<A> =
  A extends { type: Wide64 } ? bigint
  : A extends { type: ScalarType; enum: infer N } ? EnumNames<N> | number
  : A extends { type: ScalarType } ? number
  : A extends { type: 'string' } ? string
  : A extends { type: 'binary' } ? Buffer
  : never;

/** The decoded value of one occurrence of an attribute. */
type DecodedOne<A> =
  A extends { type: ScalarType | 'string' | 'binary' } ? PlainValue<A>
  : A extends { type: 'flag' } ? true
  : A extends { type: 'nest'; nest: infer S extends AttrSet } ? Decoded<S>
  : A extends { type: 'array'; nest: infer S extends AttrSet } ? Decoded<S>[]
  : A extends { type: 'struct'; struct: infer S extends StructSpec } ? Struct<S>
  : A extends { type: 'custom'; decode: (...args: never[]) => infer R } ? R
  : never;

type DecodedValue<A> = A extends { multi: true } ? DecodedOne<A>[] : DecodedOne<A>;

/** A set whose entries the type does not know (built at run time, or typed as plain AttrSet). */
type LooseDecoded = { [name: string]: unknown; unknown?: UnknownAttr[] };

type DecodedEntries<E extends AttrEntries> = string extends E[number][1]['name']
  ? LooseDecoded
  : { [A in E[number] as A[1]['name']]?: DecodedValue<A[1]> } & { unknown?: UnknownAttr[] };

/** What decodeAttrs gives for a set: each attribute by name, typed from its entry; unknown ones in `unknown`. */
export type Decoded<S extends AttrSet = AttrSet> = S extends AttrSet<infer E> ? DecodedEntries<E> : LooseDecoded;

export function attrSet<const E extends AttrEntries>(name: string, entries: E, opts: { redactUnknown?: boolean } = {}): AttrSet<E> {
  const attrs = new Map<number, AttrSpec>();
  for (const [n, spec] of entries) {
    if (attrs.has(n)) throw new Error(`attribute set ${name}: number ${n} declared twice`);
    attrs.set(n, spec);
  }
  return { name, attrs, redactUnknown: opts.redactUnknown ?? false };
}

/** Look up an attribute by name (for building requests). */
function attrByName(set: AttrSet, name: string): [number, AttrSpec] {
  for (const [n, spec] of set.attrs) if (spec.name === name) return [n, spec];
  throw new Error(`attribute set ${set.name} has no attribute ${name}`);
}

/** Look up an attribute's number by name. */
export function attrNumber(set: AttrSet, name: string): number {
  return attrByName(set, name)[0];
}

/** What a request may put in an attribute of this spec (enums by name or number). */
type RequestOne<A> =
  A extends { type: ScalarType | 'string' | 'binary' } ? PlainValue<A>
  : A extends { type: 'flag' } ? boolean
  : A extends { type: 'nest'; nest: infer S extends AttrSet } ? Request<S>
  : A extends { type: 'struct'; struct: infer S extends StructSpec } ? Partial<Struct<S>>
  : never; // indexed arrays and custom payloads are read, never sent

type RequestValue<A> = A extends { multi: true } ? readonly RequestOne<A>[] : RequestOne<A>;

/** A request's attributes of a set, by name (in the order they are to be sent); undefined ones are left out. */
export type Request<S extends AttrSet> = S extends AttrSet<infer E>
  ? { [A in E[number] as A[1]['name']]?: RequestValue<A[1]> }
  : Record<string, unknown>;

function enumNumber(spec: AttrSpec, v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  for (const [n, name] of Object.entries(spec.enum ?? {})) if (name === v) return Number(n);
  throw new Error(`${what}: no value named ${String(v)}`);
}

function writeOne(w: AttrWriter, n: number, spec: AttrSpec, v: unknown, what: string): void {
  switch (spec.type) {
    case 'u8': w.u8(n, enumNumber(spec, v, what)); return;
    case 'u16': w.u16(n, enumNumber(spec, v, what)); return;
    case 'u32': w.u32(n, enumNumber(spec, v, what)); return;
    case 's32': w.s32(n, enumNumber(spec, v, what)); return;
    case 'be16': w.be16(n, enumNumber(spec, v, what)); return;
    case 'be32': w.be32(n, enumNumber(spec, v, what)); return;
    case 'u64': case 'uint': w.u64(n, v as bigint); return;
    case 'sint': w.s64(n, v as bigint); return;
    case 'string': w.string(n, v as string); return;
    case 'binary': w.bytes(n, v as Buffer); return;
    case 'flag': w.flag(n, v as boolean); return;
    case 'nest': w.nest(n, (inner) => writeAttrs(inner, spec.nest, v as Record<string, unknown>, what)); return;
    case 'struct': w.bytes(n, encodeStruct(spec.struct, v as StructValue)); return;
    default: throw new Error(`${what}: ${spec.type} attributes are not encoded`);
  }
}

function writeAttrs(w: AttrWriter, set: AttrSet, values: Record<string, unknown>, what: string): void {
  for (const [name, v] of Object.entries(values)) {
    if (v === undefined) continue;
    const [n, spec] = attrByName(set, name);
    const at = `${what}.${name}`;
    if (spec.multi) for (const one of v as unknown[]) writeOne(w, n, spec, one, at);
    else writeOne(w, n, spec, v, at);
  }
}

/**
 * Build a request's attributes from the set that decodes them, by name: the names and value types are
 * checked against the table (a misspelt name does not compile). Attributes go out in the order given.
 */
export function encodeAttrs<S extends AttrSet>(set: S, values: Request<S>): Buffer {
  const w = new AttrWriter();
  writeAttrs(w, set, values as Record<string, unknown>, set.name);
  return w.encode();
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
    case 'nest': return decodeReader(spec.nest, r.nest(), `${what}.${spec.name}`);
    case 'array': {
      // Each element is a nest whose attribute number is only its index.
      const items: LooseDecoded[] = [];
      const inner = r.nest();
      while (inner.next()) items.push(decodeReader(spec.nest, inner.nest(), `${what}.${spec.name}[${items.length}]`));
      if (inner.err) throw inner.err;
      return items;
    }
    case 'struct': return decodeStruct(spec.struct, r.data, 0, `${what}.${spec.name}`);
    case 'custom': return spec.decode(r.data, `${what}.${spec.name}`);
    default: {
      const v = scalar(r, spec.type);
      if (spec.enum && typeof v === 'number') return spec.enum[v] ?? v;
      return v;
    }
  }
}

function decodeReader(set: AttrSet, r: AttrReader, what: string): LooseDecoded {
  const out: LooseDecoded = {};
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
export function decodeAttrs<S extends AttrSet>(set: S, buf: Buffer, what = set.name): Decoded<S> {
  return decodeReader(set, new AttrReader(buf, what), what) as Decoded<S>;
}

export { DecodeError };

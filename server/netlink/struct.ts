// Fixed C structs declared once as field tables (name, kind) with explicit padding, so the layout reads
// like the C definition beside it. The declared size is checked against the fields when the module
// loads, and test/unit/netlink/struct.test.ts asserts the kernel's sizes (xfrm_usersa_info 224, ...).
import { DecodeError } from './errors.ts';

export type FieldKind =
  | 'u8' | 'u16' | 'u32' | 'u64' | 's32' | 'be16' | 'be32'
  | { readonly bytes: number }
  | { readonly pad: number }
  | { readonly string: number }
  | StructSpec;

/** A struct's fields as declared: [name, kind] in C order, padding included. */
export type StructFields = readonly (readonly [string, FieldKind])[];

export interface StructField {
  name: string;
  kind: FieldKind;
  offset: number;
  size: number;
}

export interface StructSpec<F extends StructFields = StructFields> {
  kind: 'struct';
  name: string;
  size: number;
  fields: StructField[];
  /**
   * Never set: carries the declared fields in the type, so the decoded value's type is inferred from them.
   * A method, so that a plain StructSpec still stands for any declared one.
   */
  declared?(fields: F): void;
}

function kindSize(k: FieldKind): number {
  if (typeof k === 'string') return { u8: 1, u16: 2, u32: 4, u64: 8, s32: 4, be16: 2, be32: 4 }[k];
  if ('kind' in k) return k.size;
  if ('bytes' in k) return k.bytes;
  if ('pad' in k) return k.pad;
  return k.string;
}

export function defineStruct<const F extends StructFields>(name: string, size: number, fields: F): StructSpec<F> {
  let off = 0;
  const out: StructField[] = [];
  for (const [fname, kind] of fields) {
    const fsize = kindSize(kind);
    out.push({ name: fname, kind, offset: off, size: fsize });
    off += fsize;
  }
  if (off !== size) throw new Error(`struct ${name}: fields add up to ${off} bytes, declared ${size}`);
  return { kind: 'struct', name, size, fields: out };
}

export type StructValue = Record<string, unknown>;

type FieldValue<K> =
  K extends 'u64' ? bigint
  : K extends string ? number
  : K extends StructSpec<infer F> ? StructValueOf<F>
  : K extends { bytes: number } ? Buffer
  : K extends { string: number } ? string
  : never;

/** The decoded value of a struct declared with these fields: one property per field, padding left out. */
export type StructValueOf<F extends StructFields> = string extends F[number][0]
  ? StructValue
  : { [E in F[number] as E[1] extends { pad: number } ? never : E[0]]: FieldValue<E[1]> };

/** What decodeStruct gives for a struct spec. */
export type Struct<S extends StructSpec> = S extends StructSpec<infer F> ? StructValueOf<F> : StructValue;

/** Decode a struct at offset; padding is skipped, byte arrays are copied. */
export function decodeStruct<S extends StructSpec>(spec: S, buf: Buffer, offset = 0, what = spec.name): Struct<S> {
  if (buf.length - offset < spec.size) {
    throw new DecodeError(what, offset, `struct ${spec.name} needs ${spec.size} bytes, ${Math.max(0, buf.length - offset)} left`);
  }
  return compiled(spec)(buf, offset) as Struct<S>;
}

type Reader = (buf: Buffer, offset: number) => StructValue;
const readers = new WeakMap<StructSpec, Reader>();

/**
 * The struct's reader, made once from its field table: one object literal with every field read at its
 * fixed offset (the dump of 100k SAs decodes ~10 structs each; the generic loop over fields with its
 * per-field kind tests was the largest self time in the host profile). Field names come from our own
 * tables (checked to be identifiers); nested structs call their own readers.
 */
function compiled(spec: StructSpec): Reader {
  const hit = readers.get(spec);
  if (hit) return hit;
  const nested: Reader[] = [];
  const parts: string[] = [];
  for (const f of spec.fields) {
    if (!/^[A-Za-z_$][\w$]*$/.test(f.name)) throw new Error(`struct ${spec.name}: field name '${f.name}' is not an identifier`);
    const at = `o + ${f.offset}`;
    const k = f.kind;
    let expr: string | undefined;
    if (typeof k === 'string') {
      expr = {
        u8: `b[${at}]`,
        u16: `b.readUInt16LE(${at})`,
        u32: `b.readUInt32LE(${at})`,
        s32: `b.readInt32LE(${at})`,
        u64: `u64(b, ${at})`,
        be16: `b.readUInt16BE(${at})`,
        be32: `b.readUInt32BE(${at})`,
      }[k];
    } else if ('kind' in k) {
      nested.push(compiled(k));
      expr = `n[${nested.length - 1}](b, ${at})`;
    } else if ('bytes' in k) {
      expr = `copy(b, ${at}, ${k.bytes})`;
    } else if ('string' in k) {
      expr = `cstring(b, ${at}, ${k.string})`;
    }
    if (expr) parts.push(`${JSON.stringify(f.name)}: ${expr}`);
  }
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const make = new Function('n', 'copy', 'cstring', 'u64', `return function read_${spec.name.replace(/\W/g, '_')}(b, o) { return { ${parts.join(', ')} }; };`) as (n: Reader[], copy: typeof copyBytes, cstring: typeof cString, u64: typeof readU64) => Reader;
  const reader = make(nested, copyBytes, cString, readU64);
  readers.set(spec, reader);
  return reader;
}

const U64_MAX = 0xffffffffffffffffn;
/**
 * A little-endian u64 as bigint; 0 and 2^64-1 (XFRM_INF, "no limit") are shared constants: an SA's lifetime
 * holds twelve u64s and most are one of the two, so most reads allocate nothing (readBigUInt64LE always does).
 */
function readU64(b: Buffer, at: number): bigint {
  const lo = b.readUInt32LE(at);
  const hi = b.readUInt32LE(at + 4);
  if (hi === 0) return lo === 0 ? 0n : BigInt(lo);
  if (hi === 0xffffffff && lo === 0xffffffff) return U64_MAX;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** A copy of n bytes (addresses are 16): one Buffer filled by a loop, not a view copied (two Buffers, half the speed). */
function copyBytes(buf: Buffer, at: number, n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = buf[at + i]!;
  return out;
}

function cString(buf: Buffer, at: number, n: number): string {
  const raw = buf.subarray(at, at + n);
  const nul = raw.indexOf(0);
  return raw.toString('utf8', 0, nul < 0 ? raw.length : nul);
}

export function encodeStruct(spec: StructSpec, value: StructValue, out: Buffer = Buffer.alloc(spec.size), offset = 0): Buffer {
  for (const f of spec.fields) {
    const at = offset + f.offset;
    const k = f.kind;
    const v = value[f.name];
    if (typeof k === 'string') {
      const n = v ?? 0;
      switch (k) {
        case 'u8': out.writeUInt8(Number(n), at); break;
        case 'u16': out.writeUInt16LE(Number(n), at); break;
        case 'u32': out.writeUInt32LE(Number(n) >>> 0, at); break;
        case 's32': out.writeInt32LE(Number(n), at); break;
        case 'u64': out.writeBigUInt64LE(BigInt(n as bigint | number), at); break;
        case 'be16': out.writeUInt16BE(Number(n), at); break;
        case 'be32': out.writeUInt32BE(Number(n) >>> 0, at); break;
      }
    } else if ('kind' in k) {
      encodeStruct(k, (v ?? {}) as StructValue, out, at);
    } else if ('bytes' in k) {
      if (v) (v as Buffer).copy(out, at, 0, Math.min(k.bytes, (v as Buffer).length));
    } else if ('string' in k) {
      if (v) out.write(String(v).slice(0, k.string - 1), at, 'utf8');
    }
  }
  return out;
}

// Fixed C structs declared once as field tables (name, kind) with explicit padding, so the layout reads
// like the C definition beside it. The declared size is checked against the fields when the module
// loads, and test/unit/netlink/struct.test.ts asserts the kernel's sizes (xfrm_usersa_info 224, ...).
import { DecodeError } from './errors.ts';

export type FieldKind =
  | 'u8' | 'u16' | 'u32' | 'u64' | 's32' | 'be16' | 'be32'
  | { bytes: number }
  | { pad: number }
  | { string: number }
  | StructSpec;

export interface StructField {
  name: string;
  kind: FieldKind;
  offset: number;
  size: number;
}

export interface StructSpec {
  kind: 'struct';
  name: string;
  size: number;
  fields: StructField[];
}

function kindSize(k: FieldKind): number {
  if (typeof k === 'string') return { u8: 1, u16: 2, u32: 4, u64: 8, s32: 4, be16: 2, be32: 4 }[k];
  if ('kind' in k) return k.size;
  if ('bytes' in k) return k.bytes;
  if ('pad' in k) return k.pad;
  return k.string;
}

export function defineStruct(name: string, size: number, fields: Array<[string, FieldKind]>): StructSpec {
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

/** Decode a struct at offset; padding is skipped, byte arrays are copied. */
export function decodeStruct<T = StructValue>(spec: StructSpec, buf: Buffer, offset = 0, what = spec.name): T {
  if (buf.length - offset < spec.size) {
    throw new DecodeError(what, offset, `struct ${spec.name} needs ${spec.size} bytes, ${Math.max(0, buf.length - offset)} left`);
  }
  const o: StructValue = {};
  for (const f of spec.fields) {
    const at = offset + f.offset;
    const k = f.kind;
    if (typeof k === 'string') {
      switch (k) {
        case 'u8': o[f.name] = buf.readUInt8(at); break;
        case 'u16': o[f.name] = buf.readUInt16LE(at); break;
        case 'u32': o[f.name] = buf.readUInt32LE(at); break;
        case 's32': o[f.name] = buf.readInt32LE(at); break;
        case 'u64': o[f.name] = buf.readBigUInt64LE(at); break;
        case 'be16': o[f.name] = buf.readUInt16BE(at); break;
        case 'be32': o[f.name] = buf.readUInt32BE(at); break;
      }
    } else if ('kind' in k) {
      o[f.name] = decodeStruct(k, buf, at, what);
    } else if ('bytes' in k) {
      o[f.name] = Buffer.from(buf.subarray(at, at + k.bytes));
    } else if ('string' in k) {
      const raw = buf.subarray(at, at + k.string);
      const nul = raw.indexOf(0);
      o[f.name] = raw.toString('utf8', 0, nul < 0 ? raw.length : nul);
    }
  }
  return o as T;
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

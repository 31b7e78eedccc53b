// struct nlattr { __u16 nla_len; __u16 nla_type; } — TLV reader and writer with a sticky error,
// in the manner of mdlayher/netlink's AttributeDecoder/Encoder: call sites stay flat, one err check at the end.
import { align4, NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK } from './constants.ts';
import { DecodeError } from './errors.ts';

/** The current attribute before the first next(): one shared empty Buffer (Buffer.alloc per reader was ~5 % of an SA's decode). */
const NONE = Buffer.alloc(0);

export class AttrReader {
  private off = 0;
  private cur: Buffer = NONE;
  private curType = 0;
  private curFlags = 0;
  private curStart = 0;
  err: DecodeError | undefined;

  constructor(private readonly buf: Buffer, private readonly what = 'attributes', private readonly base = 0) {}

  /** Advance to the next attribute; false at the end or after an error. */
  next(): boolean {
    if (this.err) return false;
    if (this.off >= this.buf.length) return false;
    if (this.buf.length - this.off < NLA_HDRLEN) {
      this.err = new DecodeError(this.what, this.base + this.off, `${this.buf.length - this.off} trailing bytes, shorter than an attribute header`);
      return false;
    }
    const len = this.buf.readUInt16LE(this.off);
    const rawType = this.buf.readUInt16LE(this.off + 2);
    if (len < NLA_HDRLEN || this.off + len > this.buf.length) {
      this.err = new DecodeError(this.what, this.base + this.off, `attribute ${rawType & NLA_TYPE_MASK} length ${len} out of bounds (${this.buf.length - this.off} bytes left)`);
      return false;
    }
    this.curType = rawType & NLA_TYPE_MASK;
    this.curFlags = rawType & ~NLA_TYPE_MASK;
    this.curStart = this.off + NLA_HDRLEN;
    this.cur = this.buf.subarray(this.curStart, this.off + len);
    this.off += align4(len);
    return true;
  }

  get type(): number {
    return this.curType;
  }
  get flags(): number {
    return this.curFlags;
  }
  get nested(): boolean {
    return (this.curFlags & NLA_F_NESTED) !== 0;
  }
  get data(): Buffer {
    return this.cur;
  }
  get offset(): number {
    return this.base + this.off;
  }

  private need(n: number, kind: string): boolean {
    if (this.cur.length === n) return true;
    this.err ??= new DecodeError(this.what, this.base + this.off, `attribute ${this.curType} is not a ${kind} (length ${this.cur.length})`);
    return false;
  }

  u8(): number {
    return this.need(1, 'u8') ? this.cur.readUInt8(0) : 0;
  }
  u16(): number {
    return this.need(2, 'u16') ? this.cur.readUInt16LE(0) : 0;
  }
  u32(): number {
    return this.need(4, 'u32') ? this.cur.readUInt32LE(0) : 0;
  }
  s32(): number {
    return this.need(4, 's32') ? this.cur.readInt32LE(0) : 0;
  }
  u64(): bigint {
    return this.need(8, 'u64') ? this.cur.readBigUInt64LE(0) : 0n;
  }
  be16(): number {
    return this.need(2, 'be16') ? this.cur.readUInt16BE(0) : 0;
  }
  be32(): number {
    return this.need(4, 'be32') ? this.cur.readUInt32BE(0) : 0;
  }
  /** NLA_UINT: 4 or 8 bytes. */
  uint(): bigint {
    if (this.cur.length === 4) return BigInt(this.cur.readUInt32LE(0));
    return this.need(8, 'uint') ? this.cur.readBigUInt64LE(0) : 0n;
  }
  sint(): bigint {
    if (this.cur.length === 4) return BigInt(this.cur.readInt32LE(0));
    return this.need(8, 'sint') ? this.cur.readBigInt64LE(0) : 0n;
  }
  /** NUL-terminated (or not) string. */
  string(): string {
    const nul = this.cur.indexOf(0);
    return this.cur.toString('utf8', 0, nul < 0 ? this.cur.length : nul);
  }
  nest(): AttrReader {
    return new AttrReader(this.cur, this.what, this.base + this.curStart);
  }
}

export class AttrWriter {
  private parts: Buffer[] = [];

  private put(type: number, data: Buffer): this {
    const len = NLA_HDRLEN + data.length;
    const b = Buffer.alloc(align4(len));
    b.writeUInt16LE(len, 0);
    b.writeUInt16LE(type, 2);
    data.copy(b, NLA_HDRLEN);
    this.parts.push(b);
    return this;
  }
  bytes(type: number, data: Buffer): this {
    return this.put(type, data);
  }
  u8(type: number, v: number): this {
    return this.put(type, Buffer.from([v & 0xff]));
  }
  u16(type: number, v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v);
    return this.put(type, b);
  }
  u32(type: number, v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    return this.put(type, b);
  }
  u64(type: number, v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    return this.put(type, b);
  }
  s32(type: number, v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    return this.put(type, b);
  }
  s64(type: number, v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(v);
    return this.put(type, b);
  }
  be16(type: number, v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    return this.put(type, b);
  }
  be32(type: number, v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    return this.put(type, b);
  }
  string(type: number, s: string): this {
    return this.put(type, Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]));
  }
  flag(type: number, on = true): this {
    return on ? this.put(type, Buffer.alloc(0)) : this;
  }
  nest(type: number, fn: (w: AttrWriter) => void): this {
    const w = new AttrWriter();
    fn(w);
    return this.put(type | NLA_F_NESTED, w.encode());
  }
  encode(): Buffer {
    return Buffer.concat(this.parts);
  }
}

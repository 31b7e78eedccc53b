// AF_ALG declared once (<linux/if_alg.h>, Documentation/crypto/userspace-if.rst): struct sockaddr_alg,
// the SOL_ALG socket options, the control messages of sendmsg (struct cmsghdr carrying ALG_SET_OP,
// ALG_SET_IV with struct af_alg_iv, ALG_SET_AEAD_ASSOCLEN), laid out with CMSG_ALIGN as <sys/socket.h>
// does on LP64 (cmsghdr = size_t len + int level + int type = 16 bytes, 8-byte alignment).
import { AF_ALG, SOL_ALG } from '../../sys/libc.ts';
import { DecodeError } from '../../netlink/errors.ts';

export const ALG_SET_KEY = 1;
export const ALG_SET_IV = 2;
export const ALG_SET_OP = 3;
export const ALG_SET_AEAD_ASSOCLEN = 4;
export const ALG_SET_AEAD_AUTHSIZE = 5;
export const ALG_OP_DECRYPT = 0;
export const ALG_OP_ENCRYPT = 1;

const SIZEOF_SIZE_T = 8;
export const CMSG_HDR_LEN = 16; // sizeof(struct cmsghdr) on LP64

export function cmsgAlign(n: number): number {
  return (n + SIZEOF_SIZE_T - 1) & ~(SIZEOF_SIZE_T - 1);
}
export function cmsgSpace(dataLen: number): number {
  return cmsgAlign(CMSG_HDR_LEN) + cmsgAlign(dataLen);
}
export function cmsgLen(dataLen: number): number {
  return cmsgAlign(CMSG_HDR_LEN) + dataLen;
}

// struct sockaddr_alg { __u16 salg_family; __u8 salg_type[14]; __u32 salg_feat; __u32 salg_mask; __u8 salg_name[64]; }
export const SOCKADDR_ALG_SIZE = 88;
const NAME_OFFSET = 24;

/** sockaddr_alg for bind; names of 64 bytes or more use the sockaddr_alg_new layout (Linux 4.12+). */
export function encodeSockaddrAlg(type: string, name: string): Buffer {
  const t = Buffer.from(type, 'utf8');
  const n = Buffer.from(name, 'utf8');
  if (t.length > 13) throw new RangeError(`AF_ALG type "${type}" longer than 13 bytes`);
  const b = Buffer.alloc(Math.max(SOCKADDR_ALG_SIZE, NAME_OFFSET + n.length + 1));
  b.writeUInt16LE(AF_ALG, 0);
  t.copy(b, 2);
  n.copy(b, NAME_OFFSET);
  return b;
}

export interface AlgControl {
  op?: 'encrypt' | 'decrypt';
  iv?: Buffer;
  assoclen?: number;
}

/** The control buffer for one sendmsg: ALG_SET_OP (u32), ALG_SET_IV (af_alg_iv), ALG_SET_AEAD_ASSOCLEN (u32). */
export function encodeAlgControl(c: AlgControl): Buffer {
  const parts: Array<{ type: number; data: Buffer }> = [];
  if (c.op) {
    const d = Buffer.alloc(4);
    d.writeUInt32LE(c.op === 'encrypt' ? ALG_OP_ENCRYPT : ALG_OP_DECRYPT);
    parts.push({ type: ALG_SET_OP, data: d });
  }
  if (c.iv) {
    // struct af_alg_iv { __u32 ivlen; __u8 iv[]; }
    const d = Buffer.alloc(4 + c.iv.length);
    d.writeUInt32LE(c.iv.length);
    c.iv.copy(d, 4);
    parts.push({ type: ALG_SET_IV, data: d });
  }
  if (c.assoclen !== undefined) {
    const d = Buffer.alloc(4);
    d.writeUInt32LE(c.assoclen);
    parts.push({ type: ALG_SET_AEAD_ASSOCLEN, data: d });
  }
  const out = Buffer.alloc(parts.reduce((n, p) => n + cmsgSpace(p.data.length), 0));
  let off = 0;
  for (const p of parts) {
    out.writeBigUInt64LE(BigInt(cmsgLen(p.data.length)), off); // cmsg_len
    out.writeInt32LE(SOL_ALG, off + 8); // cmsg_level
    out.writeInt32LE(p.type, off + 12); // cmsg_type
    p.data.copy(out, off + CMSG_HDR_LEN);
    off += cmsgSpace(p.data.length);
  }
  return out;
}

/** Walk a control buffer the way CMSG_FIRSTHDR/CMSG_NXTHDR do (tests, and a check of what is sent). */
export function decodeAlgControl(buf: Buffer): AlgControl & { unknown: Array<{ level: number; type: number; length: number }> } {
  const out: AlgControl & { unknown: Array<{ level: number; type: number; length: number }> } = { unknown: [] };
  let off = 0;
  while (off + CMSG_HDR_LEN <= buf.length) {
    const len = Number(buf.readBigUInt64LE(off));
    const level = buf.readInt32LE(off + 8);
    const type = buf.readInt32LE(off + 12);
    if (len < CMSG_HDR_LEN || off + len > buf.length) throw new DecodeError('AF_ALG control', off, `cmsg_len ${len} out of bounds`);
    const data = buf.subarray(off + CMSG_HDR_LEN, off + len);
    if (level === SOL_ALG && type === ALG_SET_OP && data.length === 4) out.op = data.readUInt32LE(0) === ALG_OP_ENCRYPT ? 'encrypt' : 'decrypt';
    else if (level === SOL_ALG && type === ALG_SET_IV && data.length >= 4 && data.readUInt32LE(0) === data.length - 4) out.iv = Buffer.from(data.subarray(4));
    else if (level === SOL_ALG && type === ALG_SET_AEAD_ASSOCLEN && data.length === 4) out.assoclen = data.readUInt32LE(0);
    else out.unknown.push({ level, type, length: data.length });
    off += cmsgAlign(len);
  }
  if (off !== buf.length) throw new DecodeError('AF_ALG control', off, `${buf.length - off} trailing bytes`);
  return out;
}

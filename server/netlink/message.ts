// struct nlmsghdr { __u32 nlmsg_len; __u16 nlmsg_type; __u16 nlmsg_flags; __u32 nlmsg_seq; __u32 nlmsg_pid; };
import { align4, NLMSG_HDRLEN, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSGERR_ATTR_MISS_TYPE, NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS } from './constants.ts';
import { DecodeError } from './errors.ts';
import { AttrReader } from './attr.ts';

export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** Bytes after the header; a copy-safe view into the datagram that carried it. */
  payload: Buffer;
}

export function encodeMessage(type: number, flags: number, seq: number, payload: Buffer = Buffer.alloc(0), pid = 0): Buffer {
  const len = NLMSG_HDRLEN + payload.length;
  const out = Buffer.alloc(align4(len));
  out.writeUInt32LE(len, 0);
  out.writeUInt16LE(type, 4);
  out.writeUInt16LE(flags, 6);
  out.writeUInt32LE(seq >>> 0, 8);
  out.writeUInt32LE(pid >>> 0, 12);
  payload.copy(out, NLMSG_HDRLEN);
  return out;
}

/** Split one datagram into its netlink messages. A truncated or mis-sized message is a DecodeError; nothing past it is trusted. */
export function parseMessages(buf: Buffer, what = 'netlink'): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < NLMSG_HDRLEN) throw new DecodeError(what, off, `${buf.length - off} trailing bytes, shorter than a message header`);
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN) throw new DecodeError(what, off, `message length ${len} is shorter than its header`);
    if (off + len > buf.length) throw new DecodeError(what, off, `message length ${len} runs past the datagram (${buf.length - off} bytes left)`);
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

export interface NlmsgErr {
  /** 0 = ACK; otherwise a positive errno. */
  errno: number;
  /** Header of the request this answers. */
  request: { type: number; seq: number };
  extack: { message?: string; offset?: number; missingType?: number };
}

/** struct nlmsgerr { int error; struct nlmsghdr msg; } + (unless NLM_F_CAPPED) the request payload + extack TLVs. */
export function parseError(m: NetlinkMessage, what = 'netlink'): NlmsgErr {
  const p = m.payload;
  if (p.length < 4 + NLMSG_HDRLEN) throw new DecodeError(what, 0, `NLMSG_ERROR payload of ${p.length} bytes, need ${4 + NLMSG_HDRLEN}`);
  const error = p.readInt32LE(0);
  const reqLen = p.readUInt32LE(4);
  const request = { type: p.readUInt16LE(8), seq: p.readUInt32LE(12) };
  const extack: NlmsgErr['extack'] = {};
  if (m.flags & NLM_F_ACK_TLVS) {
    const tlvStart = 4 + (m.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : align4(Math.max(reqLen, NLMSG_HDRLEN)));
    if (tlvStart <= p.length) {
      // Degrade gracefully: malformed extack TLVs lose the text, never the error itself.
      const r = new AttrReader(p.subarray(tlvStart), `${what} extack`);
      while (r.next()) {
        if (r.type === NLMSGERR_ATTR_MSG) extack.message = r.string();
        else if (r.type === NLMSGERR_ATTR_OFFS) {
          const v = r.u32();
          if (!r.err) extack.offset = v; // a wrong-sized TLV is no offset, not offset 0
        } else if (r.type === NLMSGERR_ATTR_MISS_TYPE) {
          const v = r.u32();
          if (!r.err) extack.missingType = v;
        }
      }
    }
  }
  return { errno: error === 0 ? 0 : -error, request, extack };
}

/** NLMSG_DONE of a failed dump: int error, then (NLM_F_ACK_TLVS) the extack TLVs. */
export function parseDoneExtack(m: NetlinkMessage): NlmsgErr['extack'] {
  const extack: NlmsgErr['extack'] = {};
  if (!(m.flags & NLM_F_ACK_TLVS) || m.payload.length <= 4) return extack;
  const r = new AttrReader(m.payload.subarray(4), 'NLMSG_DONE extack');
  while (r.next()) if (r.type === NLMSGERR_ATTR_MSG) extack.message = r.string();
  return extack;
}

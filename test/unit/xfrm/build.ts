// Builders for XFRM SA messages as the kernel lays them out (net/xfrm/xfrm_user.c), for tests that need
// shapes this host cannot produce (it has no ESP): keys, ESN, encap, offload, unknown attributes.
import { encodeStruct, type StructValue } from '../../../server/netlink/struct.ts';
import { AttrWriter } from '../../../server/netlink/attr.ts';
import { encodeMessage, parseMessages, type NetlinkMessage } from '../../../server/netlink/message.ts';
import { XFRM_MSG, xfrm_usersa_info, xfrm_usersa_id, xfrm_user_expire, xfrm_aevent_id, xfrm_replay_state_esn } from '../../../server/families/xfrm/spec.ts';

export function addr(s: string): Buffer {
  const b = Buffer.alloc(16);
  if (s.includes(':')) {
    const [head, tail] = s.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  } else {
    s.split('.').forEach((x, i) => (b[i] = Number(x)));
  }
  return b;
}

export interface SaShape {
  src?: string;
  dst?: string;
  spi?: number;
  proto?: number;
  family?: number;
  mode?: number;
  reqid?: number;
  flags?: number;
  replayWindow?: number;
  bytes?: bigint;
  packets?: bigint;
}

export function saInfo(s: SaShape = {}): StructValue {
  const family = s.family ?? 2;
  const src = s.src ?? '10.0.0.1';
  const dst = s.dst ?? '10.0.0.2';
  return {
    sel: { daddr: addr(dst), saddr: addr(src), family, prefixlen_d: family === 2 ? 32 : 128, prefixlen_s: family === 2 ? 32 : 128 },
    id: { daddr: addr(dst), spi: s.spi ?? 0xc0de0001, proto: s.proto ?? 50 },
    saddr: addr(src),
    lft: { soft_byte_limit: 2n ** 64n - 1n, hard_byte_limit: 2n ** 64n - 1n, soft_packet_limit: 2n ** 64n - 1n, hard_packet_limit: 2n ** 64n - 1n },
    curlft: { bytes: s.bytes ?? 1234n, packets: s.packets ?? 12n, add_time: 1_795_000_000n, use_time: 0n },
    stats: { replay_window: 0, replay: 0, integrity_failed: 0 },
    seq: 0, reqid: s.reqid ?? 1, family, mode: s.mode ?? 1, replay_window: s.replayWindow ?? 0, flags: s.flags ?? 0,
  };
}

/** struct xfrm_algo / _auth / _aead with key bytes. */
export function algo(name: string, key: Buffer, extra?: number): Buffer {
  const hdr = Buffer.alloc(extra === undefined ? 68 : 72);
  hdr.write(name, 0, 'utf8');
  hdr.writeUInt32LE(key.length * 8, 64);
  if (extra !== undefined) hdr.writeUInt32LE(extra, 68);
  return Buffer.concat([hdr, key]);
}

export function esn(v: { seq: number; oseq: number; seqHi: number; oseqHi: number; window: number }): Buffer {
  const words = Math.ceil(v.window / 32);
  const b = Buffer.alloc(xfrm_replay_state_esn.size + words * 4);
  encodeStruct(xfrm_replay_state_esn, { bmp_len: words, oseq: v.oseq, seq: v.seq, oseq_hi: v.oseqHi, seq_hi: v.seqHi, replay_window: v.window }, b);
  return b;
}

function msg(type: number, payload: Buffer): NetlinkMessage {
  return parseMessages(encodeMessage(type, 0, 0, payload))[0]!;
}

export function newSa(s: SaShape, attrs: (w: AttrWriter) => void = () => undefined, type: number = XFRM_MSG.NEWSA): NetlinkMessage {
  const w = new AttrWriter();
  attrs(w);
  return msg(type, Buffer.concat([encodeStruct(xfrm_usersa_info, saInfo(s)), w.encode()]));
}

export function delSa(s: SaShape, attrs: (w: AttrWriter) => void = () => undefined): NetlinkMessage {
  const info = saInfo(s);
  const id = encodeStruct(xfrm_usersa_id, { daddr: (info['id'] as StructValue)['daddr'], spi: s.spi ?? 0xc0de0001, family: s.family ?? 2, proto: s.proto ?? 50 });
  const w = new AttrWriter().bytes(6, encodeStruct(xfrm_usersa_info, info));
  attrs(w);
  return msg(XFRM_MSG.DELSA, Buffer.concat([id, w.encode()]));
}

export function expire(s: SaShape, hard: boolean): NetlinkMessage {
  return msg(XFRM_MSG.EXPIRE, encodeStruct(xfrm_user_expire, { state: saInfo(s), hard: hard ? 1 : 0 }));
}

export function aevent(s: SaShape, flags: number, attrs: (w: AttrWriter) => void): NetlinkMessage {
  const info = saInfo(s);
  const head = encodeStruct(xfrm_aevent_id, {
    sa_id: { daddr: (info['id'] as StructValue)['daddr'], spi: s.spi ?? 0xc0de0001, family: s.family ?? 2, proto: s.proto ?? 50 },
    saddr: info['saddr'], flags, reqid: s.reqid ?? 1,
  });
  const w = new AttrWriter();
  attrs(w);
  return msg(XFRM_MSG.NEWAE, Buffer.concat([head, w.encode()]));
}

export function rawMessage(type: number, payload: Buffer): NetlinkMessage {
  return msg(type, payload);
}

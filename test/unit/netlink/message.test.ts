// Netlink framing (struct nlmsghdr) and NLMSG_ERROR (struct nlmsgerr + extack TLVs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage, parseError, parseMessages, type NetlinkMessage } from '../../../server/netlink/message.ts';
import { DecodeError } from '../../../server/netlink/errors.ts';
import { AttrWriter } from '../../../server/netlink/attr.ts';
import {
  NLMSG_ERROR, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_MULTI, NLMSGERR_ATTR_MISS_TYPE, NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS,
} from '../../../server/netlink/constants.ts';

test('encode → parse round trip keeps header fields and payload', () => {
  const payload = Buffer.from([1, 2, 3, 4, 5]);
  const buf = encodeMessage(0x13, NLM_F_MULTI, 0xfffffffe, payload, 4242);
  assert.equal(buf.length, 24, 'padded to 4 bytes');
  assert.equal(buf.readUInt32LE(0), 21, 'nlmsg_len is the unpadded length');
  const [m, ...rest] = parseMessages(buf);
  assert.equal(rest.length, 0);
  assert.deepEqual({ ...m!, payload: [...m!.payload] }, { type: 0x13, flags: NLM_F_MULTI, seq: 0xfffffffe, pid: 4242, payload: [1, 2, 3, 4, 5] });
});

test('several messages in one datagram, each padded to 4 bytes', () => {
  const a = encodeMessage(20, 0, 1, Buffer.from('abc'));
  const b = encodeMessage(21, 0, 2, Buffer.alloc(0));
  const c = encodeMessage(22, 0, 3, Buffer.from('defgh'));
  const ms = parseMessages(Buffer.concat([a, b, c]));
  assert.deepEqual(ms.map((m) => [m.type, m.seq, m.payload.toString()]), [[20, 1, 'abc'], [21, 2, ''], [22, 3, 'defgh']]);
});

test('the last message may omit its padding', () => {
  const a = encodeMessage(20, 0, 1, Buffer.from('abc'));
  const ms = parseMessages(a.subarray(0, 19));
  assert.equal(ms[0]!.payload.toString(), 'abc');
});

test('empty datagram is no messages', () => assert.deepEqual(parseMessages(Buffer.alloc(0)), []));

test('truncated header is a DecodeError', () => {
  const a = encodeMessage(20, 0, 1);
  assert.throws(() => parseMessages(a.subarray(0, 10)), (e) => e instanceof DecodeError && /shorter than a message header/.test(e.message));
});

test('nlmsg_len < 16 is a DecodeError (and cannot loop forever)', () => {
  for (const len of [0, 4, 15]) {
    const a = encodeMessage(20, 0, 1);
    a.writeUInt32LE(len, 0);
    assert.throws(() => parseMessages(a), (e) => e instanceof DecodeError && /shorter than its header/.test(e.message), `len ${len}`);
  }
});

test('nlmsg_len past the datagram is a DecodeError, also after a good message', () => {
  const good = encodeMessage(20, 0, 1, Buffer.from('ok'));
  const bad = encodeMessage(21, 0, 2, Buffer.alloc(8));
  bad.writeUInt32LE(100, 0);
  assert.throws(() => parseMessages(Buffer.concat([good, bad])), (e) => e instanceof DecodeError && e.offset === good.length && /runs past/.test(e.message));
  const huge = encodeMessage(21, 0, 2);
  huge.writeUInt32LE(0xffffffff, 0);
  assert.throws(() => parseMessages(huge), DecodeError);
});

test('trailing bytes after the last message are a DecodeError', () => {
  const good = encodeMessage(20, 0, 1, Buffer.alloc(4));
  assert.throws(() => parseMessages(Buffer.concat([good, Buffer.alloc(6)])), (e) => e instanceof DecodeError && e.offset === good.length);
});

function errMsg(errno: number, flags: number, tail: Buffer = Buffer.alloc(0), req = { type: 0x15, seq: 77, len: 16 }): NetlinkMessage {
  const h = Buffer.alloc(20);
  h.writeInt32LE(-errno, 0);
  h.writeUInt32LE(req.len, 4);
  h.writeUInt16LE(req.type, 8);
  h.writeUInt32LE(req.seq, 12);
  return { type: NLMSG_ERROR, flags, seq: req.seq, pid: 0, payload: Buffer.concat([h, tail]) };
}

test('NLMSG_ERROR with error 0 is an ACK naming the request', () => {
  const e = parseError(errMsg(0, NLM_F_CAPPED));
  assert.deepEqual(e, { errno: 0, request: { type: 0x15, seq: 77 }, extack: {} });
});

test('NLMSG_ERROR errno is positive', () => assert.equal(parseError(errMsg(1, NLM_F_CAPPED)).errno, 1));

test('extack: MSG, OFFS, MISS_TYPE after a capped request', () => {
  const tlvs = new AttrWriter().string(NLMSGERR_ATTR_MSG, 'Invalid attribute').u32(NLMSGERR_ATTR_OFFS, 36).u32(NLMSGERR_ATTR_MISS_TYPE, 5).encode();
  const e = parseError(errMsg(22, NLM_F_CAPPED | NLM_F_ACK_TLVS, tlvs));
  assert.deepEqual(e.extack, { message: 'Invalid attribute', offset: 36, missingType: 5 });
});

test('extack after an uncapped request: TLVs start after the echoed request', () => {
  const echoed = Buffer.alloc(8, 0xaa); // request payload of 8 bytes (nlmsg_len 24)
  const tlvs = new AttrWriter().string(NLMSGERR_ATTR_MSG, 'bad selector').encode();
  const e = parseError(errMsg(22, NLM_F_ACK_TLVS, Buffer.concat([echoed, tlvs]), { type: 0x13, seq: 5, len: 24 }));
  assert.equal(e.extack.message, 'bad selector');
});

test('without NLM_F_ACK_TLVS, no extack is read', () => {
  const tlvs = new AttrWriter().string(NLMSGERR_ATTR_MSG, 'x').encode();
  assert.deepEqual(parseError(errMsg(22, NLM_F_CAPPED, tlvs)).extack, {});
});

test('malformed extack TLVs degrade to no text, the errno stays', () => {
  const broken = Buffer.from([0xff, 0x00, 0x01, 0x00, 0x41, 0x42]); // nla_len 255 past the end
  const e = parseError(errMsg(13, NLM_F_CAPPED | NLM_F_ACK_TLVS, broken));
  assert.equal(e.errno, 13);
  assert.equal(e.extack.message, undefined);
  // OFFS of the wrong size is not taken as an offset
  const badOffs = new AttrWriter().u16(NLMSGERR_ATTR_OFFS, 3).encode();
  assert.equal(parseError(errMsg(13, NLM_F_CAPPED | NLM_F_ACK_TLVS, badOffs)).extack.offset, undefined);
  // a request length that is absurd does not move the TLV start backwards into the header
  const tl = new AttrWriter().string(NLMSGERR_ATTR_MSG, 'x').encode();
  const e2 = parseError(errMsg(13, NLM_F_ACK_TLVS, tl, { type: 1, seq: 1, len: 0xffffffff }));
  assert.equal(e2.errno, 13);
  assert.equal(e2.extack.message, undefined);
});

test('NLMSG_ERROR shorter than struct nlmsgerr is a DecodeError', () => {
  const m: NetlinkMessage = { type: NLMSG_ERROR, flags: 0, seq: 1, pid: 0, payload: Buffer.alloc(8) };
  assert.throws(() => parseError(m), DecodeError);
});

// The VICI codec (server/families/vici/spec.ts): README's encoding example, round trips of every packet
// type, the stream's framing split anywhere, and the errors in words — truncated, unknown element or packet
// type with its number, a length beyond 512 KiB, malformed nesting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../helpers.ts';
import { DecodeError } from '../../../server/netlink/errors.ts';
import {
  decodeFramedPacket, decodeMessage, decodePacket, encodeMessage, encodePacket, PACKET_TYPES, SegmentReader, VICI_MAX_DEPTH, VICI_MAX_SEGMENT,
  type PacketTypeName,
} from '../../../server/families/vici/spec.ts';

// README.md "Encoding example", byte for byte.
const README_EXAMPLE = Buffer.from([
  3, 4, ...Buffer.from('key1'), 0, 6, ...Buffer.from('value1'),
  1, 8, ...Buffer.from('section1'),
  1, 11, ...Buffer.from('sub-section'),
  3, 4, ...Buffer.from('key2'), 0, 6, ...Buffer.from('value2'),
  2,
  4, 5, ...Buffer.from('list1'),
  5, 0, 5, ...Buffer.from('item1'),
  5, 0, 5, ...Buffer.from('item2'),
  6,
  2,
]);
const README_TREE = { key1: 'value1', section1: { 'sub-section': { key2: 'value2' }, list1: ['item1', 'item2'] } };

const decodeError = (re: RegExp) => (err: unknown) => err instanceof DecodeError && re.test(err.message);

test("README's encoding example decodes to its tree and encodes back to the same bytes", () => {
  assert.deepEqual(decodeMessage(README_EXAMPLE), README_TREE);
  assert.deepEqual(encodeMessage(README_TREE), README_EXAMPLE);
});

test('every packet type round-trips: name where the type has one, message where it carries one', () => {
  for (const spec of Object.values(PACKET_TYPES)) {
    const type: PacketTypeName = spec.name;
    const name = spec.named ? 'list-sas' : undefined;
    const message = spec.message ? README_TREE : undefined;
    const bytes = encodePacket(type, name, message);
    assert.equal(bytes.readUInt32BE(0), bytes.length - 4, `${type}: the length header counts the data only`);
    assert.deepEqual(decodeFramedPacket(bytes), { type, ...(name ? { name } : {}), ...(message ? { message } : {}) }, type);
  }
});

test('values: empty, UTF-8, binary blobs; empty lists and sections; numbers go out as text', () => {
  const m = { empty: '', utf8: 'Zürich ⇄ Berlin', list: [], sec: {}, n: 42 };
  assert.deepEqual(decodeMessage(encodeMessage(m)), { empty: '', utf8: 'Zürich ⇄ Berlin', list: [], sec: {}, n: '42' });
  assert.deepEqual(decodeMessage(encodeMessage({ blob: Buffer.from('abc') })), { blob: 'abc' });
});

test('a key named __proto__ is an own key like any other (key names are data)', () => {
  const bytes = Buffer.concat([Buffer.from([3, 9]), Buffer.from('__proto__'), Buffer.from([0, 1]), Buffer.from('x')]);
  const m = decodeMessage(bytes);
  assert.equal(Object.getPrototypeOf(m), Object.prototype);
  assert.deepEqual(Object.keys(m), ['__proto__']);
  assert.equal(Object.getOwnPropertyDescriptor(m, '__proto__')?.value, 'x');
});

test('a packet cut anywhere is "truncated", never a throw of anything else', () => {
  const full = encodePacket('EVENT', 'list-sa', README_TREE);
  for (let n = 0; n < full.length; n++) assert.throws(() => decodeFramedPacket(full.subarray(0, n)), decodeError(/truncated/), `cut at ${n}`);
  const body = full.subarray(4);
  // Without the length header a cut between whole elements of the root section is a shorter message (the
  // transport's length is what says where a message ends): after the name (empty) and after key1 = value1.
  const whole = new Map([[9, {}], [9 + 14, { key1: 'value1' }]]);
  for (let n = 0; n < body.length; n++) {
    if (whole.has(n)) assert.deepEqual(decodePacket(body.subarray(0, n)).message, whole.get(n));
    else assert.throws(() => decodePacket(body.subarray(0, n)), decodeError(/truncated/), `packet cut at ${n}`);
  }
});

test('an unknown element type is refused with its number and offset', () => {
  assert.throws(() => decodeMessage(Buffer.from([3, 1, 0x6b, 0, 1, 0x76, 9, 1, 2])), decodeError(/unknown element type 9 at offset 6/));
  assert.throws(() => decodeMessage(Buffer.from([0])), decodeError(/unknown element type 0 at offset 0/));
});

test('an unknown packet type is refused with its number', () => {
  assert.throws(() => decodePacket(Buffer.from([8])), decodeError(/unknown packet type 8/));
});

test('a length beyond 512 KiB is refused, by the packet decoder and by the stream reader', () => {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(VICI_MAX_SEGMENT + 1, 0);
  assert.throws(() => decodeFramedPacket(head), decodeError(/length 524289 too large \(at most 524288\)/));
  assert.throws(() => new SegmentReader().push(head), decodeError(/length 524289 too large/));
  // exactly 512 KiB is allowed
  const body = Buffer.alloc(VICI_MAX_SEGMENT);
  body[0] = 1; // CMD_RESPONSE
  for (let at = 1; at + 3 <= body.length; at += 3) body.set([5 /* LIST_ITEM outside a list */], at);
  const ok = Buffer.concat([Buffer.from([0, 8, 0, 0]), body]);
  assert.throws(() => decodeFramedPacket(ok), decodeError(/LIST_ITEM outside a list/), 'the length passes; the message is then read');
  assert.throws(() => encodePacket('CMD_RESPONSE', undefined, { big: Array.from({ length: 9 }, () => 'x'.repeat(65_000)) }), /at most 524288/);
});

test('malformed nesting: unbalanced sections and lists, elements inside a list, duplicate keys, depth', () => {
  const cases: Array<[number[], RegExp]> = [
    [[2], /SECTION_END without a section open/],
    [[6], /LIST_END without a list open/],
    [[5, 0, 0], /LIST_ITEM outside a list/],
    [[1, 1, 0x73], /truncated: section s not closed/],
    [[4, 1, 0x6c], /truncated: list "l" not closed/],
    [[4, 1, 0x6c, 3, 1, 0x6b, 0, 0, 6], /KEY_VALUE inside list "l"/],
    [[3, 1, 0x6b, 0, 0, 3, 1, 0x6b, 0, 0], /duplicate key "k" in the root section/],
    [[3, 1, 0x6b, 0, 5, 0x61], /truncated: the value of a key\/value has 5 bytes, 1 left/],
  ];
  for (const [bytes, re] of cases) assert.throws(() => decodeMessage(Buffer.from(bytes)), decodeError(re), re.source);
  const deep = Buffer.from(Array.from({ length: VICI_MAX_DEPTH + 1 }, () => [1, 1, 0x73]).flat());
  assert.throws(() => decodeMessage(deep), decodeError(/nested deeper than 64/));
});

test('bytes after a packet that carries no message, and after the framed packet, are refused', () => {
  assert.throws(() => decodePacket(Buffer.from([5, 1])), decodeError(/1 bytes after EVENT_CONFIRM, which carries no message/));
  assert.throws(() => decodeFramedPacket(Buffer.concat([encodePacket('EVENT_CONFIRM'), Buffer.from([0])])), decodeError(/1 bytes after the packet/));
});

test('the stream reader yields whole packets however the bytes are split', () => {
  const packets = [encodePacket('EVENT', 'list-sa', README_TREE), encodePacket('EVENT_CONFIRM'), encodePacket('CMD_RESPONSE', undefined, { a: 'b' })];
  const stream = Buffer.concat(packets);
  for (const step of [1, 2, 3, 5, 7, stream.length]) {
    const r = new SegmentReader();
    const got: Buffer[] = [];
    for (let at = 0; at < stream.length; at += step) got.push(...r.push(stream.subarray(at, at + step)));
    assert.deepEqual(got.map((g) => decodePacket(g)), packets.map((p) => decodeFramedPacket(p)), `step ${step}`);
    assert.equal(r.pending, 0);
  }
  const r = new SegmentReader();
  r.push(stream.subarray(0, 10));
  assert.equal(r.pending, 10, 'a stream ending here was cut mid-packet');
});

test('the encoder refuses what the wire cannot carry', () => {
  assert.throws(() => encodePacket('EVENT_CONFIRM', 'x'), /has no a name|no/);
  assert.throws(() => encodePacket('CMD_REQUEST'), /needs a name/);
  assert.throws(() => encodeMessage({ ['k'.repeat(256)]: 'v' }), /up to 255 Latin-1 characters/);
  assert.throws(() => encodeMessage({ 'ключ': 'v' }), /Latin-1/);
  assert.throws(() => encodeMessage({ k: 'v'.repeat(65_536) }), /value of 65536 bytes \(at most 65535\)/);
});

test('every captured packet (test/fixtures/vici) encodes back to the bytes charon sent', () => {
  const dir = path.join(projectRoot, 'test/fixtures/vici');
  const files = readdirSync(dir).filter((f) => f.endsWith('.fixture.json'));
  assert.ok(files.length > 0);
  for (const f of files) {
    const fx = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { messages: Array<{ hex: string }> };
    for (const [i, m] of fx.messages.entries()) {
      const p = decodeFramedPacket(Buffer.from(m.hex, 'hex'));
      assert.equal(encodePacket(p.type, p.name, p.message).toString('hex'), m.hex, `${f} message ${i} (${p.type} ${p.name ?? ''})`);
    }
  }
});

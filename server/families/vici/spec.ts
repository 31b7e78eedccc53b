// strongSwan's VICI protocol declared once (src/libcharon/plugins/vici/README.md, vici_message.h,
// vici_socket.c): the transport's framing (a 32-bit big-endian length, at most 512 KiB of data), the packet
// types (an 8-bit type, a name for the named ones, a message for those that carry one) and the message
// elements (sections, key/values, lists). One table per layer; one walker decodes and one encodes.
// A message becomes a tree of plain values: a section is an object, a key/value a string, a list a string
// array. Values are blobs on the wire; charon sends only non-null-terminated strings (numbers as text).
import { DecodeError } from '../../netlink/errors.ts';

/** VICI_MESSAGE_SIZE_MAX (vici_socket.c): the transport refuses longer segments. */
export const VICI_MAX_SEGMENT = 512 * 1024;
/** Sections nested deeper than this are refused (charon's deepest, list-sas' child-sas, is 3). */
export const VICI_MAX_DEPTH = 64;

/** vici_operation_t: packet type → its name, whether a name follows the type, whether a message follows. */
export const PACKET_TYPES = {
  0: { name: 'CMD_REQUEST', named: true, message: true },
  1: { name: 'CMD_RESPONSE', named: false, message: true },
  2: { name: 'CMD_UNKNOWN', named: false, message: false },
  3: { name: 'EVENT_REGISTER', named: true, message: false },
  4: { name: 'EVENT_UNREGISTER', named: true, message: false },
  5: { name: 'EVENT_CONFIRM', named: false, message: false },
  6: { name: 'EVENT_UNKNOWN', named: false, message: false },
  7: { name: 'EVENT', named: true, message: true },
} as const;
type PacketSpec = (typeof PACKET_TYPES)[keyof typeof PACKET_TYPES];
export type PacketTypeName = PacketSpec['name'];
const packetByNumber = new Map<number, PacketSpec>(Object.entries(PACKET_TYPES).map(([n, t]) => [Number(n), t]));
export const PACKET_TYPE = numbersByName(packetByNumber);

/** vici_type_t: message element → its name, whether an 8-bit-length name and a 16-bit-length value follow. */
export const ELEMENT_TYPES = {
  1: { name: 'SECTION_START', named: true, value: false },
  2: { name: 'SECTION_END', named: false, value: false },
  3: { name: 'KEY_VALUE', named: true, value: true },
  4: { name: 'LIST_START', named: true, value: false },
  5: { name: 'LIST_ITEM', named: false, value: true },
  6: { name: 'LIST_END', named: false, value: false },
} as const;
type ElementSpec = (typeof ELEMENT_TYPES)[keyof typeof ELEMENT_TYPES];
const elementByNumber = new Map<number, ElementSpec>(Object.entries(ELEMENT_TYPES).map(([n, t]) => [Number(n), t]));
const ELEMENT = numbersByName(elementByNumber);

/** A table's numbers by name (the names a switch and an encoder use). */
function numbersByName<S extends { name: string }>(table: ReadonlyMap<number, S>): Record<S['name'], number> {
  const out = {} as Record<S['name'], number>;
  for (const [n, s] of table) out[s.name as S['name']] = n;
  return out;
}

export type ViciValue = string | string[] | ViciSection;
export interface ViciSection {
  [key: string]: ViciValue;
}

/** A decoded packet: its type by name, its name (named types), its message (types that carry one). */
export type ViciPacket = { type: PacketTypeName; name?: string; message?: ViciSection };

/** Set an own property, also one called "__proto__" (a daemon's key names are data). */
function put(o: object, key: string, value: ViciValue): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Reads a message's elements in order; every read checks the bytes are there. */
class ElementReader {
  at = 0;
  constructor(private readonly b: Buffer, private readonly what: string) {}
  fail(reason: string, at = this.at): never {
    throw new DecodeError(this.what, at, reason);
  }
  u8(field: string): number {
    if (this.at + 1 > this.b.length) this.fail(`truncated: ${field} missing`);
    return this.b[this.at++]!;
  }
  name(of: string): string {
    const len = this.u8(`length of the name of a ${of}`);
    if (this.at + len > this.b.length) this.fail(`truncated: the name of a ${of} has ${len} bytes, ${this.b.length - this.at} left`);
    return this.b.toString('latin1', this.at, (this.at += len));
  }
  value(of: string, bytes = false): string {
    if (this.at + 2 > this.b.length) this.fail(`truncated: length of the value of a ${of} missing`);
    const len = this.b.readUInt16BE(this.at);
    this.at += 2;
    if (this.at + len > this.b.length) this.fail(`truncated: the value of a ${of} has ${len} bytes, ${this.b.length - this.at} left`);
    return this.b.toString(bytes ? 'latin1' : 'utf8', this.at, (this.at += len));
  }
}

/** Keys whose value is bytes, not text (list-cert's DER certificate): read one byte per char (latin1), so Buffer.from(v, 'latin1') gives them back. */
export const VICI_BYTE_KEYS: ReadonlySet<string> = new Set(['data']);

/** A message's elements (the bytes after a packet's type and name) as a tree. Throws DecodeError. */
export function decodeMessage(b: Buffer, what = 'vici message'): ViciSection {
  const r: ElementReader = new ElementReader(b, what);
  const root: ViciSection = {};
  const open: Array<{ section: ViciSection; name: string }> = [];
  let section = root;
  let list: { name: string; items: string[] } | undefined;
  const add = (key: string, value: ViciValue, at: number) => {
    if (Object.prototype.hasOwnProperty.call(section, key)) r.fail(`duplicate key ${JSON.stringify(key)} in ${path()}`, at);
    put(section, key, value);
  };
  const path = () => (open.length ? open.map((o) => o.name).join('.') : 'the root section');
  while (r.at < b.length) {
    const at = r.at;
    const type = r.u8('element type');
    const el = elementByNumber.get(type);
    if (!el) r.fail(`unknown element type ${type}`, at);
    if (list && type !== ELEMENT.LIST_ITEM && type !== ELEMENT.LIST_END) r.fail(`${el.name} inside list ${JSON.stringify(list.name)}`, at);
    switch (type) {
      case ELEMENT.SECTION_START: {
        const name = r.name('section');
        if (open.length >= VICI_MAX_DEPTH) r.fail(`sections nested deeper than ${VICI_MAX_DEPTH}`, at);
        const inner: ViciSection = {};
        add(name, inner, at);
        open.push({ section, name });
        section = inner;
        break;
      }
      case ELEMENT.SECTION_END: {
        const outer = open.pop();
        if (!outer) r.fail('SECTION_END without a section open', at);
        section = outer.section;
        break;
      }
      case ELEMENT.KEY_VALUE: {
        const key = r.name('key/value');
        add(key, r.value('key/value', VICI_BYTE_KEYS.has(key)), at);
        break;
      }
      case ELEMENT.LIST_START: {
        list = { name: r.name('list'), items: [] };
        add(list.name, list.items, at);
        break;
      }
      case ELEMENT.LIST_ITEM:
        if (!list) r.fail('LIST_ITEM outside a list', at);
        list.items.push(r.value('list item'));
        break;
      case ELEMENT.LIST_END:
        if (!list) r.fail('LIST_END without a list open', at);
        list = undefined;
        break;
    }
  }
  if (list) r.fail(`truncated: list ${JSON.stringify(list.name)} not closed`);
  if (open.length) r.fail(`truncated: section ${path()} not closed`);
  return root;
}

/** Packet bytes (the transport's segment, without its length) → type, name, message. Throws DecodeError. */
export function decodePacket(b: Buffer, what = 'vici packet'): ViciPacket {
  if (b.length < 1) throw new DecodeError(what, 0, 'truncated: empty packet');
  const spec = packetByNumber.get(b[0]!);
  if (!spec) throw new DecodeError(what, 0, `unknown packet type ${b[0]}`);
  const p: ViciPacket = { type: spec.name };
  let at = 1;
  if (spec.named) {
    if (b.length < 2) throw new DecodeError(what, 1, `truncated: ${spec.name} without the length of its name`);
    const len = b[1]!;
    if (2 + len > b.length) throw new DecodeError(what, 2, `truncated: ${spec.name}'s name has ${len} bytes, ${b.length - 2} left`);
    p.name = b.toString('latin1', 2, 2 + len);
    at = 2 + len;
  }
  if (spec.message) p.message = decodeMessage(b.subarray(at), `${what} ${p.name ?? spec.name}`);
  else if (at < b.length) throw new DecodeError(what, at, `${b.length - at} bytes after ${spec.name}, which carries no message`);
  return p;
}

/** One framed segment (length header and packet, as on the socket; fixtures hold these). Throws DecodeError. */
export function decodeFramedPacket(b: Buffer, what = 'vici packet'): ViciPacket {
  if (b.length < 4) throw new DecodeError(what, 0, `truncated: ${b.length} bytes, the length header has 4`);
  const len = b.readUInt32BE(0);
  if (len > VICI_MAX_SEGMENT) throw new DecodeError(what, 0, `length ${len} too large (at most ${VICI_MAX_SEGMENT})`);
  if (4 + len > b.length) throw new DecodeError(what, 4, `truncated: length says ${len} bytes, ${b.length - 4} follow`);
  if (4 + len < b.length) throw new DecodeError(what, 4 + len, `${b.length - 4 - len} bytes after the packet`);
  return decodePacket(b.subarray(4), what);
}

/** Writes elements; names are at most 255 bytes, values 65535 (their length fields). */
class ElementWriter {
  private readonly parts: Buffer[] = [];
  private byte(n: number): void {
    this.parts.push(Buffer.of(n));
  }
  private name(s: string, what: string): void {
    if (s.length > 255 || !/^[\x00-\xff]*$/.test(s)) throw new Error(`vici: ${what}: name ${JSON.stringify(s.slice(0, 40))} is not up to 255 Latin-1 characters`);
    this.parts.push(Buffer.of(s.length), Buffer.from(s, 'latin1'));
  }
  private value(v: string | Buffer, what: string): void {
    const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    if (b.length > 0xffff) throw new Error(`vici: ${what}: value of ${b.length} bytes (at most 65535)`);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(b.length, 0);
    this.parts.push(len, b);
  }
  section(s: EncodableSection, what: string): void {
    for (const [key, v] of Object.entries(s)) {
      if (v === undefined) continue;
      const at = `${what}.${key}`;
      if (isList(v)) {
        this.byte(ELEMENT.LIST_START);
        this.name(key, at);
        for (const item of v) (this.byte(ELEMENT.LIST_ITEM), this.value(item, at));
        this.byte(ELEMENT.LIST_END);
      } else if (typeof v === 'object' && !Buffer.isBuffer(v)) {
        this.byte(ELEMENT.SECTION_START);
        this.name(key, at);
        this.section(v, at);
        this.byte(ELEMENT.SECTION_END);
      } else {
        this.byte(ELEMENT.KEY_VALUE);
        this.name(key, at);
        this.value(typeof v === 'number' ? String(v) : v, at);
      }
    }
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const isList = (v: unknown): v is ReadonlyArray<string | Buffer> => Array.isArray(v);

/** What a request may carry: strings (numbers as text), blobs, lists of them, sections. */
export interface EncodableSection {
  [key: string]: string | number | Buffer | ReadonlyArray<string | Buffer> | EncodableSection | undefined;
}

/** A message's elements, keys in the object's order. */
export function encodeMessage(s: EncodableSection, what = 'message'): Buffer {
  const w = new ElementWriter();
  w.section(s, what);
  return w.done();
}

/** One framed packet: length, type, name (named types), message (types that carry one). */
export function encodePacket(type: PacketTypeName, name?: string, message?: EncodableSection): Buffer {
  const spec = packetByNumber.get(PACKET_TYPE[type])!;
  if (spec.named !== (name !== undefined)) throw new Error(`vici: ${type} ${spec.named ? 'needs' : 'has no'} a name`);
  const parts: Buffer[] = [Buffer.of(PACKET_TYPE[type])];
  if (name !== undefined) {
    const n = Buffer.from(name, 'latin1');
    if (n.length > 255) throw new Error(`vici: ${type} name longer than 255 bytes`);
    parts.push(Buffer.of(n.length), n);
  }
  if (spec.message) parts.push(encodeMessage(message ?? {}, name ?? type));
  else if (message) throw new Error(`vici: ${type} carries no message`);
  const body = Buffer.concat(parts);
  if (body.length > VICI_MAX_SEGMENT) throw new Error(`vici: ${name ?? type}: packet of ${body.length} bytes (at most ${VICI_MAX_SEGMENT})`);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length, 0);
  return Buffer.concat([len, body]);
}

/**
 * Cuts a byte stream into packets (the transport's segments). push() takes what the socket read and returns
 * the complete segments' payloads; a length beyond VICI_MAX_SEGMENT throws DecodeError — the stream has no
 * other framing, so the connection cannot go on after it.
 */
export class SegmentReader {
  private chunks: Buffer[] = [];
  private size = 0;
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.size += chunk.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.size < 4) break;
      const head = this.chunks[0]!.length >= 4 ? this.chunks[0]! : this.flatten();
      const len = head.readUInt32BE(0);
      if (len > VICI_MAX_SEGMENT) throw new DecodeError('vici stream', 0, `length ${len} too large (at most ${VICI_MAX_SEGMENT})`);
      if (this.size < 4 + len) break;
      const all = this.flatten();
      out.push(all.subarray(4, 4 + len));
      const rest = all.subarray(4 + len);
      this.chunks = rest.length ? [rest] : [];
      this.size = rest.length;
    }
    return out;
  }
  /** Bytes of a segment not complete yet (a stream that ends here was cut mid-packet). */
  get pending(): number {
    return this.size;
  }
  private flatten(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.size)];
    return this.chunks[0]!;
  }
}

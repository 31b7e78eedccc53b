// PF_KEY's own message layer (it is not netlink): a 16-byte struct sadb_msg whose sadb_msg_len counts
// 8-byte units, then extensions, each starting with struct sadb_ext whose sadb_ext_len also counts
// 8-byte units. One datagram is one message. Extensions are declared in a table (number → name,
// fixed struct, decoder of what follows the struct, encoder); one walker decodes any message.
// Key extensions keep only sadb_key_bits: the key bytes are never copied out of the datagram.
// Unknown extension types keep their number and length only (their bytes might be key material).
import { DecodeError } from '../../netlink/errors.ts';
import { decodeStruct, encodeStruct, type Struct, type StructSpec } from '../../netlink/struct.ts';
import { formatIPv4, formatIPv6 } from '../address.ts';
import { AF_INET, AF_INET6 } from '../../sys/libc.ts';
import { keyFingerprint } from '../fingerprint.ts';
import {
  EXT, PF_KEY_V2, PFKEY_UNIT, sadb_address, sadb_alg, sadb_comb, sadb_ext, sadb_ident, sadb_key, sadb_lifetime, sadb_msg,
  sadb_prop, sadb_sa, sadb_sens, sadb_spirange, sadb_supported, sadb_x_filter, sadb_x_ipsecrequest, sadb_x_kmaddress,
  sadb_x_kmprivate, sadb_x_nat_t_port, sadb_x_nat_t_type, sadb_x_policy, sadb_x_sa2, sadb_x_sec_ctx, sockaddr_in, sockaddr_in6,
} from './spec.ts';

/** struct sadb_msg as the table decodes it (len in 8-byte units, header included). */
export type SadbHeader = Struct<typeof sadb_msg>;

/** struct sockaddr as PF_KEY carries it: AF_INET/AF_INET6 decoded, anything else only its family. */
export interface SadbSockaddr {
  family: number;
  address: string;
  port: number;
}

export interface SadbSaExt { spi: number; replay: number; state: number; auth: number; encrypt: number; flags: number }
export interface SadbLifetimeExt { allocations: number; bytes: bigint; addtime: bigint; usetime: bigint }
export interface SadbAddressExt extends SadbSockaddr { proto: number; prefixlen: number }
/** Decoded: bits and fingerprint. For encoding (tests adding SAs) the key bytes go in key. */
export interface SadbKeyExt { bits: number; fingerprint?: string; key?: Buffer }
export interface SadbIdentExt { type: number; id: bigint; value: string }
export interface SadbSensExt { dpd: number; sensLevel: number; integLevel: number; sensBitmap: string; integBitmap: string }
export interface SadbCombExt {
  auth: number; encrypt: number; flags: number; authMinbits: number; authMaxbits: number; encryptMinbits: number; encryptMaxbits: number;
  softAllocations: number; hardAllocations: number; softBytes: bigint; hardBytes: bigint; softAddtime: bigint; hardAddtime: bigint;
  softUsetime: bigint; hardUsetime: bigint;
}
export interface SadbPropExt { replay: number; combs: SadbCombExt[] }
export interface SadbAlgExt { id: number; ivlen: number; minbits: number; maxbits: number }
export interface SadbSpirangeExt { min: number; max: number }
export interface SadbKmprivateExt { length: number }
export interface SadbSa2Ext { mode: number; sequence: number; reqid: number }
export interface SadbIpsecRequest { proto: number; mode: number; level: number; reqid: number; tunnelSrc?: SadbSockaddr; tunnelDst?: SadbSockaddr }
export interface SadbPolicyExt { type: number; dir: number; id: number; priority: number; requests: SadbIpsecRequest[] }
export interface SadbSecCtxExt { alg: number; doi: number; context: string }
export interface SadbKmaddressExt { local: SadbSockaddr; remote: SadbSockaddr }
export interface SadbFilterExt { saddr: string; daddr: string; family: number; splen: number; dplen: number }
export interface SadbUnknownExt { type: number; length: number }

export interface SadbExtensions {
  sa?: SadbSaExt;
  lifetimeCurrent?: SadbLifetimeExt;
  lifetimeHard?: SadbLifetimeExt;
  lifetimeSoft?: SadbLifetimeExt;
  addressSrc?: SadbAddressExt;
  addressDst?: SadbAddressExt;
  addressProxy?: SadbAddressExt;
  keyAuth?: SadbKeyExt;
  keyEncrypt?: SadbKeyExt;
  identitySrc?: SadbIdentExt;
  identityDst?: SadbIdentExt;
  sensitivity?: SadbSensExt;
  proposal?: SadbPropExt;
  supportedAuth?: SadbAlgExt[];
  supportedEncrypt?: SadbAlgExt[];
  spirange?: SadbSpirangeExt;
  kmprivate?: SadbKmprivateExt;
  policy?: SadbPolicyExt;
  sa2?: SadbSa2Ext;
  natTType?: { type: number };
  natTSport?: { port: number };
  natTDport?: { port: number };
  natTOa?: SadbAddressExt;
  secCtx?: SadbSecCtxExt;
  kmaddress?: SadbKmaddressExt;
  filter?: SadbFilterExt;
}

export interface SadbMessage {
  header: SadbHeader;
  ext: SadbExtensions;
  /** Extensions of types this table does not know: number and length (bytes) only. */
  unknown?: SadbUnknownExt[];
}

type ExtName = keyof SadbExtensions;

interface ExtSpec<N extends ExtName = ExtName, S extends StructSpec = StructSpec> {
  name: N;
  struct: S;
  /** Decode the struct value plus the bytes after the fixed struct (tail) into the extension's value. */
  decode(v: Struct<S>, tail: Buffer, what: string): NonNullable<SadbExtensions[N]>;
  /** The struct fields and the bytes that follow it, for the encoder. */
  encode(v: NonNullable<SadbExtensions[N]>): { fields: Partial<Struct<S>>; tail?: Buffer };
}

/** One extension of the table, its struct's decoded type inferred from the struct. */
function extSpec<N extends ExtName, S extends StructSpec>(name: N, struct: S, decode: ExtSpec<N, S>['decode'], encode: ExtSpec<N, S>['encode']): ExtSpec<N, S> {
  return { name, struct, decode, encode };
}

// ---- sockaddr ----

function sockaddrLength(family: number): number {
  return family === AF_INET ? sockaddr_in.size : family === AF_INET6 ? sockaddr_in6.size : 0;
}

export function decodeSockaddr(buf: Buffer, off: number, what: string): { sa: SadbSockaddr; size: number } {
  if (buf.length - off < 2) throw new DecodeError(what, off, 'sockaddr without a family');
  const family = buf.readUInt16LE(off);
  if (family === AF_INET) {
    const s = decodeStruct(sockaddr_in, buf, off, what);
    return { sa: { family, address: formatIPv4(s.addr), port: s.port }, size: sockaddr_in.size };
  }
  if (family === AF_INET6) {
    const s = decodeStruct(sockaddr_in6, buf, off, what);
    return { sa: { family, address: formatIPv6(s.addr), port: s.port }, size: sockaddr_in6.size };
  }
  return { sa: { family, address: '', port: 0 }, size: buf.length - off };
}

/** IPv4 or IPv6 text to its 4 or 16 bytes. */
export function parseIp(text: string): Buffer {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(text)) return Buffer.from(text.split('.').map((x) => Number(x) & 0xff));
  const out = Buffer.alloc(16);
  let s = text;
  let v4: Buffer | undefined;
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (m) {
    v4 = parseIp(m[2]!);
    s = `${m[1]}0:0`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) throw new Error(`not an IP address: ${text}`);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || '0', 16) & 0xffff, i * 2));
  if (v4) v4.copy(out, 12);
  return out;
}

export function encodeSockaddr(sa: SadbSockaddr): Buffer {
  if (sa.family === AF_INET) return encodeStruct(sockaddr_in, { family: AF_INET, port: sa.port, addr: parseIp(sa.address) });
  if (sa.family === AF_INET6) return encodeStruct(sockaddr_in6, { family: AF_INET6, port: sa.port, addr: parseIp(sa.address) });
  throw new Error(`cannot encode a sockaddr of family ${sa.family}`);
}

const pad8 = (b: Buffer): Buffer => (b.length % PFKEY_UNIT === 0 ? b : Buffer.concat([b, Buffer.alloc(PFKEY_UNIT - (b.length % PFKEY_UNIT))]));

// ---- extension table ----

const lifetime = (name: 'lifetimeCurrent' | 'lifetimeHard' | 'lifetimeSoft') => extSpec(name, sadb_lifetime,
  (v) => ({ allocations: v.allocations, bytes: v.bytes, addtime: v.addtime, usetime: v.usetime }),
  (v) => ({ fields: { ...v } }));
const address = (name: 'addressSrc' | 'addressDst' | 'addressProxy' | 'natTOa') => extSpec(name, sadb_address,
  (v, tail, what) => ({ proto: v.proto, prefixlen: v.prefixlen, ...decodeSockaddr(tail, 0, what).sa }),
  (v) => ({ fields: { proto: v.proto, prefixlen: v.prefixlen }, tail: encodeSockaddr(v) }));
const key = (name: 'keyAuth' | 'keyEncrypt') => extSpec(name, sadb_key,
  (v, tail, what) => {
    const bits = v.bits;
    if (Math.ceil(bits / 8) > tail.length) throw new DecodeError(what, 8, `key of ${bits} bits runs past the extension (${tail.length} bytes)`);
    // The key bytes stay in the datagram: only their length and a keyed fingerprint come out.
    return bits > 0 ? { bits, fingerprint: keyFingerprint(tail.subarray(0, Math.ceil(bits / 8))) } : { bits };
  },
  (v) => ({ fields: { bits: v.bits }, tail: v.key ?? Buffer.alloc(Math.ceil(v.bits / 8)) }));
const ident = (name: 'identitySrc' | 'identityDst') => extSpec(name, sadb_ident,
  (v, tail) => {
    const nul = tail.indexOf(0);
    return { type: v.type, id: v.id, value: tail.toString('utf8', 0, nul < 0 ? tail.length : nul) };
  },
  (v) => ({ fields: { type: v.type, id: v.id }, tail: v.value ? Buffer.from(`${v.value}\0`) : undefined }));
const supported = (name: 'supportedAuth' | 'supportedEncrypt') => extSpec(name, sadb_supported,
  (_v, tail, what) => {
    const algs: SadbAlgExt[] = [];
    for (let off = 0; off + sadb_alg.size <= tail.length; off += sadb_alg.size) {
      const a = decodeStruct(sadb_alg, tail, off, what);
      algs.push({ id: a.id, ivlen: a.ivlen, minbits: a.minbits, maxbits: a.maxbits });
    }
    return algs;
  },
  (v) => ({ fields: {}, tail: Buffer.concat(v.map((a) => encodeStruct(sadb_alg, { ...a }))) }));
const natPort = (name: 'natTSport' | 'natTDport') => extSpec(name, sadb_x_nat_t_port, (v) => ({ port: v.port }), (v) => ({ fields: { port: v.port } }));

function decodeRequests(tail: Buffer, what: string): SadbIpsecRequest[] {
  const out: SadbIpsecRequest[] = [];
  let off = 0;
  while (off + sadb_x_ipsecrequest.size <= tail.length) {
    const r = decodeStruct(sadb_x_ipsecrequest, tail, off, `${what}.ipsecrequest[${out.length}]`);
    const len = r.len; // bytes, not 8-byte units
    if (len < sadb_x_ipsecrequest.size || off + len > tail.length) {
      throw new DecodeError(what, off, `ipsecrequest length ${len} outside ${sadb_x_ipsecrequest.size}..${tail.length - off}`);
    }
    const req: SadbIpsecRequest = { proto: r.proto, mode: r.mode, level: r.level, reqid: r.reqid };
    if (len > sadb_x_ipsecrequest.size) {
      const body = tail.subarray(off + sadb_x_ipsecrequest.size, off + len);
      const src = decodeSockaddr(body, 0, `${what}.tunnel-src`);
      if (src.size >= body.length) throw new DecodeError(what, off, 'ipsecrequest with one tunnel address');
      const dst = decodeSockaddr(body, src.size, `${what}.tunnel-dst`);
      req.tunnelSrc = src.sa;
      req.tunnelDst = dst.sa;
    }
    out.push(req);
    off += len;
  }
  return out;
}

function encodeRequests(reqs: SadbIpsecRequest[]): Buffer {
  return Buffer.concat(
    reqs.map((r) => {
      const addrs = r.tunnelSrc && r.tunnelDst ? Buffer.concat([encodeSockaddr(r.tunnelSrc), encodeSockaddr(r.tunnelDst)]) : Buffer.alloc(0);
      const head = encodeStruct(sadb_x_ipsecrequest, { len: sadb_x_ipsecrequest.size + addrs.length, proto: r.proto, mode: r.mode, level: r.level, reqid: r.reqid });
      return Buffer.concat([head, addrs]);
    }),
  );
}

const u64Words = (b: Buffer, off: number, n: number): string => b.subarray(off, Math.min(b.length, off + n * 8)).toString('hex');

export const EXTENSIONS: ReadonlyMap<number, ExtSpec> = new Map<number, ExtSpec>([
  [EXT.SA, extSpec('sa', sadb_sa, (v) => ({ spi: v.spi, replay: v.replay, state: v.state, auth: v.auth, encrypt: v.encrypt, flags: v.flags }), (v) => ({ fields: { ...v } }))],
  [EXT.LIFETIME_CURRENT, lifetime('lifetimeCurrent')],
  [EXT.LIFETIME_HARD, lifetime('lifetimeHard')],
  [EXT.LIFETIME_SOFT, lifetime('lifetimeSoft')],
  [EXT.ADDRESS_SRC, address('addressSrc')],
  [EXT.ADDRESS_DST, address('addressDst')],
  [EXT.ADDRESS_PROXY, address('addressProxy')],
  [EXT.KEY_AUTH, key('keyAuth')],
  [EXT.KEY_ENCRYPT, key('keyEncrypt')],
  [EXT.IDENTITY_SRC, ident('identitySrc')],
  [EXT.IDENTITY_DST, ident('identityDst')],
  [EXT.SENSITIVITY, extSpec('sensitivity', sadb_sens,
    (v, tail, what) => {
      const sl = v.sens_len, il = v.integ_len;
      if ((sl + il) * 8 > tail.length) throw new DecodeError(what, 16, `bitmaps of ${sl}+${il} words run past the extension`);
      return { dpd: v.dpd, sensLevel: v.sens_level, integLevel: v.integ_level, sensBitmap: u64Words(tail, 0, sl), integBitmap: u64Words(tail, sl * 8, il) };
    },
    (v) => {
      const s = Buffer.from(v.sensBitmap, 'hex'), i = Buffer.from(v.integBitmap, 'hex');
      return { fields: { dpd: v.dpd, sens_level: v.sensLevel, sens_len: s.length / 8, integ_level: v.integLevel, integ_len: i.length / 8 }, tail: Buffer.concat([s, i]) };
    })],
  [EXT.PROPOSAL, extSpec('proposal', sadb_prop,
    (v, tail, what) => {
      const combs: SadbCombExt[] = [];
      for (let off = 0; off + sadb_comb.size <= tail.length; off += sadb_comb.size) {
        const c = decodeStruct(sadb_comb, tail, off, what);
        combs.push({
          auth: c.auth, encrypt: c.encrypt, flags: c.flags, authMinbits: c.auth_minbits, authMaxbits: c.auth_maxbits,
          encryptMinbits: c.encrypt_minbits, encryptMaxbits: c.encrypt_maxbits, softAllocations: c.soft_allocations,
          hardAllocations: c.hard_allocations, softBytes: c.soft_bytes, hardBytes: c.hard_bytes, softAddtime: c.soft_addtime,
          hardAddtime: c.hard_addtime, softUsetime: c.soft_usetime, hardUsetime: c.hard_usetime,
        });
      }
      return { replay: v.replay, combs };
    },
    (v) => ({
      fields: { replay: v.replay },
      tail: Buffer.concat(v.combs.map((c) => encodeStruct(sadb_comb, {
        auth: c.auth, encrypt: c.encrypt, flags: c.flags, auth_minbits: c.authMinbits, auth_maxbits: c.authMaxbits,
        encrypt_minbits: c.encryptMinbits, encrypt_maxbits: c.encryptMaxbits, soft_allocations: c.softAllocations,
        hard_allocations: c.hardAllocations, soft_bytes: c.softBytes, hard_bytes: c.hardBytes, soft_addtime: c.softAddtime,
        hard_addtime: c.hardAddtime, soft_usetime: c.softUsetime, hard_usetime: c.hardUsetime,
      }))),
    }))],
  [EXT.SUPPORTED_AUTH, supported('supportedAuth')],
  [EXT.SUPPORTED_ENCRYPT, supported('supportedEncrypt')],
  [EXT.SPIRANGE, extSpec('spirange', sadb_spirange, (v) => ({ min: v.min, max: v.max }), (v) => ({ fields: { ...v } }))],
  // Key-manager private data is opaque and may be sensitive: its length only.
  [EXT.X_KMPRIVATE, extSpec('kmprivate', sadb_x_kmprivate, (_v, tail) => ({ length: tail.length }), (v) => ({ fields: {}, tail: Buffer.alloc(v.length) }))],
  [EXT.X_POLICY, extSpec('policy', sadb_x_policy,
    (v, tail, what) => ({ type: v.type, dir: v.dir, id: v.id, priority: v.priority, requests: decodeRequests(tail, what) }),
    (v) => ({ fields: { type: v.type, dir: v.dir, id: v.id, priority: v.priority }, tail: encodeRequests(v.requests) }))],
  [EXT.X_SA2, extSpec('sa2', sadb_x_sa2, (v) => ({ mode: v.mode, sequence: v.sequence, reqid: v.reqid }), (v) => ({ fields: { ...v } }))],
  [EXT.X_NAT_T_TYPE, extSpec('natTType', sadb_x_nat_t_type, (v) => ({ type: v.type }), (v) => ({ fields: { type: v.type } }))],
  [EXT.X_NAT_T_SPORT, natPort('natTSport')],
  [EXT.X_NAT_T_DPORT, natPort('natTDport')],
  [EXT.X_NAT_T_OA, address('natTOa')],
  [EXT.X_SEC_CTX, extSpec('secCtx', sadb_x_sec_ctx,
    (v, tail, what) => {
      const n = v.ctx_len;
      if (n > tail.length) throw new DecodeError(what, 8, `context of ${n} bytes runs past the extension`);
      return { alg: v.alg, doi: v.doi, context: tail.toString('utf8', 0, n).replace(/\0+$/, '') };
    },
    (v) => {
      const ctx = Buffer.from(v.context);
      return { fields: { alg: v.alg, doi: v.doi, ctx_len: ctx.length }, tail: ctx };
    })],
  [EXT.X_KMADDRESS, extSpec('kmaddress', sadb_x_kmaddress,
    (_v, tail, what) => {
      const local = decodeSockaddr(tail, 0, `${what}.local`);
      const remote = decodeSockaddr(tail, local.size, `${what}.remote`);
      return { local: local.sa, remote: remote.sa };
    },
    (v) => ({ fields: {}, tail: Buffer.concat([encodeSockaddr(v.local), encodeSockaddr(v.remote)]) }))],
  [EXT.X_FILTER, extSpec('filter', sadb_x_filter,
    (v) => ({ saddr: v.saddr.toString('hex'), daddr: v.daddr.toString('hex'), family: v.family, splen: v.splen, dplen: v.dplen }),
    (v) => ({ fields: { saddr: Buffer.from(v.saddr, 'hex'), daddr: Buffer.from(v.daddr, 'hex'), family: v.family, splen: v.splen, dplen: v.dplen } }))],
]);

const EXT_NUMBER = new Map<ExtName, number>([...EXTENSIONS].map(([n, s]) => [s.name, n]));

// ---- decode ----

/** One extension's value under its name (extSpec pairs each name with the decoder of its type). */
function put<N extends ExtName>(ext: SadbExtensions, name: N, v: SadbExtensions[N]): void {
  ext[name] = v;
}

/**
 * Decode one PF_KEY datagram. Throws DecodeError (only) on malformed input: a header or extension
 * length past the end, a zero-length extension, an extension shorter than its struct, a duplicate.
 */
export function decodeSadbMessage(buf: Buffer, what = 'pfkey'): SadbMessage {
  if (buf.length < sadb_msg.size) throw new DecodeError(what, 0, `message of ${buf.length} bytes, need ${sadb_msg.size}`);
  const header = decodeStruct(sadb_msg, buf, 0, what);
  if (header.version !== PF_KEY_V2) throw new DecodeError(what, 0, `sadb_msg_version ${header.version}, expected ${PF_KEY_V2}`);
  const total = header.len * PFKEY_UNIT;
  if (total < sadb_msg.size || total > buf.length) {
    throw new DecodeError(what, 4, `sadb_msg_len ${header.len} (${total} bytes) does not fit the ${buf.length}-byte datagram`);
  }
  const ext: SadbExtensions = {};
  const unknown: SadbUnknownExt[] = [];
  let off = sadb_msg.size;
  while (off < total) {
    if (total - off < sadb_ext.size) throw new DecodeError(what, off, `${total - off} stray bytes after the last extension`);
    const elen = buf.readUInt16LE(off) * PFKEY_UNIT;
    const etype = buf.readUInt16LE(off + 2);
    if (elen === 0) throw new DecodeError(what, off, `extension ${etype} has length 0`);
    if (off + elen > total) throw new DecodeError(what, off, `extension ${etype} of ${elen} bytes runs past the message (${total - off} left)`);
    const body = buf.subarray(off, off + elen);
    const spec = EXTENSIONS.get(etype);
    if (!spec) {
      unknown.push({ type: etype, length: elen });
    } else {
      const ewhat = `${what}.${spec.name}`;
      if (ext[spec.name] !== undefined) throw new DecodeError(ewhat, off, `extension ${etype} appears twice`);
      if (elen < spec.struct.size) throw new DecodeError(ewhat, off, `extension of ${elen} bytes, struct ${spec.struct.name} needs ${spec.struct.size}`);
      put(ext, spec.name, spec.decode(decodeStruct(spec.struct, body, 0, ewhat), body.subarray(spec.struct.size), ewhat));
    }
    off += elen;
  }
  return unknown.length ? { header, ext, unknown } : { header, ext };
}

// ---- encode ----

export type SadbHeaderInput = Partial<SadbHeader> & { type: number };

/** Encode a message: header fields (len computed) and extensions in the order given (or table order). */
export function encodeSadbMessage(h: SadbHeaderInput, ext: SadbExtensions = {}, order?: ExtName[]): Buffer {
  const parts: Buffer[] = [];
  const names = order ?? ([...EXT_NUMBER.keys()].filter((n) => ext[n] !== undefined));
  for (const name of names) {
    const v = ext[name];
    if (v === undefined) continue;
    const n = EXT_NUMBER.get(name)!;
    const spec = EXTENSIONS.get(n)!;
    const { fields, tail } = spec.encode(v);
    const body = pad8(Buffer.concat([encodeStruct(spec.struct, fields), tail ?? Buffer.alloc(0)]));
    body.writeUInt16LE(body.length / PFKEY_UNIT, 0);
    body.writeUInt16LE(n, 2);
    parts.push(body);
  }
  const extBytes = Buffer.concat(parts);
  const head = encodeStruct(sadb_msg, {
    version: h.version ?? PF_KEY_V2, type: h.type, errno: h.errno ?? 0, satype: h.satype ?? 0,
    len: (sadb_msg.size + extBytes.length) / PFKEY_UNIT, reserved: h.reserved ?? 0, seq: h.seq ?? 0, pid: h.pid ?? 0,
  });
  return Buffer.concat([head, extBytes]);
}

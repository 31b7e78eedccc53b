// The one fuzz harness: seeded mutation of every decoder's real captured bytes (test/fixtures/**), one
// generator, one set of environment variables, one regression file, one report. Its decoders: the netlink
// framing (parseMessages, NLMSG_ERROR/DONE extack), every decoder registered in test/unit/decoders.ts
// (netlink: XFRM SA/policy/totals, rtnetlink links, genl nlctrl/ovpn/psp/ethtool; datagrams: PF_KEY, and
// whatever comes next, VICI), the AF_ALG control messages and the /proc text parsers (/proc/crypto,
// /proc/net/xfrm_stat). A decoder registered in decoders.ts is fuzzed from its fixtures with no line here.
//
// A decoder may return or throw DecodeError — nothing else; one call must stay fast (no hang); and no call
// may ask for a buffer much larger than its input (a length field driving an allocation), nor may the heap
// grow over a run. The unit phase runs 20k per decoder (test/unit/fuzz/decoders.fuzz.test.ts); `npm run
// test:fuzz` runs 1M per decoder (test/fuzz/run.ts). SASCOPE_FUZZ_SEED replays a run, SASCOPE_FUZZ_N sets
// the count per decoder; a failure prints its decoder, seed, iteration, input in hex, a reduced input and
// the line for test/fuzz/regressions.json.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { encodeMessage, parseDoneExtack, parseError, parseMessages, type NetlinkMessage } from '../../server/netlink/message.ts';
import { DecodeError } from '../../server/netlink/errors.ts';
import { AttrWriter } from '../../server/netlink/attr.ts';
import { encodeGenl } from '../../server/genl/genl.ts';
import { parseProcCrypto } from '../../server/families/crypto/proc.ts';
import { parseXfrmStat } from '../../server/families/xfrm/totals.ts';
import { algorithmsFromRegister, describeMessage, policyFromMessage, saFromMessage } from '../../server/families/pfkey/sa.ts';
import { decodeAlgControl, encodeAlgControl, type AlgControl } from '../../server/families/alg/spec.ts';
import { decodeSadbMessage } from '../../server/families/pfkey/message.ts';
import { datagramDecoders, decoders } from '../unit/decoders.ts';
import { decodeViciPacket } from '../unit/vici/fixture-decoder.ts';

/** mulberry32: small, seedable, good enough to pick mutations. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]! };
}
export type Rng = ReturnType<typeof rng>;

const INTERESTING_U16 = [0, 1, 2, 3, 4, 5, 7, 8, 0x7fff, 0x8000, 0xfffc, 0xffff];
const INTERESTING_U32 = [0, 1, 15, 16, 17, 0x7fffffff, 0x80000000, 0xffffffff];
const align4 = (n: number) => (n + 3) & ~3;

/** Offsets of plausible netlink attributes (nla_len ≥ 4 and within the buffer) at 4-aligned offsets past `from`. */
function attrOffsets(b: Buffer, from: number): number[] {
  const out: number[] = [];
  for (let at = from; at + 4 <= b.length; at += 4) {
    const len = b.readUInt16LE(at);
    if (len >= 4 && at + len <= b.length) out.push(at);
  }
  return out;
}

/**
 * The framing decides which length and type fields a mutation aims at and which length it repairs so the
 * walker goes deeper; 'raw' knows none (bit flips, bytes, cuts, splices only).
 */
export type Framing = 'netlink' | 'pfkey' | 'raw';

/** One to three mutations of a binary message; `other` is a second message of the same decoder (splices). */
export function mutateBytes(src: Buffer, other: Buffer, r: Rng, framing: Framing): Buffer {
  let b = Buffer.from(src);
  const rounds = 1 + r.int(3);
  let fixLength = false;
  for (let k = 0; k < rounds; k++) {
    if (b.length === 0) b = Buffer.alloc(1 + r.int(64));
    switch (r.int(13)) {
      case 0: // bit flips
        for (let i = 1 + r.int(8); i > 0; i--) b[r.int(b.length)]! ^= 1 << r.int(8);
        break;
      case 1: // a byte set to anything
        b[r.int(b.length)] = r.int(256);
        break;
      case 2: // truncation
        b = b.subarray(0, r.int(b.length + 1));
        break;
      case 3: { // nla_len (netlink) or sadb_ext_len (PF_KEY, 8-aligned from 16) set to an edge value or nudged
        if (framing === 'raw') break;
        const step = framing === 'pfkey' ? 8 : 4;
        const first = framing === 'pfkey' ? 16 : 0;
        if (b.length < first + 2) break;
        const at = first + r.int((b.length - first) >>> Math.log2(step)) * step;
        if (at + 2 <= b.length) b.writeUInt16LE(r.next() < 0.7 ? r.pick(INTERESTING_U16) : (b.readUInt16LE(at) + r.int(17) - 8) & 0xffff, at);
        break;
      }
      case 4: // the message length: nlmsg_len (u32 at 0) or sadb_msg_len (u16 at 4, 8-byte units)
        if (framing === 'netlink' && b.length >= 4) b.writeUInt32LE(r.next() < 0.5 ? r.pick(INTERESTING_U32) : (b.readUInt32LE(0) + r.int(33) - 16) >>> 0, 0);
        else if (framing === 'pfkey' && b.length >= 6) b.writeUInt16LE(r.next() < 0.5 ? r.pick(INTERESTING_U16) : r.int(0x10000), 4);
        break;
      case 5: { // a u32 field anywhere set to an edge value
        const at = r.int(b.length >>> 2) * 4;
        if (at + 4 <= b.length) b.writeUInt32LE(r.pick(INTERESTING_U32), at);
        break;
      }
      case 6: { // a run of random bytes
        const at = r.int(b.length);
        const n = Math.min(b.length - at, 1 + r.int(32));
        for (let i = 0; i < n; i++) b[at + i] = r.int(256);
        break;
      }
      case 7: { // attribute (or extension) duplicated in place, message length repaired
        if (framing === 'raw') break;
        const offs = framing === 'pfkey' ? pfkeyExtOffsets(b) : attrOffsets(b, 16);
        if (!offs.length) break;
        const at = r.pick(offs);
        const len = framing === 'pfkey' ? b.readUInt16LE(at) * 8 : align4(b.readUInt16LE(at));
        const chunk = b.subarray(at, Math.min(b.length, at + len));
        const times = 1 + (r.next() < 0.1 ? r.int(16) : 0);
        b = Buffer.concat([b.subarray(0, at + chunk.length), ...Array.from({ length: times }, () => chunk), b.subarray(at + chunk.length)]);
        fixLength = true;
        break;
      }
      case 8: { // splice of two messages: the head of one and the tail of the other, or both back to back
        if (r.next() < 0.5) {
          b = Buffer.concat([b.subarray(0, r.int(b.length + 1)), other.subarray(r.int(other.length + 1))]);
          fixLength = r.next() < 0.7;
        } else {
          b = Buffer.concat([b, Buffer.alloc(framing === 'netlink' ? align4(b.length) - b.length : 0), other]);
        }
        break;
      }
      case 9: { // a chunk duplicated or dropped
        const at = r.int(b.length);
        const n = 1 + r.int(Math.min(64, b.length - at));
        b = r.next() < 0.5 ? Buffer.concat([b.subarray(0, at + n), b.subarray(at, at + n), b.subarray(at + n)]) : Buffer.concat([b.subarray(0, at), b.subarray(at + n)]);
        fixLength = r.next() < 0.5;
        break;
      }
      case 10: // the message type: nlmsg_type (u16 at 4) nudged, sadb_msg_type (u8 at 1) anything
        if (framing === 'netlink' && b.length >= 6) b.writeUInt16LE((b.readUInt16LE(4) + r.int(33) - 16) & 0xffff, 4);
        else if (framing === 'pfkey' && b.length >= 2) b[1] = r.int(32);
        break;
      case 11: { // an attribute's or extension's type: none, unknown, another's (a duplicate), reserved
        if (framing === 'raw') break;
        const offs = framing === 'pfkey' ? pfkeyExtOffsets(b) : attrOffsets(b, 16);
        if (offs.length) b.writeUInt16LE(r.pick([0, r.int(32), 99, 0x7fff, 0xffff, b.readUInt16LE(r.pick(offs) + 2)]), r.pick(offs) + 2);
        break;
      }
      default: // random bytes appended (length repaired, so the walker reaches them), or entirely random bytes
        if (r.next() < 0.5) {
          b = Buffer.concat([b, Buffer.from(Array.from({ length: 8 * (1 + r.int(4)) }, () => r.int(256)))]);
          fixLength = r.next() < 0.7;
        } else if (r.next() < 0.3) {
          // rarely: most of the value is in near-valid messages; PF_KEY noise keeps its version byte half the time
          b = Buffer.from(Array.from({ length: r.int(b.length + 32) }, () => r.int(256)));
          if (framing === 'pfkey' && b.length && r.next() < 0.5) b[0] = 2;
        }
    }
  }
  return fixLength ? repairLength(b, framing) : b;
}

/** The message length field made to say the buffer's length (netlink nlmsg_len; PF_KEY sadb_msg_len in 8-byte units). */
function repairLength(b: Buffer, framing: Framing): Buffer {
  if (framing === 'netlink' && b.length >= 4) b.writeUInt32LE(b.length, 0);
  if (framing === 'pfkey' && b.length >= 6) b.writeUInt16LE(Math.floor(b.length / 8) & 0xffff, 4);
  return b;
}

/** VICI's 32-bit big-endian length header. */
function lengthHeader(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

function pfkeyExtOffsets(b: Buffer): number[] {
  const out: number[] = [];
  for (let at = 16; at + 8 <= b.length; ) {
    const len = b.readUInt16LE(at) * 8;
    if (len < 8 || at + len > b.length) break;
    out.push(at);
    at += len;
  }
  return out;
}

const NUMBERS = ['0', '-1', '18446744073709551616', '99999999999999999999999999', '4294967296', 'NaN', '', ' ', '1e308', '0x10'];
/** Mutations of a /proc text: lines dropped, duplicated, swapped between texts, values replaced, bytes changed. */
export function mutateText(src: string, other: string, r: Rng): string {
  let lines = src.split('\n');
  for (let k = 1 + r.int(3); k > 0; k--) {
    const i = r.int(lines.length);
    switch (r.int(8)) {
      case 0:
        lines.splice(i, 1);
        break;
      case 1:
        lines.splice(i, 0, ...Array.from({ length: 1 + r.int(r.next() < 0.05 ? 200 : 3) }, () => lines[i] ?? ''));
        break;
      case 2: // a value replaced by an edge number or garbage
        lines[i] = (lines[i] ?? '').replace(/(:\s*|\s+)(\S+)\s*$/, (_m, sep: string) => `${sep}${r.pick(NUMBERS)}`);
        break;
      case 3: // separators removed or doubled
        lines[i] = r.next() < 0.5 ? (lines[i] ?? '').replace(/:/g, '') : (lines[i] ?? '').replace(/:/, '::');
        break;
      case 4: { // characters changed, including control and non-ASCII
        const s = [...(lines[i] ?? '')];
        for (let n = 1 + r.int(4); n > 0 && s.length; n--) s[r.int(s.length)] = String.fromCharCode(r.int(r.next() < 0.8 ? 128 : 0x3000));
        lines[i] = s.join('');
        break;
      }
      case 5: { // splice with the other text
        const o = other.split('\n');
        lines = [...lines.slice(0, i), ...o.slice(r.int(o.length + 1))];
        break;
      }
      case 6:
        lines = lines.slice(0, r.int(lines.length + 1));
        break;
      default: // blank lines inserted (block boundaries) or removed
        if (r.next() < 0.5) lines.splice(i, 0, '');
        else lines = lines.filter((l) => l.trim() !== '' || r.next() < 0.5);
    }
  }
  let out = lines.join('\n');
  if (r.next() < 0.1) out = out.slice(0, r.int(out.length + 1)); // cut mid-line
  return out;
}

// ---- the decoders and their seed inputs: the captured fixtures, and messages built where none is captured ----

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
function* walk(dir: string, suffix: string): Generator<string> {
  for (const f of readdirSync(dir).sort()) {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) yield* walk(p, suffix);
    else if (f.endsWith(suffix)) yield p;
  }
}

/**
 * Fixture messages larger than this are not seeds: wireguard's 32 KB split-peer reply (1500 allowed IPs)
 * made 20k runs take 18 s, and the same attributes are in its small fixtures.
 */
const MAX_SEED_BYTES = 8192;

function fixtureCorpus(): Map<string, Buffer[]> {
  const corpus = new Map<string, Buffer[]>();
  for (const file of walk(root, '.fixture.json')) {
    const fx = JSON.parse(readFileSync(file, 'utf8')) as { decoder: string; messages: Array<{ hex: string }> };
    const list = corpus.get(fx.decoder) ?? [];
    for (const m of fx.messages) if (m.hex.length <= 2 * MAX_SEED_BYTES) list.push(Buffer.from(m.hex, 'hex'));
    corpus.set(fx.decoder, list);
  }
  return corpus;
}

/**
 * Messages built where the fixtures lack a kind: psp has no captured bytes on this host (the custom lab
 * kernel's netdevsim has them), so messages from Documentation/netlink/specs/psp.yaml stand in — dev-get
 * reply with an assoc-list nest, a flag, get-stats; ovpn's fixtures have no key-swap notification.
 */
const builtSeeds: Record<string, () => Buffer[]> = {
  'psp-genl': () => [
    encodeMessage(0x22, 2, 1, encodeGenl(1, 1, new AttrWriter().u32(1, 1).u32(2, 3).u32(3, 15).u32(4, 1).nest(5, (a) => a.u32(1, 4).u32(2, -1)).flag(7).encode())),
    encodeMessage(0x22, 0, 0, encodeGenl(5, 1, new AttrWriter().u32(1, 7).encode())),
    encodeMessage(0x22, 0, 1, encodeGenl(10, 1, new AttrWriter().u32(1, 1).u64(2, 3n).u64(3, 0n).u64(4, 9n).u64(5, 1n << 40n).encode())),
  ],
  'ovpn-genl': () => [encodeMessage(0x1d, 0, 0, encodeGenl(9, 1, new AttrWriter().u32(1, 5).nest(3, (k) => k.u32(1, 1).u16(3, 2)).encode()))],
};

/** NLMSG_ERROR with extack (message, offset, missing type), a capped one, an ACK, NLMSG_DONE with extack. */
function framingExtras(): Buffer[] {
  const req = encodeMessage(0x10, 5, 7, Buffer.from('03010000', 'hex'));
  const extack = new AttrWriter().string(1, 'bytes leftover after parsing attributes').u32(2, 20).u32(5, 3).encode();
  const err = (errno: number, flags: number, body: Buffer) => {
    const e = Buffer.alloc(4);
    e.writeInt32LE(-errno, 0);
    return encodeMessage(2, flags, 7, Buffer.concat([e, body, extack]));
  };
  return [
    err(22, 0x200, req), // NLM_F_ACK_TLVS, request echoed
    err(2, 0x300, req.subarray(0, 16)), // capped
    err(0, 0, req.subarray(0, 16)),
    encodeMessage(3, 0x202, 7, Buffer.concat([Buffer.alloc(4), extack])),
  ];
}

export interface Target {
  /** The decoder's name: a fixture's `decoder`, a regression's `decoder`, `npm run test:fuzz -- <name>`. */
  name: string;
  /** How its input is mutated: the framing of its bytes, or lines of text. */
  input: Framing | 'text';
  seeds: Array<Buffer | string>;
  /** Runs the product's code on one input: returns, or throws (only DecodeError is allowed). */
  run(input: Buffer | string): void;
}

function procCryptoSeeds(): string[] {
  const out: string[] = [];
  for (const f of walk(path.join(root, 'crypto'), '.proc-crypto.txt')) {
    const text = readFileSync(f, 'utf8');
    out.push(text);
    const blocks = text.split('\n\n');
    for (let i = 0; i < blocks.length; i += 4) out.push(blocks.slice(i, i + 4).join('\n\n'));
  }
  return out;
}

/** Runs `f`; a DecodeError it throws is an allowed outcome (the next step still runs). */
function allowDecodeError(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
  }
}

/** Datagram decoders (decoders.ts) whose bytes have a framing the mutator knows; any other is 'raw' (VICI). */
const datagramFraming: Record<string, Framing> = { pfkey: 'pfkey' };
/** Product code a datagram decoder's input also goes through, beyond its fixture decoder. */
const datagramAlso: Record<string, (b: Buffer) => void> = {
  // Every PF_KEY entity builder on every message, whatever its type (the fixture decoder picks one).
  pfkey: (b) => {
    const m = decodeSadbMessage(b);
    describeMessage(m);
    for (const build of [saFromMessage, policyFromMessage, algorithmsFromRegister]) allowDecodeError(() => build(m));
  },
  // The packet behind the length header whatever the header says: a mutation that breaks the length (most
  // do, with 'raw' framing) still reaches the message walker and the row builders.
  vici: (b) => void decodeViciPacket(Buffer.concat([lengthHeader(Math.max(0, b.length - 4)), b.subarray(4)])),
};

/** Decoders with no fixture decoder: their inputs and their seeds. */
function otherTargets(): Target[] {
  return [
    { name: 'alg-cmsg', input: 'raw', seeds: ([{ op: 'encrypt', iv: Buffer.alloc(16), assoclen: 20 }, { op: 'decrypt' }, { iv: Buffer.alloc(12, 1), assoclen: 0 }, {}] satisfies AlgControl[]).map((c) => encodeAlgControl(c)), run: (b) => void decodeAlgControl(b as Buffer) },
    { name: 'proc-crypto', input: 'text', seeds: procCryptoSeeds(), run: (t) => void parseProcCrypto(t as string) },
    { name: 'proc-xfrm-stat', input: 'text', seeds: [...walk(path.join(root, 'xfrm'), '.xfrm_stat.txt')].map((f) => readFileSync(f, 'utf8')), run: (t) => void parseXfrmStat(t as string) },
  ];
}

/** Every decoder the harness fuzzes, each with its seed inputs. */
export function targets(): Target[] {
  const corpus = fixtureCorpus();
  for (const [name, build] of Object.entries(builtSeeds)) corpus.set(name, [...(corpus.get(name) ?? []), ...build()]);
  const netlinkSeeds = [...corpus.entries()].filter(([d]) => !datagramDecoders[d]).flatMap(([, v]) => v);
  const out: Target[] = [
    {
      name: 'netlink-framing',
      input: 'netlink',
      seeds: [...netlinkSeeds, ...framingExtras()],
      run(input) {
        for (const m of parseMessages(input as Buffer)) {
          if (m.type === 2) parseError(m);
          else if (m.type === 3) parseDoneExtack(m);
        }
      },
    },
  ];
  for (const [name, decode] of Object.entries(decoders)) {
    out.push({
      name,
      input: 'netlink',
      seeds: corpus.get(name) ?? [],
      // The whole datagram as mutated: every message parseMessages frames goes to the decoder.
      run(input) {
        let msgs: NetlinkMessage[];
        try {
          msgs = parseMessages(input as Buffer);
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
          // The framing refused it; the payload still reaches the decoder with the header kept (any length).
          const b = input as Buffer;
          if (b.length < 16) throw err;
          msgs = [{ type: b.readUInt16LE(4), flags: b.readUInt16LE(6), seq: b.readUInt32LE(8), pid: b.readUInt32LE(12), payload: b.subarray(16) }];
        }
        let decodeError: unknown;
        for (const m of msgs) {
          try {
            decode(m);
          } catch (err) {
            decodeError = err;
            if (!(err instanceof DecodeError)) throw err;
          }
        }
        if (decodeError) throw decodeError;
      },
    });
  }
  for (const [name, decode] of Object.entries(datagramDecoders)) {
    const also = datagramAlso[name];
    out.push({
      name,
      input: datagramFraming[name] ?? 'raw',
      seeds: corpus.get(name) ?? [],
      run(input) {
        if (also) allowDecodeError(() => also(input as Buffer));
        decode(input as Buffer);
      },
    });
  }
  return [...out, ...otherTargets()];
}

// ---- the run ----

export interface FuzzResult {
  name: string;
  seed: number;
  runs: number;
  decoded: number;
  decodeErrors: number;
  ms: number;
  /** CPU time of the slowest call. */
  slowestMs: number;
  /** The largest Buffer.alloc* any call asked for, relative to its input's length (bytes over input.length). */
  largestAllocOver: number;
  heapGrowthMB: number;
}

export class FuzzFailure extends Error {}

export const MAX_CALL_MS = 250;
/** A call may allocate its input's size and this much more (a length field driving Buffer.alloc fails it). */
export const ALLOC_SLACK = 1 << 20;
/** Heap a run may hold on to beyond its start (after a GC), in MiB. */
export const MAX_HEAP_GROWTH_MB = 256;

/** Buffer.alloc/allocUnsafe/allocUnsafeSlow sizes asked for while `during` runs. */
function watchAllocations(): { reset(): void; readonly largest: number; restore(): void } {
  const B = Buffer as unknown as Record<string, (size: number, ...rest: unknown[]) => Buffer>;
  const originals = { alloc: B.alloc!, allocUnsafe: B.allocUnsafe!, allocUnsafeSlow: B.allocUnsafeSlow! };
  let largest = 0;
  for (const [k, fn] of Object.entries(originals)) {
    B[k] = function (size: number, ...rest: unknown[]) {
      if (size > largest) largest = size;
      return fn.call(Buffer, size, ...rest);
    };
  }
  return {
    reset: () => void (largest = 0),
    get largest() {
      return largest;
    },
    restore: () => Object.assign(B, originals),
  };
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};

const gc = (globalThis as { gc?: () => void }).gc;
const heapMB = () => {
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

/** Seed of one target under the run's seed (FNV-1a of its name), so targets stay independent. */
export function targetSeed(seed: number, name: string): number {
  return (seed ^ [...name].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0, 2166136261)) >>> 0;
}

/** What went wrong in one call: `kind` tells one failure from another while an input is reduced. */
export interface Failure {
  kind: string;
  what: string;
  stack?: string;
}
interface Call {
  decoded: boolean;
  ms: number;
  failure?: Failure;
}
type Allocations = ReturnType<typeof watchAllocations>;

/** One call of a decoder judged: only DecodeError may escape, it must be fast and allocate near its input's size. */
export function judge(t: Target, input: Buffer | string, allocs?: Allocations): Call {
  allocs?.reset();
  // CPU time, not wall time: on a shared machine a call may wait for a core without being slow itself.
  const c0 = process.cpuUsage();
  let decoded = false;
  try {
    t.run(input);
    decoded = true;
  } catch (err) {
    if (!(err instanceof DecodeError)) {
      const e = err as Error;
      return { decoded, ms: cpuMs(c0), failure: { kind: e?.name ?? typeof err, what: `threw ${e?.name}: ${e?.message} (not a DecodeError)`, stack: e?.stack } };
    }
  }
  let ms = cpuMs(c0);
  const over = (allocs?.largest ?? 0) - input.length;
  // A slow call (a GC pause lands in it) is timed twice more; only one slow every time fails.
  for (let again = 0; again < 2 && ms >= MAX_CALL_MS; again++) {
    const c1 = process.cpuUsage();
    try {
      t.run(input);
    } catch {
      // judged above
    }
    ms = Math.min(ms, cpuMs(c1));
  }
  if (ms >= MAX_CALL_MS) return { decoded, ms, failure: { kind: 'slow', what: `one call took ${ms.toFixed(0)} ms of CPU` } };
  if (over > ALLOC_SLACK) return { decoded, ms, failure: { kind: 'alloc', what: `one call allocated ${allocs!.largest} bytes for ${input.length} bytes of input` } };
  return { decoded, ms };
}

const cut = <T extends Buffer | string>(x: T, at: number, n: number): T =>
  (typeof x === 'string' ? x.slice(0, at) + x.slice(at + n) : Buffer.concat([x.subarray(0, at), x.subarray(at + n)])) as T;

/**
 * A failing input made smaller while it still fails the same way: chunks cut out, halving their size
 * (delta debugging), the message length repaired after each cut where the framing has one. What a
 * regression entry keeps. Bounded: a few thousand calls, ten seconds.
 */
export function reduce(t: Target, input: Buffer | string, fails: (x: Buffer | string) => boolean): Buffer | string {
  let best = input;
  let budget = 4000;
  const until = performance.now() + 10_000;
  for (let n = best.length >> 1; n >= 1; n >>= 1) {
    for (let at = 0; at + n <= best.length && budget > 0 && performance.now() < until; ) {
      const raw = cut(best, at, n);
      const candidates = typeof raw === 'string' || t.input === 'text' ? [raw] : [repairLength(Buffer.from(raw as Buffer), t.input as Framing), raw];
      const hit = candidates.find((c) => budget-- > 0 && fails(c));
      if (hit !== undefined) best = hit;
      else at += n;
    }
  }
  return best;
}

const hex = (x: Buffer | string) => (typeof x === 'string' ? Buffer.from(x, 'utf8') : x).toString('hex');
/** A regression entry's or a replayed input's bytes as the decoder takes them (text decoders: UTF-8). */
export function inputFromHex(t: Target, h: string): Buffer | string {
  const b = Buffer.from(h, 'hex');
  return t.input === 'text' ? b.toString('utf8') : b;
}

/** The one failure report: decoder, seed, iteration, how to replay, the input and a reduced one in hex, the regression line. */
export function failureReport(t: Target, seed: number, iteration: number, input: Buffer | string, failure: Failure, reduced: Buffer | string): string {
  return [
    `fuzz: decoder ${t.name}, seed ${seed}, iteration ${iteration}: ${failure.what}`,
    `  replay: SASCOPE_FUZZ_SEED=${seed} SASCOPE_FUZZ_N=${iteration} npm run test:fuzz -- ${t.name}`,
    `  input (${input.length} ${typeof input === 'string' ? 'chars' : 'B'}, hex): ${hex(input)}`,
    `  reduced (${reduced.length} ${typeof reduced === 'string' ? 'chars' : 'B'}, hex): ${hex(reduced)}`,
    `  test/fuzz/regressions.json entry: ${JSON.stringify({ decoder: t.name, note: failure.what, hex: hex(reduced) })}`,
    ...(failure.stack ? [failure.stack] : []),
  ].join('\n');
}

export function fuzzTarget(t: Target, seed: number, n: number, progress = false): FuzzResult {
  if (!t.seeds.length) throw new FuzzFailure(`${t.name}: no captured input to mutate`);
  const r = rng(targetSeed(seed, t.name));
  const res: FuzzResult = { name: t.name, seed, runs: 0, decoded: 0, decodeErrors: 0, ms: 0, slowestMs: 0, largestAllocOver: 0, heapGrowthMB: 0 };
  // The seeds themselves must decode: a target that only ever errors tests nothing. A seed is iteration 0.
  for (const [k, s] of t.seeds.entries()) {
    const c = judge(t, s);
    if (c.failure) throw new FuzzFailure(failureReport(t, seed, 0, s, c.failure, s));
    if (!c.decoded) throw new FuzzFailure(`${t.name}: seed input ${k} does not decode (a DecodeError): ${hex(s)}`);
  }
  const allocs = watchAllocations();
  const heap0 = heapMB();
  const started = performance.now();
  try {
    for (let i = 1; i <= n; i++) {
      const base = r.pick(t.seeds);
      const other = r.pick(t.seeds);
      const input = t.input === 'text' ? mutateText(base as string, other as string, r) : mutateBytes(base as Buffer, other as Buffer, r, t.input);
      const c = judge(t, input, allocs);
      // Arrays and Maps sized by a length field show as heap: what a call left live is bounded too.
      const heapNow = getHeapStatistics().used_heap_size / 2 ** 20;
      const failure = c.failure ?? (heapNow - heap0 > MAX_HEAP_GROWTH_MB && heapMB() - heap0 > MAX_HEAP_GROWTH_MB ? { kind: 'heap', what: `the heap grew by ${(heapNow - heap0).toFixed(0)} MB` } : undefined);
      if (failure) {
        const reduced = failure.kind === 'heap' ? input : reduce(t, input, (x) => judge(t, x, allocs).failure?.kind === failure.kind);
        throw new FuzzFailure(failureReport(t, seed, i, input, failure, reduced));
      }
      if (c.decoded) res.decoded++;
      else res.decodeErrors++;
      if (c.ms > res.slowestMs) res.slowestMs = c.ms;
      res.largestAllocOver = Math.max(res.largestAllocOver, allocs.largest - input.length);
      if (progress && i % 100_000 === 0) process.stderr.write(`fuzz: ${t.name} ${i}/${n} (a crash that kills the process replays with SASCOPE_FUZZ_SEED=${seed} npm run test:fuzz -- ${t.name})\n`);
      res.runs++;
    }
  } finally {
    allocs.restore();
  }
  res.ms = performance.now() - started;
  res.heapGrowthMB = heapMB() - heap0; // after a full GC when run with --expose-gc
  return res;
}

export function formatResult(r: FuzzResult): string {
  return `${r.name.padEnd(16)} ${String(r.runs).padStart(8)} messages  ${String(r.decoded).padStart(8)} decoded  ${String(r.decodeErrors).padStart(8)} DecodeError  ${(r.ms / 1000).toFixed(1).padStart(6)} s  slowest ${r.slowestMs.toFixed(2)} ms CPU  largest alloc over input ${r.largestAllocOver} B  heap +${r.heapGrowthMB.toFixed(1)} MB`;
}

/** The environment, read here only: SASCOPE_FUZZ_SEED (replay; a fresh seed otherwise), SASCOPE_FUZZ_N (count per decoder). */
export function fuzzEnv(defaultCount: number): { seed: number; n: number } {
  const number = (name: string, fallback: number) => {
    const v = process.env[name];
    if (v === undefined || v === '') return fallback;
    if (!/^\d+$/.test(v)) throw new Error(`${name}=${v}: not a whole number`);
    return Number(v);
  };
  return { seed: number('SASCOPE_FUZZ_SEED', (Date.now() ^ (process.pid << 8)) >>> 0) >>> 0, n: number('SASCOPE_FUZZ_N', defaultCount) };
}

/** test/fuzz/regressions.json: inputs that once failed a decoder, each checked before any mutation. */
export interface Regression {
  decoder: string;
  note: string;
  hex: string;
}
export function regressions(): Regression[] {
  return JSON.parse(readFileSync(new URL('./regressions.json', import.meta.url), 'utf8')) as Regression[];
}

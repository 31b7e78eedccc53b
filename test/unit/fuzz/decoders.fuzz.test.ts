// Seeded mutation fuzzing of every registered decoder (test/unit/decoders.ts) over the byte fixtures
// (test/fixtures/**): bit flips, truncation, length-field corruption, random bytes, splices. A decoder may
// return or throw DecodeError — nothing else — and every call must finish quickly. parseMessages too.
//   FUZZ_SEED=<n>        replay a run (the seed is printed)
//   FUZZ_ITERATIONS=<n>  mutations per decoder (default 20000)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseMessages, type NetlinkMessage } from '../../../server/netlink/message.ts';
import { DecodeError } from '../../../server/netlink/errors.ts';
import { decoders } from '../decoders.ts';

const SEED = Number(process.env.FUZZ_SEED ?? ((Date.now() ^ (process.pid << 8)) >>> 0));
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 20_000);
const MAX_CALL_MS = 250;
console.log(`fuzz: FUZZ_SEED=${SEED} FUZZ_ITERATIONS=${ITERATIONS}`);

/** mulberry32: small, seedable, good enough to pick mutations. */
function rng(seed: number) {
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
type Rng = ReturnType<typeof rng>;

const INTERESTING_U16 = [0, 1, 2, 3, 4, 5, 7, 8, 0x7fff, 0x8000, 0xfffc, 0xffff];
const INTERESTING_U32 = [0, 1, 15, 16, 17, 0x7fffffff, 0x80000000, 0xffffffff];

function mutate(src: Buffer, r: Rng): Buffer {
  let b = Buffer.from(src);
  const rounds = 1 + r.int(3);
  for (let k = 0; k < rounds; k++) {
    if (b.length === 0) b = Buffer.alloc(1 + r.int(64));
    switch (r.int(7)) {
      case 0: // bit flips
        for (let i = 1 + r.int(8); i > 0; i--) b[r.int(b.length)]! ^= 1 << r.int(8);
        break;
      case 1: // truncation
        b = b.subarray(0, r.int(b.length + 1));
        break;
      case 2: { // a TLV/header length field (nla_len at a 4-aligned offset) set to an edge value
        if (b.length < 2) break;
        const at = r.int(b.length >>> 2) * 4;
        if (at + 2 <= b.length) b.writeUInt16LE(r.next() < 0.7 ? r.pick(INTERESTING_U16) : (b.readUInt16LE(at) + r.int(17) - 8) & 0xffff, at);
        break;
      }
      case 3: // nlmsg_len or a u32 field
        if (b.length >= 4) {
          const at = r.next() < 0.5 ? 0 : r.int(b.length >>> 2) * 4;
          if (at + 4 <= b.length) b.writeUInt32LE(r.pick(INTERESTING_U32), at);
        }
        break;
      case 4: { // a run of random bytes
        const at = r.int(b.length);
        const n = Math.min(b.length - at, 1 + r.int(32));
        for (let i = 0; i < n; i++) b[at + i] = r.int(256);
        break;
      }
      case 5: { // splice: duplicate or drop a chunk
        const at = r.int(b.length);
        const n = 1 + r.int(Math.min(64, b.length - at));
        b = r.next() < 0.5 ? Buffer.concat([b.subarray(0, at + n), b.subarray(at, at + n), b.subarray(at + n)]) : Buffer.concat([b.subarray(0, at), b.subarray(at + n)]);
        break;
      }
      default: // entirely random bytes
        b = Buffer.from(Array.from({ length: r.int(b.length + 32) }, () => r.int(256)));
    }
  }
  return b;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures');
function* walk(dir: string): Generator<string> {
  for (const f of readdirSync(dir)) {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (f.endsWith('.fixture.json')) yield p;
  }
}
const corpus = new Map<string, Buffer[]>();
for (const file of walk(root)) {
  const fx = JSON.parse(readFileSync(file, 'utf8')) as { decoder: string; messages: Array<{ hex: string }> };
  const list = corpus.get(fx.decoder) ?? [];
  for (const m of fx.messages) list.push(Buffer.from(m.hex, 'hex'));
  corpus.set(fx.decoder, list);
}

/** Outcomes of the current test, printed as a diagnostic (a fuzzer that only ever hits errors finds little). */
const outcome = { decoded: 0, decodeError: 0 };

function check(what: string, seed: number, input: Buffer, fn: () => unknown): void {
  const t0 = performance.now();
  try {
    fn();
    outcome.decoded++;
  } catch (err) {
    outcome.decodeError++;
    if (!(err instanceof DecodeError)) {
      assert.fail(`${what}: threw ${(err as Error)?.name}: ${(err as Error)?.message} (not a DecodeError)\n  FUZZ_SEED=${seed} input ${input.toString('hex')}\n${(err as Error)?.stack ?? ''}`);
    }
  }
  let ms = performance.now() - t0;
  // A slow call on a busy machine (GC, another process) is timed twice more; only a call that is slow every time fails.
  for (let again = 0; again < 2 && ms >= MAX_CALL_MS; again++) {
    const t1 = performance.now();
    try {
      fn();
    } catch {
      // already judged above
    }
    ms = Math.min(ms, performance.now() - t1);
  }
  assert.ok(ms < MAX_CALL_MS, `${what}: one call took ${ms.toFixed(0)} ms (FUZZ_SEED=${seed} input ${input.toString('hex')})`);
}

test('parseMessages returns or throws DecodeError on mutated datagrams', (t) => {
  t.diagnostic(`FUZZ_SEED=${SEED}`);
  Object.assign(outcome, { decoded: 0, decodeError: 0 });
  const r = rng(SEED);
  const seeds = [...corpus.values()].flat();
  for (let i = 0; i < ITERATIONS; i++) {
    const input = mutate(r.pick(seeds), r);
    check('parseMessages', SEED, input, () => parseMessages(input));
  }
  t.diagnostic(`parsed ${outcome.decoded}, DecodeError ${outcome.decodeError}`);
});

for (const name of Object.keys(decoders)) {
  const seeds = corpus.get(name);
  test(`decoder ${name}: mutated messages decode or throw DecodeError only`, { skip: seeds ? false : 'no byte fixture to mutate' }, (t) => {
    t.diagnostic(`FUZZ_SEED=${SEED}`);
    Object.assign(outcome, { decoded: 0, decodeError: 0 });
    const decode = decoders[name]!;
    const r = rng(SEED ^ [...name].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0, 2166136261));
    for (let i = 0; i < ITERATIONS; i++) {
      const base = r.pick(seeds!);
      if (i % 2 === 0) {
        // The whole datagram mutated: what parseMessages frames goes to the decoder.
        const input = mutate(base, r);
        let msgs: NetlinkMessage[] = [];
        try {
          msgs = parseMessages(input);
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
        }
        for (const m of msgs) check(name, SEED, input, () => decode(m));
      } else {
        // Header kept, payload mutated freely (any length reaches the decoder).
        const [m] = parseMessages(base);
        const payload = mutate(m!.payload, r);
        check(name, SEED, payload, () => decode({ ...m!, payload }));
      }
    }
    t.diagnostic(`decoded ${outcome.decoded}, DecodeError ${outcome.decodeError}`);
  });
}

// Fuzzed PF_KEY datagrams: random lengths, header and extension lengths past the end, zero-length
// extensions, random bytes, and mutations of the real datagrams captured in the lab. The decoder and the
// entity builders never throw anything but DecodeError and never hang (every step consumes ≥ 8 bytes).
// The seed is printed; rerun one with PFKEY_FUZZ_SEED=<n>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DecodeError } from '../../../server/netlink/errors.ts';
import { decodeSadbMessage } from '../../../server/families/pfkey/message.ts';
import { algorithmsFromRegister, describeMessage, policyFromMessage, saFromMessage } from '../../../server/families/pfkey/sa.ts';

const seed = Number(process.env.PFKEY_FUZZ_SEED ?? Date.now() % 2 ** 31);
console.log(`pfkey fuzz seed ${seed} (PFKEY_FUZZ_SEED=${seed} to replay)`);

// mulberry32: small, seedable
function rng(s: number): () => number {
  return () => {
    s |= 0;
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const fixtureDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/pfkey');
const corpus: Buffer[] = readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.fixture.json'))
  .flatMap((f) => (JSON.parse(readFileSync(path.join(fixtureDir, f), 'utf8')) as { messages: Array<{ hex: string }> }).messages.map((m) => Buffer.from(m.hex, 'hex')));

function attempt(buf: Buffer): void {
  try {
    const m = decodeSadbMessage(buf);
    describeMessage(m);
    for (const f of [saFromMessage, policyFromMessage, algorithmsFromRegister] as Array<(x: typeof m) => unknown>) {
      try {
        f(m);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
      }
    }
  } catch (err) {
    if (!(err instanceof DecodeError)) {
      assert.fail(`seed ${seed}: ${buf.toString('hex')} threw ${(err as Error)?.stack ?? String(err)}`);
    }
  }
}

test('random and mutated PF_KEY datagrams only ever raise DecodeError', { timeout: 60_000 }, () => {
  assert.ok(corpus.length > 0, 'the lab fixtures are the mutation corpus');
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const started = Date.now();
  let n = 0;
  for (; n < 30_000; n++) {
    let buf: Buffer;
    const kind = int(6);
    if (kind === 0) {
      // pure noise, valid version byte half the time
      buf = Buffer.from(Array.from({ length: int(300) }, () => int(256)));
      if (buf.length > 0 && r() < 0.5) buf[0] = 2;
    } else {
      buf = Buffer.from(corpus[int(corpus.length)]!);
      const muts = 1 + int(4);
      for (let i = 0; i < muts; i++) {
        switch (int(6)) {
          case 0: // a random byte
            if (buf.length) buf[int(buf.length)] = int(256);
            break;
          case 1: // sadb_msg_len anything (past the end, too small, zero)
            if (buf.length >= 6) buf.writeUInt16LE(int(0x10000), 4);
            break;
          case 2: { // an extension length: zero, past the end, random
            const off = 16 + 8 * int(Math.max(1, (buf.length - 16) / 8));
            if (off + 2 <= buf.length) buf.writeUInt16LE([0, 1, 0xffff, int(64)][int(4)]!, off);
            break;
          }
          case 3: // truncate
            buf = buf.subarray(0, int(buf.length + 1));
            break;
          case 4: { // an extension type: unknown, duplicate, reserved
            const off = 16 + 8 * int(Math.max(1, (buf.length - 16) / 8));
            if (off + 4 <= buf.length) buf.writeUInt16LE([0, int(30), 99, 0xffff][int(4)]!, off + 2);
            break;
          }
          case 5: // append garbage and fix up the length so the walker reaches it
            buf = Buffer.concat([buf, Buffer.from(Array.from({ length: 8 * (1 + int(4)) }, () => int(256)))]);
            if (buf.length >= 6 && r() < 0.7) buf.writeUInt16LE(Math.floor(buf.length / 8), 4);
            break;
        }
      }
    }
    attempt(buf);
  }
  console.log(`${n} datagrams in ${Date.now() - started} ms`);
});

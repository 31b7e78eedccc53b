// The fuzz harness (test/fuzz/harness.ts) at a small count inside the unit phase: every decoder gets
// SASCOPE_FUZZ_N (default 20000) mutated inputs from its seeds; only DecodeError may escape, each call must
// be fast, no call may allocate far beyond its input. `npm run test:fuzz` runs 1M each. A failure prints
// its decoder, seed, iteration and input in hex, and how to replay it. Inputs that once failed a decoder
// are in test/fuzz/regressions.json and run first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatResult, fuzzEnv, fuzzTarget, inputFromHex, judge, regressions, targets } from '../../fuzz/harness.ts';
import { datagramDecoders, decoders } from '../decoders.ts';

const { seed, n } = fuzzEnv(20_000);
console.log(`fuzz: SASCOPE_FUZZ_SEED=${seed} SASCOPE_FUZZ_N=${n}`);
const all = targets();

test('every decoder and parser is fuzzed, each with input to mutate', () => {
  for (const t of all) assert.ok(t.seeds.length > 0, `${t.name}: no seeds`);
  const names = all.map((t) => t.name);
  for (const name of [...Object.keys(decoders), ...Object.keys(datagramDecoders), 'netlink-framing', 'alg-cmsg', 'proc-crypto', 'proc-xfrm-stat']) assert.ok(names.includes(name), name);
});

for (const [i, r] of regressions().entries()) {
  test(`fuzz regression ${i} (${r.decoder}): ${r.note}`, () => {
    const t = all.find((x) => x.name === r.decoder);
    assert.ok(t, `decoder ${r.decoder}`);
    assert.equal(judge(t, inputFromHex(t, r.hex)).failure, undefined);
  });
}

for (const t of all) {
  test(`fuzz ${t.name}: ${n} mutated inputs decode or throw DecodeError only`, (c) => {
    const r = fuzzTarget(t, seed, n);
    c.diagnostic(formatResult(r));
    assert.equal(r.runs, n);
    assert.ok(r.heapGrowthMB < 64, `heap grew by ${r.heapGrowthMB.toFixed(1)} MB (SASCOPE_FUZZ_SEED=${seed})`);
  });
}

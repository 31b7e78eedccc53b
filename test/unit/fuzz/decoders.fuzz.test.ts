// The fuzz harness (test/fuzz/harness.ts) at a small count inside the unit phase: every decoder gets
// SASCOPE_FUZZ_N (default 20000) mutated messages from the captured fixtures; only DecodeError may escape,
// each call must be fast, no call may allocate far beyond its input. `npm run test:fuzz` runs 1M each.
// Replay a failure with the printed SASCOPE_FUZZ_SEED. Inputs that once crashed a decoder are in
// test/fuzz/regressions.json and run first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DecodeError } from '../../../server/netlink/errors.ts';
import { countFromEnv, formatResult, fuzzTarget, seedFromEnv, targets } from '../../fuzz/harness.ts';

const SEED = seedFromEnv();
const N = countFromEnv(20_000);
console.log(`fuzz: SASCOPE_FUZZ_SEED=${SEED} SASCOPE_FUZZ_N=${N}`);
const all = targets();

interface Regression { target: string; hex?: string; text?: string; note: string }
const regressions = JSON.parse(readFileSync(new URL('../../fuzz/regressions.json', import.meta.url), 'utf8')) as Regression[];

test('every decoder and parser has captured input to mutate', () => {
  for (const t of all) assert.ok(t.seeds.length > 0, `${t.name}: no seeds`);
  assert.ok(all.some((t) => t.name === 'pfkey') && all.some((t) => t.name === 'proc-crypto') && all.some((t) => t.name === 'netlink-framing'));
});

for (const [i, r] of regressions.entries()) {
  test(`fuzz regression ${i} (${r.target}): ${r.note}`, () => {
    const t = all.find((x) => x.name === r.target);
    assert.ok(t, `target ${r.target}`);
    const input = r.hex !== undefined ? Buffer.from(r.hex, 'hex') : r.text!;
    const t0 = performance.now();
    try {
      t!.run(input);
    } catch (err) {
      assert.ok(err instanceof DecodeError, `threw ${(err as Error).stack}`);
    }
    assert.ok(performance.now() - t0 < 250, 'fast');
  });
}

for (const t of all) {
  test(`fuzz ${t.name}: ${N} mutated inputs decode or throw DecodeError only`, (c) => {
    const r = fuzzTarget(t, SEED, N);
    c.diagnostic(formatResult(r));
    assert.equal(r.runs, N);
    assert.ok(r.heapGrowthMB < 64, `heap grew by ${r.heapGrowthMB.toFixed(1)} MB`);
  });
}

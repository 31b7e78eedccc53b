// The full fuzz run: 1M mutated messages per decoder (SASCOPE_FUZZ_N), the figures printed per decoder.
// CPU-heavy: run it niced, e.g. `nice -n 10 npm run test:fuzz`. Replay a failure with the printed
// SASCOPE_FUZZ_SEED; fuzz one decoder with `npm run test:fuzz -- <name>…`.
import { countFromEnv, formatResult, fuzzTarget, FuzzFailure, seedFromEnv, targets } from './harness.ts';

const seed = seedFromEnv();
const n = countFromEnv(1_000_000);
const only = process.argv.slice(2);
const list = targets().filter((t) => !only.length || only.includes(t.name));
console.log(`fuzz: SASCOPE_FUZZ_SEED=${seed} SASCOPE_FUZZ_N=${n} targets ${list.map((t) => t.name).join(' ')}${(globalThis as { gc?: unknown }).gc ? '' : ' (no --expose-gc: heap growth is approximate)'}`);
let failed = 0;
let total = 0;
const t0 = Date.now();
for (const t of list) {
  try {
    const r = fuzzTarget(t, seed, n, true);
    total += r.runs;
    console.log(formatResult(r));
    if (r.heapGrowthMB > 64) {
      failed++;
      console.log(`FAIL ${t.name}: heap grew by ${r.heapGrowthMB.toFixed(1)} MB over the run`);
    }
  } catch (err) {
    failed++;
    console.log(`FAIL ${err instanceof FuzzFailure ? err.message : (err as Error).stack}`);
  }
}
console.log(`fuzz: ${total} messages over ${list.length} decoders in ${((Date.now() - t0) / 1000).toFixed(0)} s, ${failed} failed (SASCOPE_FUZZ_SEED=${seed})`);
process.exitCode = failed ? 1 : 0;

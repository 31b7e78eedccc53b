// The full fuzz run: 1M mutated messages per decoder (SASCOPE_FUZZ_N), the figures printed per decoder.
// CPU-heavy: `npm run test:fuzz` runs it niced. Replay a failure with the SASCOPE_FUZZ_SEED and
// SASCOPE_FUZZ_N its report prints; fuzz some decoders only with `npm run test:fuzz -- <name>…`.
import { formatResult, fuzzEnv, fuzzTarget, FuzzFailure, targets } from './harness.ts';

const { seed, n } = fuzzEnv(1_000_000);
const only = process.argv.slice(2);
const all = targets();
const unknown = only.filter((name) => !all.some((t) => t.name === name));
if (unknown.length) throw new Error(`no decoder named ${unknown.join(', ')} (decoders: ${all.map((t) => t.name).join(' ')})`);
const list = all.filter((t) => !only.length || only.includes(t.name));
console.log(`fuzz: SASCOPE_FUZZ_SEED=${seed} SASCOPE_FUZZ_N=${n} decoders ${list.map((t) => t.name).join(' ')}${(globalThis as { gc?: unknown }).gc ? '' : ' (no --expose-gc: heap growth is approximate)'}`);
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
      console.log(`FAIL ${t.name}: heap grew by ${r.heapGrowthMB.toFixed(1)} MB over the run (SASCOPE_FUZZ_SEED=${seed})`);
    }
  } catch (err) {
    failed++;
    console.log(`FAIL ${err instanceof FuzzFailure ? err.message : (err as Error).stack}`);
  }
}
console.log(`fuzz: ${total} messages over ${list.length} decoders in ${((Date.now() - t0) / 1000).toFixed(0)} s, ${failed} failed (SASCOPE_FUZZ_SEED=${seed})`);
process.exitCode = failed ? 1 : 0;

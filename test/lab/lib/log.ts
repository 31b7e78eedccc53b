// Lab console output: one prefix, phase timings.
export function say(msg: string): void {
  process.stderr.write(`lab: ${msg}\n`);
}

export function fmtDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

/** Runs one named phase and prints how long it took. */
export async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  say(`${name} …`);
  try {
    const r = await fn();
    say(`${name}: done in ${fmtDuration(Date.now() - t0)}`);
    return r;
  } catch (e) {
    say(`${name}: FAILED after ${fmtDuration(Date.now() - t0)}`);
    throw e;
  }
}

export class LabError extends Error {}

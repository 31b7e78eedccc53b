// `npm run test:lab [-- filter …]`: runs test/lab/tests/<name>.<kernel>.test.ts inside VMs,
// one VM per kernel (files of a kernel share it; `any` files join the custom VM when it runs,
// else the Debian one), in parallel, with each VM's output prefixed and phase times printed.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LAB_DIR, PROJECT_DIR, type KernelName } from './config.ts';
import { fmtDuration, phase, say } from './log.ts';
import { provision } from './provision.ts';
import { bootVm, type VmResult } from './vm.ts';

export interface TestOptions {
  kernels: KernelName[];
  filters: string[];
  timeoutSec: number;
}

export function labTestFiles(): { file: string; kernel: KernelName | 'any' }[] {
  const dir = join(LAB_DIR, 'tests');
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const m = f.match(/\.(debian|custom|any)\.test\.ts$/);
      return m ? [{ file: relative(PROJECT_DIR, join(dir, f)), kernel: m[1] as KernelName | 'any' }] : [];
    });
}

export async function runTests(opts: TestOptions): Promise<number> {
  const t0 = Date.now();
  const all = labTestFiles();
  const selected = all.filter((t) => !opts.filters.length || opts.filters.some((f) => t.file.includes(f)));
  if (!selected.length) {
    say(`no lab test matches ${opts.filters.join(' ')} (have: ${all.map((t) => t.file).join(', ')})`);
    return 1;
  }
  const anyKernel: KernelName = opts.kernels.includes('custom') ? 'custom' : opts.kernels[0];
  const plan = new Map<KernelName, string[]>();
  for (const t of selected) {
    const k = t.kernel === 'any' ? anyKernel : t.kernel;
    if (!opts.kernels.includes(k)) {
      say(`not running ${t.file} (its kernel ${k} is not selected)`);
      continue;
    }
    plan.set(k, [...(plan.get(k) ?? []), t.file]);
  }
  if (!plan.size) return 1;

  try {
    await phase('provision', () => provision([...plan.keys()]));
  } catch (e) {
    say(`cannot provision the lab kernels: ${(e as Error).message}`);
    say('lab tests FAILED: not provisioned');
    return 1;
  }

  const runOne = async (kernel: KernelName, files: string[]): Promise<VmResult> => {
    const prefix = `[${kernel}] `;
    let partial = '';
    const onOutput = (s: string) => {
      const lines = (partial + s).split('\n');
      partial = lines.pop()!;
      if (lines.length) process.stdout.write(lines.map((l) => prefix + l.replace(/\r$/, '') + '\n').join(''));
    };
    say(`${kernel} VM: ${files.length} file(s): ${files.map((f) => f.replace(/^test\/lab\/tests\//, '')).join(' ')}`);
    const command = [
      process.stdout.isTTY ? '' : 'NO_COLOR=1',
      '/usr/bin/node --import tsx --test --test-concurrency=1 --test-reporter=spec',
      ...files.map((f) => `'${f}'`),
    ].filter(Boolean).join(' ');
    const r = await bootVm({ kernel, command, timeoutSec: opts.timeoutSec, onOutput, memoryMB: 3072 });
    if (partial) process.stdout.write(prefix + partial + '\n');
    say(`${kernel} VM: ${r.exitCode === 0 ? 'passed' : `FAILED (exit ${r.exitCode})`} — boot ${fmtDuration(r.bootMs)}, total ${fmtDuration(r.totalMs)}`);
    return r;
  };

  const serial = process.env.SASCOPE_LAB_SERIAL === '1';
  const tRun = Date.now();
  const results: [KernelName, VmResult][] = [];
  if (serial) {
    for (const [k, files] of plan) results.push([k, await runOne(k, files)]);
  } else {
    const rs = await Promise.all([...plan].map(async ([k, files]) => [k, await runOne(k, files)] as [KernelName, VmResult]));
    results.push(...rs);
  }
  const failed = results.filter(([, r]) => r.exitCode !== 0);
  say(`lab VMs ran in ${fmtDuration(Date.now() - tRun)}; whole test:lab ${fmtDuration(Date.now() - t0)}`);
  for (const [k, r] of results) say(`  ${k}: ${r.exitCode === 0 ? 'ok' : `exit ${r.exitCode}${r.timedOut ? ' (timeout)' : ''}`}`);
  say(failed.length ? `lab tests FAILED on ${failed.map(([k]) => k).join(', ')}` : 'lab tests passed');
  return failed.length ? 1 : 0;
}

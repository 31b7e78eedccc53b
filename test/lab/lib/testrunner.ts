// `npm run test:lab [-- filter …]`: runs test/lab/tests/<name>.<kernel>.test.ts inside VMs,
// one VM per kernel (files of a kernel share it; `any` files join the custom VM when it runs,
// else the Debian one; `both` files run in each VM that runs), in parallel, with each VM's output prefixed and phase times printed.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { freePort } from './port.ts';
import { LAB_DIR, PROJECT_DIR, type KernelName } from './config.ts';
import { fmtDuration, phase, say } from './log.ts';
import { provision } from './provision.ts';
import { bootVm, type VmResult } from './vm.ts';

export interface TestOptions {
  kernels: KernelName[];
  filters: string[];
  timeoutSec: number;
}

/** `any`: one VM, whichever (the test does not depend on the kernel build); `both`: every VM that runs. */
export type LabFileKernel = KernelName | 'any' | 'both';

export function labTestFiles(): { file: string; kernel: LabFileKernel }[] {
  const dir = join(LAB_DIR, 'tests');
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const m = f.match(/\.(debian|custom|any|both)\.test\.ts$/);
      return m ? [{ file: relative(PROJECT_DIR, join(dir, f)), kernel: m[1] as LabFileKernel }] : [];
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
    for (const k of t.kernel === 'both' ? opts.kernels : [t.kernel === 'any' ? anyKernel : t.kernel]) {
      if (!opts.kernels.includes(k)) {
        say(`not running ${t.file} (its kernel ${k} is not selected)`);
        continue;
      }
      plan.set(k, [...(plan.get(k) ?? []), t.file]);
    }
  }
  if (!plan.size) return 1;

  // node:test's closing counts of every VM, summed into unprefixed "ℹ pass N" / "ℹ fail N" lines
  // at the end (test/run-all.sh counts those)
  const totals = { pass: 0, fail: 0 };
  const count = (line: string) => {
    const m = line.replace(/\x1b\[[0-9;]*m/g, '').match(/^ℹ (pass|fail) (\d+)$/);
    if (m) totals[m[1] as 'pass' | 'fail'] += Number(m[2]);
  };
  const runOne = async (kernel: KernelName, files: string[]): Promise<VmResult> => {
    const prefix = `[${kernel}] `;
    let partial = '';
    const onOutput = (s: string) => {
      const lines = (partial + s).split('\n');
      partial = lines.pop()!;
      for (const l of lines) count(l.replace(/\r$/, ''));
      if (lines.length) process.stdout.write(lines.map((l) => prefix + l.replace(/\r$/, '') + '\n').join(''));
    };
    say(`${kernel} VM: ${files.length} file(s): ${files.map((f) => f.replace(/^test\/lab\/tests\//, '')).join(' ')}`);
    const command = [
      process.stdout.isTTY ? '' : 'NO_COLOR=1',
      '/usr/bin/node --import tsx --test --test-concurrency=1 --test-reporter=spec',
      ...files.map((f) => `'${f}'`),
    ].filter(Boolean).join(' ');
    const { hostfwd, env } = await forwards(files);
    const host = hostParts(kernel, env);
    const r = await bootVm({ kernel, command, timeoutSec: opts.timeoutSec, onOutput, memoryMB: 3072, hostfwd, onRunDir: host.watch });
    host.stop();
    if (partial) process.stdout.write(prefix + partial + '\n');
    say(`${kernel} VM: ${r.exitCode === 0 ? 'passed' : `FAILED (exit ${r.exitCode})`} — boot ${fmtDuration(r.bootMs)}, total ${fmtDuration(r.totalMs)}`);
    return r;
  };

  // Kernels are provisioned one after the other (debian first: minutes at most), and each VM starts
  // as soon as its kernel is ready, so the Debian VM runs while the custom kernel still compiles.
  // SASCOPE_LAB_SERIAL=1 runs the VMs one after the other instead.
  const serial = process.env.SASCOPE_LAB_SERIAL === '1';
  const tRun = Date.now();
  const order = [...plan.keys()].sort((x, y) => (x === 'debian' ? -1 : y === 'debian' ? 1 : 0));
  let chain: Promise<unknown> = Promise.resolve();
  const notProvisioned: VmResult = { exitCode: 1, timedOut: false, bootMs: 0, totalMs: 0, runDir: '' };
  const runs = order.map((k) => {
    const ready = chain.then(() => phase(`provision ${k}`, () => provision([k]))).then(
      () => true,
      (e: Error) => {
        say(`cannot provision the ${k} kernel: ${e.message}`);
        return false;
      },
    );
    const done = ready.then((ok) => (ok ? runOne(k, plan.get(k)!) : notProvisioned));
    chain = serial ? done : ready;
    return done.then((r) => [k, r] as [KernelName, VmResult]);
  });
  const results = await Promise.all(runs);
  const failed = results.filter(([, r]) => r.exitCode !== 0);
  // a VM that failed without a failing test (boot, timeout, crash) counts as one failure
  const silentFailures = failed.length && totals.fail === 0 ? failed.length : 0;
  console.log(`ℹ pass ${totals.pass}`);
  console.log(`ℹ fail ${totals.fail + silentFailures}`);
  say(`lab VMs ran in ${fmtDuration(Date.now() - tRun)}; whole test:lab ${fmtDuration(Date.now() - t0)}`);
  for (const [k, r] of results) say(`  ${k}: ${r.exitCode === 0 ? 'ok' : `exit ${r.exitCode}${r.timedOut ? ' (timeout)' : ''}`}`);
  say(failed.length ? `lab tests FAILED on ${failed.map(([k]) => k).join(', ')}` : 'lab tests passed');
  return failed.length ? 1 : 0;
}

/**
 * Guest TCP ports a file wants reachable from the host (a line `// lab-forward: 4222 …` in it): the VM then
 * gets a user-mode NIC forwarding a free host loopback port to each, told to host parts as
 * SASCOPE_LAB_FORWARD_<guest port>=127.0.0.1:<host port>. No such line in any file: no NIC.
 */
async function forwards(files: string[]): Promise<{ hostfwd?: string[]; env: Record<string, string> }> {
  const ports = new Set(files.flatMap((f) => [...readFileSync(join(PROJECT_DIR, f), 'utf8').matchAll(/^\/\/ lab-forward:((?: \d+)+)$/gm)].flatMap((m) => m[1]!.trim().split(' '))));
  if (!ports.size) return { env: {} };
  const pairs = await Promise.all([...ports].map(async (g) => [g, await freePort()] as const));
  return {
    hostfwd: pairs.map(([g, h]) => `127.0.0.1:${h}-:${g}`),
    env: Object.fromEntries(pairs.map(([g, h]) => [`SASCOPE_LAB_FORWARD_${g}`, `127.0.0.1:${h}`])),
  };
}

/**
 * A guest test's part on the host (e.g. a console reaching the guest through a forwarded port): the test
 * writes a file `host-run.<name>` holding a script path (relative to the project) into the lab share
 * (/run/sascope-lab); the runner runs `node --import tsx <script>` here with the forwards in its env, its
 * output prefixed `[<kernel> host]`, and writes its exit status back as `host-done.<name>` for the test to
 * read and assert. The share is looked at once a second.
 */
function hostParts(kernel: KernelName, env: Record<string, string>): { watch(dir: string): void; stop(): void } {
  const started = new Set<string>();
  const running: Array<ReturnType<typeof spawn>> = [];
  let timer: NodeJS.Timeout | undefined;
  const prefix = (s: string) => process.stdout.write(s.replace(/^(?=.)/gm, `[${kernel} host] `));
  return {
    watch(dir) {
      clearInterval(timer); // a boot that crashed and was booted again: watch the new run directory
      timer = setInterval(() => {
        let names: string[];
        try {
          names = readdirSync(dir).filter((n) => n.startsWith('host-run.') && !started.has(n));
        } catch {
          return; // the run directory is gone: the VM ended
        }
        for (const n of names) {
          started.add(n);
          const script = readFileSync(join(dir, n), 'utf8').trim();
          say(`${kernel} VM asks for its host part: ${script}`);
          const p = spawn(process.execPath, ['--import', 'tsx', script], { cwd: PROJECT_DIR, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
          running.push(p);
          p.stdout.on('data', (d: Buffer) => prefix(d.toString()));
          p.stderr.on('data', (d: Buffer) => prefix(d.toString()));
          const done = (rc: number) => {
            try {
              writeFileSync(join(dir, `host-done.${n.slice('host-run.'.length)}`), `${rc}\n`);
            } catch {
              // the VM ended meanwhile
            }
          };
          p.on('error', () => done(127));
          p.on('exit', (code) => done(code ?? 1));
        }
      }, 1000);
    },
    stop() {
      clearInterval(timer);
      for (const p of running) if (p.exitCode === null) p.kill('SIGTERM'); // the VM is gone: nothing left to reach
    },
  };
}

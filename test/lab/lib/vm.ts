// Boots one lab VM: qemu (TCG) with the host root over 9p read-only under a tmpfs overlay,
// runs one command as root in the project directory (or an interactive shell), streams the
// console and returns the command's exit status, which stage 2 writes into the lab share.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { CACHE, PROJECT_DIR, artifacts, paths, type KernelName } from './config.ts';
import { alive } from './exec.ts';
import { fmtDuration, say } from './log.ts';

export interface VmOptions {
  kernel: KernelName;
  /** shell command (bash) run as root in the project directory; absent = interactive shell */
  command?: string;
  /** seconds before the command is killed (exit 124) */
  timeoutSec?: number;
  /** host-forwarded TCP ports for a user-mode NIC (demo): "127.0.0.1:7300-:7300" */
  hostfwd?: string[];
  memoryMB?: number;
  cpus?: number;
  /** receives console output of the command; default: process.stdout */
  onOutput?: (chunk: string) => void;
  /** keep the run's share directory (console log, dmesg) after success */
  keep?: boolean;
  /** told the run directory (the guest's /run/sascope-lab) before qemu starts */
  onRunDir?: (dir: string) => void;
}

export interface VmResult {
  exitCode: number;
  timedOut: boolean;
  /** ms from qemu start until the command started */
  bootMs: number;
  totalMs: number;
  runDir: string;
  /** why the VM (not the command) failed: the guest's stage-1/2 message, or how qemu ended */
  failure?: string;
  /** the kernel's crash line when it crashed before the command started (bootVm boots again) */
  bootCrash?: string;
}

const BEGIN = 'SASCOPE-LAB-BEGIN';
const END = 'SASCOPE-LAB-END';
const FAIL = 'SASCOPE-LAB-FAIL';
/**
 * Under TCG on a loaded host the kernel's TSC calibration goes wrong (PIT and HPET disagree,
 * "Detected 43 MHz processor") and guest time then runs many times too fast: timeouts, rekeys and
 * the soft-lockup watchdog all misbehave. The HPET is emulated from the host clock: use it.
 * Under heavier load (five TCG VMs on 2 cores) the boot's check that the timer interrupt comes through the
 * IO-APIC failed and the kernel panicked ("IO-APIC + timer doesn't work!"): no_timer_check skips that check,
 * as images made for emulated machines do.
 */
const CLOCK_ARGS = 'clocksource=hpet tsc=unstable no_timer_check';
/**
 * Under MTTCG a vCPU now and then runs code the kernel has just patched (static keys, via int3) from a stale
 * translation, and the kernel crashes while booting: "Oops: int3" in set_next_task_fair, seen once in CI
 * 1.2 s into a Debian boot. That is the emulator, before any test ran: boot again, saying so.
 */
const BOOT_ATTEMPTS = 3;
const BOOT_CRASH = /(?:Oops: [^\r\n]*|Kernel panic - not syncing: [^\r\n]*|BUG: kernel NULL pointer[^\r\n]*)/;
/** Lines of the crash report collected before qemu is stopped. */
const CRASH_REPORT_MS = 1500;
/** Boot allowance on top of --timeout before the host kills qemu itself. */
const HOST_GRACE_SEC = 120;

let runCounter = 0;

/** Kept run directories (failures, --keep, killed runs) are removed after a day. */
const KEEP_RUNS_MS = 24 * 3600_000;
function pruneRuns(): void {
  if (!existsSync(paths.runs)) return;
  for (const d of readdirSync(paths.runs)) {
    const dir = join(paths.runs, d);
    const pid = Number(d.split('-')[1]);
    try {
      if (pid && alive(pid)) continue; // a long VM (demo) of a running lab process
      if (Date.now() - statSync(dir).mtimeMs > KEEP_RUNS_MS) rmSync(dir, { recursive: true, force: true });
    } catch {
      // another lab process removed it
    }
  }
}

/** Boots a VM and runs opts.command in it; boots again (up to BOOT_ATTEMPTS) when the kernel crashes before the command starts. */
export async function bootVm(opts: VmOptions): Promise<VmResult> {
  for (let attempt = 1; ; attempt++) {
    const r = await bootOnce(opts);
    if (!r.bootCrash || attempt >= BOOT_ATTEMPTS) return r;
    say(`${opts.kernel} VM: the kernel crashed while booting, before the command started (${r.bootCrash}; console log: ${join(r.runDir, 'console.log')}); booting again, attempt ${attempt + 1} of ${BOOT_ATTEMPTS}`);
  }
}

function bootOnce(opts: VmOptions): Promise<VmResult> {
  const a = artifacts(opts.kernel);
  for (const f of [a.image, a.initrd]) {
    if (!existsSync(f)) throw new Error(`${opts.kernel} kernel not provisioned (${f} missing): npm run lab -- provision --kernel ${opts.kernel}`);
  }
  const interactive = opts.command === undefined;
  const timeoutSec = opts.timeoutSec ?? 300;
  if (runCounter === 0) pruneRuns();
  const runDir = join(paths.runs, `${opts.kernel}-${process.pid}-${Date.now()}-${runCounter++}`);
  mkdirSync(runDir, { recursive: true });
  opts.onRunDir?.(runDir);
  const env: Record<string, string> = {
    LAB_KERNEL: opts.kernel,
    LAB_MODE: interactive ? 'shell' : 'run',
    LAB_PROJECT: PROJECT_DIR,
    LAB_CWD: process.env.SASCOPE_LAB_CWD || PROJECT_DIR,
    LAB_TIMEOUT: String(timeoutSec),
    LAB_MODULES: a.modules ?? '',
    LAB_NET: opts.hostfwd?.length ? '1' : '0',
    LAB_CACHE: CACHE,
    LAB_COLS: String(process.stdout.columns || 80),
    LAB_ROWS: String(process.stdout.rows || 24),
    LAB_TERM: process.env.TERM || 'linux',
  };
  writeFileSync(join(runDir, 'env'), Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}\n`).join(''));
  if (!interactive) writeFileSync(join(runDir, 'cmd'), `${opts.command}\n`);

  const nic = opts.hostfwd?.length
    ? ['-nic', `user,model=virtio-net-pci,${opts.hostfwd.map((f) => `hostfwd=tcp:${f}`).join(',')}`]
    : ['-nic', 'none'];
  const args = [
    '-accel', 'tcg,thread=multi', '-machine', 'q35', '-cpu', 'max',
    '-m', String(opts.memoryMB ?? 2048), '-smp', String(opts.cpus ?? 2),
    '-no-reboot', '-display', 'none', '-vga', 'none',
    '-kernel', a.image, '-initrd', a.initrd,
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${runDir},mount_tag=labout,security_model=none,multidevs=remap`,
    ...nic,
    '-append', [
      `console=ttyS0 panic=-1 quiet loglevel=4 ${CLOCK_ARGS}`,
      process.env.SASCOPE_LAB_KERNEL_ARGS ?? '', // e.g. initcall_debug, to see where boot time goes
      `labinit2=${paths.init2}`,
    ].filter(Boolean).join(' '),
    ...(interactive ? ['-serial', 'mon:stdio'] : ['-serial', 'stdio', '-monitor', 'none']),
  ];
  const t0 = Date.now();
  const out = opts.onOutput ?? ((s: string) => void process.stdout.write(s));
  return new Promise((resolve, reject) => {
    const qemu = spawn('qemu-system-x86_64', args, {
      stdio: interactive ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    });
    let console = '';
    let state: 'boot' | 'cmd' | 'after' = interactive ? 'cmd' : 'boot';
    let bootMs = 0;
    let partial = '';
    let timedOut = false;
    let failure: string | undefined;
    let bootCrash: string | undefined;
    const utf8 = new StringDecoder('utf8'); // chunks split multi-byte characters
    const onData = (d: Buffer) => {
      const s = utf8.write(d);
      console += s;
      if (state === 'cmd') return emit(s);
      partial += s;
      if (state === 'boot') {
        const i = partial.indexOf(`${BEGIN}\n`);
        if (i >= 0) {
          bootMs = Date.now() - t0;
          state = 'cmd';
          const rest = partial.slice(i + BEGIN.length + 1);
          partial = '';
          emit(rest);
        } else if (partial.includes(FAIL)) {
          failure = partial.slice(0, partial.indexOf(FAIL)).trim().split('\n').pop();
          process.stderr.write(partial.replace(`${FAIL}\n`, ''));
          partial = '';
        } else if (!bootCrash && !interactive && BOOT_CRASH.test(partial)) {
          // a crashed boot may also hang rather than end: stop it once the report is out
          bootCrash = partial.match(BOOT_CRASH)![0];
          setTimeout(() => qemu.kill('SIGKILL'), CRASH_REPORT_MS).unref();
        }
      }
    };
    // hold back a possible partial END marker at the end of a chunk
    let held = '';
    const emit = (s: string) => {
      const text = held + s;
      held = '';
      const i = text.indexOf(`${END}\n`);
      if (i >= 0) {
        out(text.slice(0, i));
        state = 'after';
        return;
      }
      for (let k = Math.min(text.length, END.length); k > 0; k--) {
        if (text.endsWith(END.slice(0, k))) {
          held = text.slice(text.length - k);
          break;
        }
      }
      out(text.slice(0, text.length - held.length));
    };
    qemu.stdout?.on('data', onData);
    qemu.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
    const hostDeadline = interactive ? undefined : setTimeout(() => {
      timedOut = true;
      say(`${opts.kernel} VM: no exit after ${timeoutSec} s + ${HOST_GRACE_SEC} s grace; killing qemu`);
      qemu.kill('SIGKILL');
    }, (timeoutSec + HOST_GRACE_SEC) * 1000);
    const stop = () => qemu.kill('SIGTERM');
    if (!interactive) {
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }
    qemu.on('error', (e) => reject(new Error(`cannot start qemu-system-x86_64: ${e.message} (test/lab/host-deps.sh)`)));
    qemu.on('close', (code, signal) => {
      if (hostDeadline) clearTimeout(hostDeadline);
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      if (held) out(held);
      writeFileSync(join(runDir, 'console.log'), console);
      const totalMs = Date.now() - t0;
      const rcFile = join(runDir, 'rc');
      if (existsSync(join(runDir, 'timedout'))) timedOut = true;
      let exitCode: number;
      if (existsSync(rcFile)) {
        exitCode = Number(readFileSync(rcFile, 'utf8').trim());
      } else if (timedOut) {
        exitCode = 124;
      } else {
        if (state === 'boot') process.stderr.write(console.slice(-4000));
        const panic = console.match(/Kernel panic - not syncing: [^\r\n]*/)?.[0];
        const ended = `VM ended without an exit status (qemu ${signal ?? `exit ${code}`}${panic ? `, ${panic}` : ''}); console log: ${join(runDir, 'console.log')}`;
        say(`${opts.kernel} ${ended}`);
        resolve({ exitCode: 125, timedOut, bootMs, totalMs, runDir, failure: failure ?? ended, bootCrash: state === 'boot' ? bootCrash : undefined });
        return;
      }
      if (timedOut) say(`${opts.kernel} VM: command timed out after ${timeoutSec} s (exit 124)`);
      // keep the run directory when asked, or when the VM (not the command) failed
      if (!opts.keep && !timedOut && exitCode !== 125) rmSync(runDir, { recursive: true, force: true });
      else say(`${opts.kernel} VM run directory (console.log, dmesg): ${runDir}`);
      if (process.env.SASCOPE_LAB_VERBOSE) say(`${opts.kernel} VM: boot ${fmtDuration(bootMs)}, total ${fmtDuration(totalMs)}`);
      resolve({ exitCode, timedOut, bootMs, totalMs, runDir, failure });
    });
  });
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

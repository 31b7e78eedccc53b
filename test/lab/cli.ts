// sascope real-kernel lab: `npm run lab -- <command>`; see test/lab/README.md.
import { parseArgs } from 'node:util';
import { KERNELS, isProvisioned, parseKernel, type KernelName } from './lib/config.ts';
import { LabError, fmtDuration, phase, say } from './lib/log.ts';
import { cacheSummary, provision } from './lib/provision.ts';
import { runTests } from './lib/testrunner.ts';
import { bootVm } from './lib/vm.ts';

const HELP = `usage: npm run lab -- <command> [options]

  provision [--kernel debian|custom|all]   fetch/build kernels + initramfs into the cache (default: all)
  run [--kernel K] [--timeout S] [--keep] '<shell command>'
                                           boot a fresh VM, run the command as root in the project
                                           directory, exit with its status (124 on timeout, default 300 s)
  shell [--kernel K]                       interactive root shell in a fresh VM (Ctrl-A x quits qemu)
  demo [--kernel K] [--port P] [--timeout S]
                                           full scenario + sascope in a VM, dashboard on 127.0.0.1:P (7300)
  test [--kernel K|all] [--timeout S] [filter …]
                                           run test/lab/tests/*.<kernel>.test.ts inside VMs (npm run test:lab)

  K is debian (Debian's 7.2 kernel, modules) or custom (built-in, PSP + netdevsim).
  run/shell/demo default to custom when it is provisioned, else debian. Cache: $SASCOPE_LAB_CACHE
  (default ~/.cache/sascope-lab). Kernels are provisioned on demand when missing.`;

function defaultKernel(): KernelName {
  return isProvisioned('custom') ? 'custom' : 'debian';
}

async function ensure(kernel: KernelName): Promise<void> {
  if (!isProvisioned(kernel)) await provision([kernel]);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP);
    return command ? 0 : 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      kernel: { type: 'string' },
      timeout: { type: 'string' },
      keep: { type: 'boolean' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const timeoutSec = values.timeout ? Number(values.timeout) : undefined;
  if (timeoutSec !== undefined && !(timeoutSec > 0)) throw new LabError(`bad --timeout ${values.timeout}`);
  const kernelsOf = (def: 'all' | KernelName): KernelName[] => {
    const k = values.kernel ?? def;
    return k === 'all' ? [...KERNELS] : [parseKernel(k)];
  };

  switch (command) {
    case 'provision': {
      const t0 = Date.now();
      await provision(kernelsOf('all'));
      say(`provisioned in ${fmtDuration(Date.now() - t0)}: ${cacheSummary()}`);
      return 0;
    }
    case 'run': {
      if (!positionals.length) throw new LabError("run needs a command: npm run lab -- run 'uname -r'");
      const kernel = values.kernel ? parseKernel(values.kernel) : defaultKernel();
      await ensure(kernel);
      const r = await bootVm({ kernel, command: positionals.join(' '), timeoutSec, keep: values.keep });
      if (process.env.SASCOPE_LAB_VERBOSE === undefined) {
        // one line to stderr, so stdout stays the command's
        say(`${kernel} VM: boot ${fmtDuration(r.bootMs)}, total ${fmtDuration(r.totalMs)}, exit ${r.exitCode}`);
      }
      return r.exitCode;
    }
    case 'shell': {
      const kernel = values.kernel ? parseKernel(values.kernel) : defaultKernel();
      await ensure(kernel);
      return (await bootVm({ kernel })).exitCode;
    }
    case 'demo': {
      const kernel = values.kernel ? parseKernel(values.kernel) : defaultKernel();
      const port = Number(values.port ?? 7300);
      await ensure(kernel);
      say(`demo on the ${kernel} kernel: dashboard at http://127.0.0.1:${port}/ once sascope is up (Ctrl-C stops the VM)`);
      const r = await phase('demo VM', () =>
        bootVm({
          kernel,
          command: `bash test/lab/scenarios/demo.sh ${port}`,
          hostfwd: [`127.0.0.1:${port}-:${port}`],
          timeoutSec: timeoutSec ?? 24 * 3600,
          memoryMB: 3072,
          keep: values.keep,
        }),
      );
      return r.exitCode;
    }
    case 'test': {
      const kernels = kernelsOf('all');
      return runTests({ kernels, filters: positionals, timeoutSec: timeoutSec ?? 1800 });
    }
    default:
      console.error(`unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof LabError || (e instanceof Error && e.name === 'TypeError' && 'code' in e)) {
      say(`error: ${e.message}`);
    } else {
      console.error(e);
    }
    process.exit(1);
  },
);

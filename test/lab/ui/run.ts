// Host side of the lab UI test: boots a lab VM (test/lab/ui/guest.sh) with sascope and a control
// channel forwarded to free host ports, waits for both, then runs the Playwright specs of this folder
// in Debian's Chromium on the host (LAB_UI_VIEWER and LAB_UI_OPERATOR: sascope's tokens), and powers the VM off. Exit status: Playwright's.
//   npm run test:lab-ui        (part of `npm test`'s lab phase)
import { spawnSync } from 'node:child_process';
import { bootVm } from '../lib/vm.ts';
import { freePort } from '../../helpers.ts';

const kernel = (process.env.SASCOPE_LAB_UI_KERNEL ?? 'debian') as 'debian' | 'custom';
const [port, ctl] = [await freePort(), await freePort()];
const control = `http://127.0.0.1:${ctl}/`;
const t0 = Date.now();
let vmTail: string[] = []; // the VM's last lines: said when it ends early
let vmPartial = ''; // the VM's output after its last newline
/** Resolves when the VM is gone, with why. */
const vm = Promise.resolve()
  .then(() => bootVm({
    kernel,
    command: 'bash test/lab/ui/guest.sh 7300 7301',
    hostfwd: [`127.0.0.1:${port}-:7300`, `127.0.0.1:${ctl}-:7301`],
    timeoutSec: 1800,
    memoryMB: 3072,
    onOutput: (c) => {
      // whole lines only: the console comes in chunks that split lines, and a prefix mid-line garbles them
      const lines = (vmPartial + c).split('\n');
      vmPartial = lines.pop()!;
      if (lines.length) process.stdout.write(lines.map((l) => `[lab-ui vm] ${l}\n`).join(''));
      vmTail = [...vmTail, ...lines.filter((l) => l.trim())].slice(-5);
    },
  }))
  .finally(() => vmPartial && process.stdout.write(`[lab-ui vm] ${vmPartial}\n`))
  .then(
    (r) => [`exit ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}`, r.failure, ...(vmTail.length ? ['its last lines:', ...vmTail] : [])].filter(Boolean).join('\n'),
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );

async function vmRun(cmd: string): Promise<{ code: number; out: string }> {
  const r = await fetch(control, { method: 'POST', body: JSON.stringify({ cmd }), signal: AbortSignal.timeout(60_000) });
  return (await r.json()) as { code: number; out: string };
}

async function until(what: string, fn: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    // raced against the VM's end (which says why), so a VM that fails early fails the run at once
    const ready = await Promise.race([fn().catch(() => false), vm]); // an error: not up yet
    if (typeof ready === 'string') throw new Error(`lab-ui: the VM ended while waiting for ${what}: ${ready}`);
    if (ready) return;
    if (Date.now() > end) throw new Error(`lab-ui: ${what} not ready after ${ms / 1000} s`);
    await Promise.race([new Promise((r) => setTimeout(r, 2000)), vm]);
  }
}

let status = 1;
try {
  await until('control channel', async () => (await vmRun('true')).code === 0, 600_000);
  // Next.js start-up under TCG emulation takes minutes (next.config.ts alone ~2 min measured).
  await until('sascope', async () => (await fetch(`http://127.0.0.1:${port}/api/v1/health`, { signal: AbortSignal.timeout(30_000) })).status < 500, 900_000);
  console.log(`lab-ui: VM and sascope ready in ${Math.round((Date.now() - t0) / 1000)} s`);
  const tokens = JSON.parse((await vmRun('cat /tmp/sascope-lab/ui-data/tokens.json')).out) as { tokens: Array<{ role: string; token: string }> };
  const [viewer, operator] = (['viewer', 'operator'] as const).map((role) => tokens.tokens.find((t) => t.role === role)!.token);
  const r = spawnSync('npx', ['playwright', 'test', '-c', 'test/lab/ui/playwright.config.ts'], {
    stdio: 'inherit',
    env: { ...process.env, LAB_UI_URL: `http://127.0.0.1:${port}`, LAB_UI_CONTROL: control, LAB_UI_VIEWER: viewer, LAB_UI_OPERATOR: operator },
  });
  status = r.status ?? 1;
} catch (err) {
  console.error(String(err));
} finally {
  // guest.sh ends (the VM powers off with an exit status); if it cannot be asked, the VM is powered off
  await vmRun('kill $(cat /tmp/lab-ui.sleep)').catch(() => vmRun('poweroff -f')).catch(() => undefined);
  await Promise.race([vm, new Promise((r) => setTimeout(r, 30_000))]);
}
console.log(`lab-ui: done in ${Math.round((Date.now() - t0) / 1000)} s, exit ${status}`);
process.exit(status);

// The lab boots again when the kernel crashes before the guest command starts (test/lab/lib/vm.ts): under
// MTTCG a Debian boot once died with "Oops: int3" 1.2 s in, and CI failed on a test that had not run yet.
// A stand-in qemu on PATH plays the crashed boots (an Oops, then a hang) and a good one; no VM is booted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const dir = mkdtempSync(path.join(tmpdir(), 'sascope-boot-retry-'));
const bin = path.join(dir, 'bin');
const count = path.join(dir, 'boots');
mkdirSync(bin);
// crashes on the first CRASHES boots: prints an Oops and hangs, as a crashed kworker leaves a boot
writeFileSync(path.join(bin, 'qemu-system-x86_64'), `#!/bin/bash
out=$(printf '%s\\n' "$@" | sed -n 's/^local,path=\\(.*\\),mount_tag=labout,.*/\\1/p')
n=$(cat '${count}' 2>/dev/null || echo 0); echo $((n + 1)) > '${count}'
if [ "$n" -lt "$CRASHES" ]; then echo '[    1.207743] Oops: int3: 0000 [#1] SMP NOPTI'; exec sleep 60; fi
echo SASCOPE-LAB-BEGIN; echo hello from the guest; echo 0 > "$out/rc"; echo SASCOPE-LAB-END
`);
chmodSync(path.join(bin, 'qemu-system-x86_64'), 0o755);
process.env.SASCOPE_LAB_CACHE = path.join(dir, 'cache');
process.env.PATH = `${bin}:${process.env.PATH}`;
const { artifacts } = await import('../../lab/lib/config.ts');
const { bootVm } = await import('../../lab/lib/vm.ts');
const a = artifacts('custom');
for (const f of [a.image, a.initrd]) {
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, '');
}

/** One bootVm; what the lab says on stderr is kept (and asserted), not printed among real runs' lines in CI logs. */
async function boot(crashes: number) {
  rmSync(count, { force: true });
  process.env.CRASHES = String(crashes);
  let output = '';
  let said = '';
  const write = process.stderr.write;
  process.stderr.write = ((s: string | Uint8Array) => ((said += String(s)), true)) as typeof process.stderr.write;
  try {
    const r = await bootVm({ kernel: 'custom', command: 'true', timeoutSec: 30, onOutput: (s) => void (output += s) });
    return { r, output, said, boots: Number(readFileSync(count, 'utf8')) };
  } finally {
    process.stderr.write = write;
  }
}

test('a kernel that crashes while booting is booted again, and the command then runs', async () => {
  const { r, output, said, boots } = await boot(1);
  assert.equal(boots, 2);
  assert.match(said, /the kernel crashed while booting, before the command started \(Oops: int3: 0000 \[#1\] SMP NOPTI; console log: \S+console\.log\); booting again, attempt 2 of 3/);
  assert.equal(r.exitCode, 0);
  assert.equal(r.bootCrash, undefined);
  assert.match(output, /hello from the guest/);
});

test('a kernel that crashes on every boot fails after three boots, naming the crash', async () => {
  const { r, said, boots } = await boot(5);
  assert.equal(boots, 3);
  assert.equal(said.match(/booting again/g)?.length, 2, said);
  assert.equal(r.exitCode, 125);
  assert.match(r.bootCrash ?? '', /^Oops: int3/);
  assert.match(r.failure ?? '', /VM ended without an exit status/);
  rmSync(dir, { recursive: true, force: true });
});

// test/run-all.sh must not let CI shrink silently: a lab test file that is not in LAB_VERIFIED fails the
// run under CI=true (and is only printed locally), while the listed files still run. Run against a copy of
// the script beside this project's lab test file names plus one unlisted file, with npm and npx replaced
// by stubs that log their arguments and pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../helpers.ts';

function runAll(env: Record<string, string>): { status: number | null; out: string; calls: string[] } {
  const dir = mkdtempSync(path.join(tmpdir(), 'sascope-run-all-'));
  try {
    mkdirSync(path.join(dir, 'test/lab/tests'), { recursive: true });
    mkdirSync(path.join(dir, 'stub'));
    copyFileSync(path.join(projectRoot, 'test/run-all.sh'), path.join(dir, 'test/run-all.sh'));
    const labFiles = readdirSync(path.join(projectRoot, 'test/lab/tests')).filter((f) => f.endsWith('.test.ts'));
    for (const f of [...labFiles, 'unlisted.debian.test.ts']) writeFileSync(path.join(dir, 'test/lab/tests', f), '');
    for (const tool of ['npm', 'npx']) {
      writeFileSync(path.join(dir, 'stub', tool), `#!/bin/sh\necho "${tool} $*" >> "${dir}/calls"\necho 'ℹ pass 1'\n`);
      chmodSync(path.join(dir, 'stub', tool), 0o755);
    }
    const r = spawnSync('bash', [path.join(dir, 'test/run-all.sh')], {
      env: { ...process.env, CI: '', SASCOPE_PHASES: '', PATH: `${dir}/stub:${process.env.PATH}`, ...env }, // CI and phases: only as given
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: r.status, out: r.stdout + r.stderr, calls: readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const labRun = (calls: string[]) => calls.find((c) => c.startsWith('npm run -s test:lab -- '));

test('under CI=true a lab test file not in LAB_VERIFIED fails the run, and the listed files still run', () => {
  const r = runAll({ CI: 'true' });
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /lab: CI=true: lab test files not in LAB_VERIFIED .*: unlisted\.debian\n/);
  assert.match(r.out, /lab-list .* 0 passed +1 failed/);
  assert.ok(labRun(r.calls)?.includes('/selftest.debian.test.ts'), r.calls.join('\n'));
  assert.ok(!labRun(r.calls)?.includes('unlisted'));
});

test('locally an unlisted lab test file is printed by name and the run passes', () => {
  const r = runAll({ SASCOPE_PHASES: 'lab' });
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /lab: NOT in this run \(not yet verified in the lab\): unlisted\.debian\n/);
  assert.ok(labRun(r.calls)?.includes('/selftest.debian.test.ts'), r.calls.join('\n'));
});

// The lab wherever the project is: a clone under /tmp must be the guest's working directory, although
// the guest mounts a fresh tmpfs on its own /tmp (test/lab/guest/init2.sh carries the project over).
// One real VM (the Debian kernel): the phase before this one (`npm test`'s provision) provisioned it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { isProvisioned } from '../lab/lib/config.ts';
import { projectRoot } from '../helpers.ts';

const provisioned = isProvisioned('debian');

test('lab: a project under /tmp is the working directory of the guest command', { skip: provisioned || process.env.CI ? false : 'the Debian lab kernel is not provisioned (npm run lab -- provision --kernel debian)' }, () => {
  // the lab's own files are all a project needs to boot a VM from: the copy is its project directory
  const clone = mkdtempSync('/tmp/sascope-lab-clone-');
  try {
    cpSync(path.join(projectRoot, 'test/lab'), path.join(clone, 'test/lab'), { recursive: true });
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(clone, 'test/lab/cli.ts'), 'run', '--kernel', 'debian', '--timeout', '120', 'pwd; ls -1 test/lab/guest'], {
      cwd: projectRoot, // tsx from this project's node_modules
      encoding: 'utf8',
      timeout: 400_000,
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [clone, 'init1.sh', 'init2.sh']);
  } finally {
    rmSync(clone, { recursive: true, force: true });
  }
});

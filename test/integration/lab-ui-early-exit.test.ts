// `npm run test:lab-ui` when its VM fails before sascope is up: it must end at once with the VM's reason,
// not wait out its readiness timeouts (10 + 15 min). One real VM (the Debian kernel), told to start in a
// directory that does not exist, so stage 2 gives up right after boot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { isProvisioned } from '../lab/lib/config.ts';
import { projectRoot } from '../helpers.ts';

const provisioned = isProvisioned('debian');

test('lab-ui: a VM that ends before sascope is ready fails the run at once, saying why', { skip: provisioned || process.env.CI ? false : 'the Debian lab kernel is not provisioned (npm run lab -- provision --kernel debian)' }, () => {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'test/lab/ui/run.ts')], {
    cwd: projectRoot,
    env: { ...process.env, SASCOPE_LAB_UI_KERNEL: 'debian', SASCOPE_LAB_CWD: '/nonexistent-lab-ui-dir' },
    encoding: 'utf8',
    timeout: 240_000, // boot and stage 2 take well under a minute; waiting for readiness took 25
  });
  assert.equal(r.signal, null, `still waiting after ${Math.round((Date.now() - t0) / 1000)} s`);
  assert.notEqual(r.status, 0);
  const kept = /VM run directory \(console\.log, dmesg\): (\S+)/.exec(r.stderr)?.[1]; // kept for a failed VM
  if (kept) rmSync(kept, { recursive: true, force: true });
  assert.match(r.stderr, /lab-ui: the VM ended while waiting for control channel: exit 125\nlab stage 2: no such directory \/nonexistent-lab-ui-dir/);
});

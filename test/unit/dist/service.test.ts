// The systemd units as systemd itself judges them: `systemd-analyze security --offline=true` reads a unit
// file (no systemd needs to run) and scores its exposure, 0 (locked down) to 10. The score may only get
// better than the one recorded here; `systemd-analyze verify` must accept the file. Checked: dist/sascope.service
// and the Debian package's two units as dist/package.sh makes them from it (sascope.service,
// sascope-agent.service). In CI a missing systemd-analyze is a failure (CI=true); elsewhere the test says so and skips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { projectRoot } from '../../helpers.ts';

/** The exposure of each unit when last hardened (dist/sascope.service: 4.8 before SystemCallFilter and the rest). */
const RECORDED_EXPOSURE = { 'sascope.service': 1.6, 'sascope-agent.service': 1.8 };

const analyze = (...args: string[]) => spawnSync('systemd-analyze', args, { encoding: 'utf8' });

function checkUnit(t: TestContext, unit: string, recorded: number, missingCommand?: string): void {
  if (analyze('--version').error) {
    const why = 'systemd-analyze is not installed (Debian: apt-get install systemd)';
    if (process.env.CI === 'true') assert.fail(`${why}: CI must check the unit`);
    return t.skip(why);
  }
  const name = path.basename(unit);
  const r = analyze('security', '--offline=true', '--no-pager', unit);
  const score = Number(new RegExp(`Overall exposure level for ${name.replace('.', '\\.')}: (\\d+(?:\\.\\d+)?)`).exec(r.stdout)?.[1]);
  assert.ok(Number.isFinite(score), `no score in: ${r.stdout.slice(-400)} ${r.stderr}`);
  console.log(`systemd-analyze security --offline=true ${unit}: exposure ${score} (recorded ${recorded})`);
  // An option systemd does not know is ignored with a warning, and would look like hardening that is not there.
  assert.doesNotMatch(r.stderr, /Unknown key|Failed to parse|Invalid/, r.stderr);
  assert.ok(score <= recorded, `exposure ${score} is worse than the recorded ${recorded}:\n${r.stdout.split('\n').filter((l) => l.startsWith('✗')).join('\n')}`);
  const v = analyze('verify', unit);
  // The package's command exists once the package is installed (the lab's package test verifies it there).
  const rest = v.stderr.split('\n').filter((l) => l && !(missingCommand && l.includes(`Command ${missingCommand} is not executable`))).join('\n');
  assert.ok(v.status === 0 || (missingCommand && rest === ''), `systemd-analyze verify ${unit}: ${v.stderr}`);
  assert.doesNotMatch(v.stderr, /Unknown key|Failed to parse/, v.stderr);
}

test(`dist/sascope.service: systemd-analyze security scores it ${RECORDED_EXPOSURE['sascope.service']} or better, and verify accepts it`, (t) => {
  checkUnit(t, path.join(projectRoot, 'dist/sascope.service'), RECORDED_EXPOSURE['sascope.service']);
});

test('the Debian package\'s units (dist/package.sh --units): the same hardening, scored and verified; the agent has no listener and reads agent.env', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sascope-units-'));
  const made = spawnSync('bash', [path.join(projectRoot, 'dist/package.sh'), '--units', dir], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  for (const [name, recorded] of Object.entries(RECORDED_EXPOSURE)) {
    const text = readFileSync(path.join(dir, name), 'utf8');
    assert.match(text, /^User=sascope$/m);
    assert.match(text, /^AmbientCapabilities=CAP_NET_ADMIN$/m);
    assert.match(text, /^CapabilityBoundingSet=CAP_NET_ADMIN$/m);
    assert.match(text, /^StateDirectoryMode=0700$/m);
    assert.doesNotMatch(text, /\/opt\/sascope|^StandardOutput=/m, 'package paths; logs to the journal');
    checkUnit(t, path.join(dir, name), recorded, '/usr/bin/sascope');
  }
  const agent = readFileSync(path.join(dir, 'sascope-agent.service'), 'utf8');
  assert.match(agent, /^EnvironmentFile=\/etc\/sascope\/agent\.env$/m);
  assert.match(agent, /^ExecStart=\/usr\/bin\/sascope agent --nats \$\{SASCOPE_NATS\} --host \$\{SASCOPE_HOST\} /m);
  assert.doesNotMatch(/^ExecStart=.*$/m.exec(agent)![0], /--listen|--netns|serve/, 'no listener, its own namespace');
});

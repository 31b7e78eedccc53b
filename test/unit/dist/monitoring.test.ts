// dist/prometheus/sascope.rules.yml as Prometheus itself reads it (`promtool check rules`, Debian's prometheus
// package), with the alerts the package promises; dist/grafana/sascope-dashboard.json is a dashboard Grafana
// imports (JSON, panels with Prometheus expressions). Which series they name: integration/monitoring.test.ts.
// In CI a missing promtool is a failure (CI=true); elsewhere the test says so and skips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../helpers.ts';

const rules = path.join(projectRoot, 'dist/prometheus/sascope.rules.yml');

test('promtool check rules accepts the alert rules: tunnel down, rekey overdue, hard expiry near, sequence space, source stale, host unreachable', (t) => {
  const r = spawnSync('promtool', ['check', 'rules', rules], { encoding: 'utf8' });
  if (r.error) {
    const why = 'promtool is not installed (Debian: apt-get install prometheus)';
    if (process.env.CI === 'true') assert.fail(`${why}: CI must check the rules`);
    return t.skip(why);
  }
  assert.equal(r.status, 0, `promtool check rules: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /SUCCESS: \d+ rules found/);
  const alerts = [...readFileSync(rules, 'utf8').matchAll(/^\s+- alert: (\S+)$/gm)].map((m) => m[1]);
  for (const a of ['SascopeTunnelDown', 'SascopeRekeyOverdue', 'SascopeHardExpiryNear', 'SascopeSequenceSpace', 'SascopeSourceStale', 'SascopeHostUnreachable']) assert.ok(alerts.includes(a), `${a} in ${alerts.join(', ')}`);
});

test('the Grafana dashboard: JSON with a Prometheus datasource variable, a host variable and an expression per target', () => {
  const dash = JSON.parse(readFileSync(path.join(projectRoot, 'dist/grafana/sascope-dashboard.json'), 'utf8')) as {
    uid: string; templating: { list: Array<{ name: string; type: string }> }; panels: Array<{ id: number; targets: Array<{ expr: string; refId: string }> }>;
  };
  assert.equal(dash.uid, 'sascope');
  assert.deepEqual(dash.templating.list.map((v) => v.name), ['datasource', 'host']);
  assert.equal(new Set(dash.panels.map((p) => p.id)).size, dash.panels.length, 'panel ids unique');
  for (const p of dash.panels) {
    assert.ok(p.targets.length > 0);
    for (const tg of p.targets) assert.ok(tg.expr && tg.refId);
  }
});

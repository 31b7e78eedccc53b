// The monitoring stacks' files (dist/prometheus/sascope.rules.yml, dist/grafana/sascope-dashboard.json) name
// only series sascope really exports: every sascope_* name in them is on /metrics of a running single-host
// serve or of a fleet console fed by a real agent — and the console's series of a host's rows carry host=.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot, requireTestNetns, startServer, type RunningServer } from '../helpers.ts';
import { startAgent, startNatsServer, until, type RunningAgent, type TestNatsServer } from '../fleet-helpers.ts';

requireTestNetns();

let single: RunningServer;
let nats: TestNatsServer;
let fleet: RunningServer;
let agent: RunningAgent;
before(async () => {
  nats = await startNatsServer();
  [single, fleet] = await Promise.all([startServer({ ui: false }), startServer({ ui: false, args: ['--fleet', nats.url] })]);
  agent = startAgent({ nats: nats.url, host: 'gw1' });
});
after(async () => {
  await agent?.stop();
  await fleet?.stop();
  await single?.stop();
  await nats?.stop();
});

const metrics = async (s: RunningServer) => (await fetch(`${s.url}/metrics`)).text();
/** The names /metrics declares (its # TYPE lines), whether or not a series has a value now. */
const exported = (text: string) => new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
const named = (text: string) => new Set([...text.matchAll(/\bsascope_[a-z_]+\b/g)].map((m) => m[0]));

test('every series the alert rules and the dashboard name is one sascope exports; the fleet console\'s carry host=', async () => {
  let last = '';
  const fleetText = await until('the console to have gw1\'s sources', async () => {
    const t = (last = await metrics(fleet));
    return /sascope_source_up\{host="gw1",source="xfrm-sa"\}/.test(t) ? t : undefined;
  }, 60_000).catch((err: Error) => assert.fail(`${err.message}; its /metrics:\n${last.split('\n').filter((l) => !l.startsWith('#')).join('\n')}\nthe agent:\n${agent.output().slice(-2000)}`));
  const names = new Set([...exported(await metrics(single)), ...exported(fleetText)]);
  for (const file of ['dist/prometheus/sascope.rules.yml', 'dist/grafana/sascope-dashboard.json']) {
    const text = readFileSync(path.join(projectRoot, file), 'utf8');
    const used = named(text);
    assert.ok(used.size >= 7, `${file} names ${used.size} series`);
    const unknown = [...used].filter((n) => !names.has(n));
    assert.deepEqual(unknown, [], `${file} names series sascope does not export (it exports ${[...names].join(', ')})`);
  }
  // Every expression is about sascope's series (no other exporter's names).
  const dash = JSON.parse(readFileSync(path.join(projectRoot, 'dist/grafana/sascope-dashboard.json'), 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
  for (const p of dash.panels) for (const t of p.targets) assert.match(t.expr, /sascope_/, t.expr);
  // A host's rows: host= on the console (tunnel series too: unit/hub/metrics.test.ts), none on a single host.
  assert.match(fleetText, /sascope_source_state\{host="gw1",source="xfrm-sa",state="ok"\} 1/);
  assert.match(await metrics(single), /sascope_source_up\{source="xfrm-sa"\}/);
});

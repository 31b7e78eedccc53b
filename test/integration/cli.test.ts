// The command line's bad input and missing pieces: port in use, bad --listen, unknown flags, no root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot, requireTestNetns, startServer } from '../helpers.ts';

requireTestNetns();
const bin = path.join(projectRoot, 'server/bin.mjs');
const run = (args: string[], wrap: string[] = []) => {
  const argv = [...wrap, process.execPath, bin, ...args];
  return spawnSync(argv[0]!, argv.slice(1), { cwd: projectRoot, encoding: 'utf8', timeout: 60_000 });
};

test('--help says how to use it', () => {
  const r = run(['--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /sascope serve \[--listen HOST:PORT\]/);
  assert.match(r.stdout, /sascope snapshot \[--json\]/);
});

test('a bad --listen is one clear line and exit 2', () => {
  for (const bad of ['nonsense', '127.0.0.1:0', '127.0.0.1:99999', ':80']) {
    const r = run(['serve', '--listen', bad]);
    assert.equal(r.status, 2, bad);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /bad --listen/);
  }
});

test('--no-ui serves the API and WebSocket at once and pages as 404 with a hint; --dev with it is refused', async () => {
  assert.equal(run(['serve', '--dev', '--no-ui']).status, 2);
  const s = await startServer({ ui: false });
  try {
    const health = await fetch(`${s.url}/api/v1/health`);
    assert.equal(health.status, 200);
    const page = await fetch(`${s.url}/sas`);
    assert.equal(page.status, 404);
    assert.match(await page.text(), /--no-ui/);
  } finally {
    await s.stop();
  }
});

test('an unknown flag or command is refused', () => {
  assert.equal(run(['serve', '--bogus']).status, 2);
  assert.equal(run(['frobnicate']).status, 2);
});

test('a port in use is one clear line and a non-zero exit', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as { port: number }).port;
  const r = run(['serve', '--listen', `127.0.0.1:${port}`]);
  blocker.close();
  assert.equal(r.status, 1);
  assert.match(r.stderr, /address already in use/);
  assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('sascope:')).length, 1);
});

// Without privilege: the page loads, XFRM says "no permission", links keep working, nothing crashes.
// Capabilities are what the kernel sources check, so they are dropped (bounding set and all: nothing
// regains them on exec) while the user stays root, who can read the tree wherever it was cloned (a
// clone in /root, mode 0700, is unreadable to an unprivileged user).
const withoutCaps = ['setpriv', '--inh-caps=-all', '--ambient-caps=-all', '--bounding-set=-all'];

test('without privilege XFRM is "no permission" and links work (serve)', async () => {
  const s = await startServer({ wrap: withoutCaps });
  try {
    const snap = (await (await fetch(`${s.url}/api/v1/snapshot`)).json()) as { sources: Array<{ id: string; state: string; reason?: string }>; links: unknown[] };
    const xfrm = snap.sources.find((x) => x.id === 'xfrm-policy');
    assert.equal(xfrm?.state, 'no-permission');
    assert.match(xfrm?.reason ?? '', /needs CAP_NET_ADMIN/);
    assert.equal(snap.sources.find((x) => x.id === 'link')?.state, 'ok');
    assert.ok(snap.links.length >= 1);
    const page = await fetch(`${s.url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /sascope/);
  } finally {
    await s.stop();
  }
});

test('without privilege `snapshot --json` still exits 0 with the states', () => {
  const r = run(['snapshot', '--json'], withoutCaps);
  assert.equal(r.status, 0, r.stderr);
  const snap = JSON.parse(r.stdout) as { sources: Array<{ id: string; state: string }> };
  assert.equal(snap.sources.find((x) => x.id === 'xfrm-policy')?.state, 'no-permission');
});

test('snapshot --json is one compact line, --pretty indents the same document, --pretty without --json is refused', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sascope-snapshot-'));
  const compact = run(['snapshot', '--json', '--data-dir', dataDir]);
  assert.equal(compact.status, 0, compact.stderr);
  assert.equal(compact.stdout.indexOf('\n'), compact.stdout.length - 1, 'one line, then the newline');
  const pretty = run(['snapshot', '--json', '--pretty', '--data-dir', dataDir]);
  assert.equal(pretty.status, 0, pretty.stderr);
  assert.match(pretty.stdout, /^\{\n {2}"time": "/);
  const keys = (text: string) => Object.keys(JSON.parse(text) as object);
  assert.deepEqual(keys(pretty.stdout), keys(compact.stdout));
  assert.ok(keys(compact.stdout).includes('tunnels') && keys(compact.stdout).includes('alarms'));
  const refused = run(['snapshot', '--pretty']);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /--pretty needs --json/);
});

test('--netns watches another namespace while the dashboard stays reachable where it was started', async () => {
  const ns = `sascope-watch-${process.pid}`;
  spawnSync('ip', ['netns', 'add', ns]);
  try {
    spawnSync('ip', ['-n', ns, 'xfrm', 'policy', 'add', 'src', '10.91.0.0/16', 'dst', '10.92.0.0/16', 'dir', 'out', 'priority', '91']);
    const s = await startServer({ args: ['--netns', ns] });
    try {
      const snap = (await (await fetch(`${s.url}/api/v1/snapshot`)).json()) as { server: { netns: string }; policies: Array<{ selector: { src: string } }> };
      assert.equal(snap.server.netns, ns);
      assert.ok(snap.policies.some((p) => p.selector.src === '10.91.0.0/16'), 'the policy of the watched netns is shown');
    } finally {
      await s.stop();
    }
    const r = run(['serve', '--listen', '127.0.0.1:7398', '--netns', 'no-such-netns-here']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /netns 'no-such-netns-here' not found/);
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
});

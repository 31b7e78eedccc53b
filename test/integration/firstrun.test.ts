// The first run, as a new user sees it: started on a terminal, sascope prints a sign-in URL that works (a
// viewer token traded for the session cookie) and readable log lines; started under a service manager it
// logs JSON and where the tokens are, never a token; started before `bash setup.sh`, one line says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, projectRoot, readTokens, requireTestNetns, startServer } from '../helpers.ts';

requireTestNetns();
const bin = path.join(projectRoot, 'server/bin.mjs');
const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

test('on a terminal: readable log lines and a sign-in URL that signs the browser in; no operator token anywhere', async () => {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sascope-firstrun-'));
  // script(1) runs the server on a pseudo-terminal: its stderr is a TTY, as when a person starts it.
  const cmd = [process.execPath, bin, 'serve', '--no-ui', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir].map(sh).join(' ');
  const proc = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd: projectRoot, env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  try {
    const deadline = Date.now() + 60_000;
    let url: string | undefined;
    while (!(url = /Sign in \(viewer, read-only\): (\S+)/.exec(out)?.[1])) {
      assert.ok(Date.now() < deadline && proc.exitCode === null, `no sign-in URL on the terminal: ${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const tokens = readTokens(dataDir);
    assert.equal(url, `http://127.0.0.1:${port}/?token=${tokens.viewer}`);
    assert.match(out, new RegExp(`sign in on http://127\\.0\\.0\\.1:${port}/login with the operator token from ${dataDir}/tokens\\.json`));
    assert.ok(!out.includes(tokens.operator), 'the operator token is never printed');
    assert.doesNotMatch(out, /\{"level"/, 'no JSON log lines on a terminal');
    assert.match(out, /^\d\d:\d\d:\d\d\.\d{3} INFO  created an operator and a viewer access token/m);

    // The URL works: the token becomes the session cookie, and the cookie lets the browser in.
    const signIn = await fetch(url, { redirect: 'manual' });
    assert.equal(signIn.status, 303);
    const cookie = signIn.headers.get('set-cookie')?.split(';')[0];
    assert.match(cookie ?? '', /^sascope_token=/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/api/v1/health`)).status, 401);
    assert.equal((await fetch(`http://127.0.0.1:${port}/api/v1/health`, { headers: { cookie: cookie! } })).status, 200);
  } finally {
    // script hangs up its terminal when it goes, and the server with it.
    proc.kill('SIGTERM');
    await new Promise((r) => (proc.exitCode === null ? proc.once('exit', r) : r(null)));
  }
});

test('not on a terminal (a journal, a pipe): JSON lines that say where the tokens are, and no token', async () => {
  const s = await startServer({ access: 'tokens', ui: false });
  try {
    const tokens = s.tokens();
    for (let i = 0; i < 50 && !/sign in on/.test(s.output()); i++) await new Promise((r) => setTimeout(r, 100));
    const out = s.output();
    assert.match(out, new RegExp(`"msg":"sign in on http://127\\.0\\.0\\.1:${s.port}/login with a token from ${s.dataDir}/tokens\\.json"`));
    assert.ok(!out.includes(tokens.viewer) && !out.includes(tokens.operator), 'no token in the log');
    for (const line of out.trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), line);
  } finally {
    await s.stop();
  }
});

test('before `bash setup.sh` (no node_modules): one line saying to run it, exit 1', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sascope-nomodules-'));
  // Node looks for packages in every parent's node_modules: none may exist above the copy.
  for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) assert.ok(!existsSync(path.join(path.dirname(d), 'node_modules')), `${path.dirname(d)}/node_modules exists`);
  cpSync(path.join(projectRoot, 'server'), path.join(dir, 'server'), { recursive: true, filter: (src) => !/[/\\](\.build|node_modules)$/.test(src) });
  cpSync(path.join(projectRoot, 'package.json'), path.join(dir, 'package.json'));
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_PATH: '' };
  delete env['SASCOPE_FROM_SOURCE'];
  const run = () => spawnSync(process.execPath, [path.join(dir, 'server/bin.mjs'), 'serve'], { cwd: dir, env, encoding: 'utf8', timeout: 30_000 });

  // From the sources: tsx is the first package needed.
  let r = run();
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr, `sascope: the package 'tsx' is not installed: run 'bash setup.sh' first (in ${dir})\n`);
  // From a bundle (newer than the sources): its own first package.
  mkdirSync(path.join(dir, 'server/.build'));
  writeFileSync(path.join(dir, 'server/.build/cli.mjs'), "import 'pino';\n");
  r = run();
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr, `sascope: the package 'pino' is not installed: run 'bash setup.sh' first (in ${dir})\n`);
});

// The Node.js floor: package.json's engines.node is the one place it is stated (setup.sh and bin.mjs read
// it, the lock file mirrors it), and it covers the newest Node API the code uses. The table lists the APIs that
// came to the Node 20 line after 20.9 (from Node's own API docs, "added in"), each with how it shows in
// the source; one that is used raises the floor to its version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../helpers.ts';

const NEWER_APIS: Array<{ since: string; api: string; use: RegExp }> = [
  { since: '20.10', api: 'node --test-concurrency', use: /--test-concurrency\b/ },
  { since: '20.11', api: 'import.meta.dirname / filename', use: /\bimport\.meta\.(dirname|filename)\b/ },
  { since: '20.11', api: 'node --test-timeout', use: /--test-timeout\b/ },
  { since: '20.12', api: 'crypto.hash', use: /\bimport\s*\{[^}]*\bhash\b[^}]*\}\s*from\s*'(node:)?crypto'|\bcrypto\.hash\(/ },
  { since: '20.12', api: 'util.styleText', use: /\bstyleText\b/ },
  { since: '20.12', api: 'process.loadEnvFile / util.parseEnv', use: /\b(loadEnvFile|parseEnv)\b/ },
  { since: '20.12', api: 'fs.Dirent.parentPath', use: /\.parentPath\b/ },
  { since: '20.13', api: 'process.availableMemory', use: /\bavailableMemory\(/ },
  { since: '20.13', api: "node:test's suite()", use: /\bimport\s*\{[^}]*\bsuite\b[^}]*\}\s*from\s*'node:test'/ },
  { since: '20.14', api: 'node --test-force-exit', use: /--test-force-exit\b/ },
  { since: '20.15', api: 'zlib.crc32', use: /\bimport\s*\{[^}]*\bcrc32\b[^}]*\}\s*from\s*'(node:)?zlib'|\bzlib\.crc32\(/ },
  { since: '20.15', api: "node:test's t.plan()", use: /\bt\.plan\(/ },
  { since: '20.16', api: 'process.getBuiltinModule', use: /\bgetBuiltinModule\(/ },
  { since: '20.17', api: 'path.matchesGlob', use: /\bmatchesGlob\(/ },
  { since: '20.17', api: 'stream.duplexPair', use: /\bduplexPair\(/ },
  { since: '20.18', api: "node:test's mock.module()", use: /\bmock\.module\(/ },
];

const versionOf = (s: string): number[] => s.split('.').map(Number);
const atLeast = (v: string, floor: string): boolean => {
  const [a, b] = versionOf(v);
  const [fa, fb] = versionOf(floor);
  return a! > fa! || (a === fa && b! >= fb!);
};

/** The project's own code and scripts: sources, tests, benches, build and setup scripts, npm scripts. */
function projectSources(): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(path.join(projectRoot, dir), { withFileTypes: true })) {
      if (['node_modules', '.build', '.next'].includes(e.name)) continue;
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (/\.(ts|tsx|mjs|js|sh)$/.test(e.name)) out.push({ file: rel, text: readFileSync(path.join(projectRoot, rel), 'utf8') });
    }
  };
  for (const d of ['server', 'app', 'components', 'lib', 'test', 'dist']) if (readdirSync(projectRoot).includes(d)) walk(d);
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  out.push({ file: 'package.json scripts', text: Object.values(pkg.scripts).join('\n') });
  const self = path.relative(projectRoot, new URL(import.meta.url).pathname);
  return out.filter((s) => s.file !== self);
}

const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { engines: { node: string } };
const floor = /^>=(\d+\.\d+)$/.exec(pkg.engines.node)?.[1];

test('package.json states the Node floor as ">=MAJOR.MINOR", and it covers every newer Node API the code uses', () => {
  assert.ok(floor, `engines.node is "${pkg.engines.node}"`);
  const needs = NEWER_APIS.flatMap((n) => projectSources().filter((s) => n.use.test(s.text)).map((s) => ({ ...n, file: s.file })));
  const above = needs.filter((n) => !atLeast(floor, n.since));
  assert.deepEqual(above.map((n) => `${n.api} needs Node ${n.since} (${n.file})`), [], `the floor ${floor} is too low`);
});

test('setup.sh checks and names the same floor (read from package.json), the lock file mirrors it', () => {
  const setup = readFileSync(path.join(projectRoot, 'setup.sh'), 'utf8');
  const line = setup.split('\n').find((l) => l.startsWith('node_floor='));
  assert.ok(line, 'setup.sh sets node_floor');
  assert.equal(execFileSync('bash', ['-c', `${line}; echo "$node_floor"`], { cwd: projectRoot, encoding: 'utf8' }).trim(), floor);
  assert.doesNotMatch(setup, /\b(20|22)\.\d+\b/, 'setup.sh states no Node version of its own');
  assert.match(setup, /Node\.js >= \$node_floor/);
  const lock = JSON.parse(readFileSync(path.join(projectRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string } }> };
  assert.equal(lock.packages['']?.engines?.node, pkg.engines.node);
});

test('sascope below the floor says so in one line (server/bin.mjs reads the floor from package.json)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sascope-floor-'));
  try {
    mkdirSync(path.join(dir, 'server'));
    copyFileSync(path.join(projectRoot, 'server/bin.mjs'), path.join(dir, 'server/bin.mjs'));
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ engines: { node: '>=99.0' } }));
    const r = spawnSync(process.execPath, [path.join(dir, 'server/bin.mjs'), '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `sascope: needs Node.js >= 99.0, this is ${process.versions.node}: install a newer nodejs (setup.sh checks it)\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

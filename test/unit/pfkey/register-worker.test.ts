// Where the SADB_REGISTER worker is started from: the sources (tsx) and the bundle that server/build.mjs
// writes (cli.mjs and its chunks under chunks/, the worker an entry at the bundle's root). The lab's
// 'SADB_ADD … PROMISC event' test found the bundle looking for chunks/register-worker.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { registerWorkerUrl } from '../../../server/families/pfkey/register.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bundle = path.join(root, 'server/.build');

test('register worker: from the sources, the .mjs beside register.ts, which exists', () => {
  const url = registerWorkerUrl(pathToFileURL(path.join(root, 'server/families/pfkey/register.ts')).href);
  assert.equal(fileURLToPath(url), path.join(root, 'server/families/pfkey/register-worker.mjs'));
  assert.ok(existsSync(url));
});

test('register worker: from the bundle, the entry at its root, whether the code is in cli.mjs or a chunk', () => {
  for (const from of ['/srv/sascope/server/.build/cli.mjs', '/srv/sascope/server/.build/chunks/chunk-3C6E4RTA.mjs']) {
    assert.equal(fileURLToPath(registerWorkerUrl(pathToFileURL(from).href)), '/srv/sascope/server/.build/register-worker.mjs', from);
  }
});

test('register worker: in the built bundle (server/.build), the file holding register.ts starts a worker that exists', (t) => {
  if (!existsSync(path.join(bundle, 'cli.mjs'))) {
    assert.ok(!process.env.CI, 'CI=true: server/.build is missing (setup.sh builds it)');
    return t.skip('no server/.build (npm run build makes it)');
  }
  const outputs = ['', 'chunks'].flatMap((d) => readdirSync(path.join(bundle, d)).filter((f) => f.endsWith('.mjs')).map((f) => path.join(bundle, d, f)));
  const holders = outputs.filter((f) => /["'`][^"'`\n]*register-worker\.mjs/.test(readFileSync(f, 'utf8')));
  assert.notEqual(holders.length, 0, 'no bundle output starts the register worker');
  for (const f of holders) assert.ok(existsSync(registerWorkerUrl(pathToFileURL(f).href)), `${path.relative(root, f)} would start ${fileURLToPath(registerWorkerUrl(pathToFileURL(f).href))}`);
});

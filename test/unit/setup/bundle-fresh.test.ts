// server/bin.mjs runs the bundle when it is at least as new as the sources it was made from (the build lists
// them in server/.build/inputs.json), else the sources through tsx: a stat per listed source, no walk over the
// tree (0.4 s of `sascope snapshot`'s start-up in the lab VM).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../helpers.ts';

test('bin.mjs: a listed source newer than the bundle runs the sources; an unlisted file does not', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sascope-fresh-'));
  try {
    mkdirSync(path.join(dir, 'server/.build'), { recursive: true });
    copyFileSync(path.join(projectRoot, 'server/bin.mjs'), path.join(dir, 'server/bin.mjs'));
    copyFileSync(path.join(projectRoot, 'package.json'), path.join(dir, 'package.json'));
    symlinkSync(path.join(projectRoot, 'node_modules'), path.join(dir, 'node_modules'));
    const file = (f: string, text: string, ageS: number) => {
      writeFileSync(path.join(dir, f), text);
      const t = Date.now() / 1000 - ageS;
      utimesSync(path.join(dir, f), t, t);
    };
    file('server/cli.ts', "process.stdout.write('sources');\n", 100);
    file('server/listed.ts', '', 100);
    file('server/.build/cli.mjs', "process.stdout.write('bundle');\n", 50);
    file('server/.build/inputs.json', JSON.stringify(['cli.ts', 'listed.ts']), 50);
    const run = () => spawnSync(process.execPath, [path.join(dir, 'server/bin.mjs')], { encoding: 'utf8', env: { ...process.env, SASCOPE_FROM_SOURCE: '' } }).stdout;
    assert.equal(run(), 'bundle');
    file('server/unlisted.ts', '', 0); // no bundled source imports it
    assert.equal(run(), 'bundle');
    file('server/listed.ts', '', 0);
    assert.equal(run(), 'sources');
    // installed from the Debian package: the bundle and its list, no sources (dist/package.sh)
    rmSync(path.join(dir, 'server/listed.ts'));
    rmSync(path.join(dir, 'server/cli.ts'));
    rmSync(path.join(dir, 'server/unlisted.ts'));
    rmSync(path.join(dir, 'node_modules'));
    assert.equal(run(), 'bundle', 'no sources at all (the package)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

#!/usr/bin/env node
// Entry point of the `sascope` command. Runs the compiled bundle (server/.build/cli.mjs, made by
// `npm run build`) when it is newer than every server source; otherwise the TypeScript sources
// through tsx, so an edited source is never shadowed by an old bundle.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const bundle = path.join(here, '.build', 'cli.mjs');

/** The newest mtime of the server's sources, walking the tree: for a bundle without the list of its sources. */
function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === '.build' || e.name === 'node_modules') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (/\.(ts|mjs)$/.test(e.name) && e.name !== 'bin.mjs' && e.name !== 'build.mjs') newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Whether the bundle is at least as new as every server source: those it was made from when the build listed
 * them (server/.build/inputs.json), a stat each — the walk over the tree took 0.4 s of start-up in the lab VM.
 * A new file counts once a source imports it (that source changed).
 */
function bundleFresh() {
  if (!existsSync(bundle)) return false;
  const built = statSync(bundle).mtimeMs;
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(path.join(here, '.build', 'inputs.json'), 'utf8'));
  } catch {
    return built >= newestSource(here);
  }
  // A listed source that is not there is no reason to distrust the bundle: the Debian package ships the
  // bundle and its list but no sources (and a source deleted in a tree changed the one that imported it).
  return inputs.every((f) => (statSync(`${here}/${f}`, { throwIfNoEntry: false })?.mtimeMs ?? 0) <= built);
}

// Below the Node.js floor (package.json's engines.node, ">=MAJOR.MINOR") say so in one line, not with a
// missing export (crypto.hash) somewhere in the import graph.
const floor = JSON.parse(readFileSync(path.join(here, '..', 'package.json'), 'utf8')).engines.node.replace('>=', '');
const [major, minor] = process.versions.node.split('.').map(Number);
const [floorMajor, floorMinor] = floor.split('.').map(Number);
if (major < floorMajor || (major === floorMajor && minor < floorMinor)) {
  process.stderr.write(`sascope: needs Node.js >= ${floor}, this is ${process.versions.node}: install a newer nodejs (setup.sh checks it)\n`);
  process.exit(1);
}

/** Before `bash setup.sh` there is no node_modules: say so in one line, not with a resolver's stack trace. */
function notInstalled(err) {
  const pkg = err?.code === 'ERR_MODULE_NOT_FOUND' ? /Cannot find package '([^']+)'/.exec(err.message)?.[1] : undefined;
  if (!pkg) throw err;
  process.stderr.write(`sascope: the package '${pkg}' is not installed: run 'bash setup.sh' first (in ${path.dirname(here)})\n`);
  process.exit(1);
}

try {
  if (process.env.SASCOPE_FROM_SOURCE !== '1' && bundleFresh()) {
    await import(bundle);
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    await import('./cli.ts');
  }
} catch (err) {
  notInstalled(err);
}

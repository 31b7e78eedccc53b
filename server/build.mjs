// Compiles the server (TypeScript) into one ES module bundle with esbuild, next to the sources:
// server/.build/cli.mjs (+ the PF_KEY register worker). `npm run build` runs it after `next build`.
// server/bin.mjs runs the bundle when it is newer than every server source, else the sources through
// tsx. Why: under the lab's emulated CPU, transpiling ~100 files at start-up takes minutes.
// Dependencies stay in node_modules (packages: 'external'). Code splitting: what cli.ts imports lazily is
// a chunk of its own (server/.build/chunks/), so `sascope snapshot` loads the sources and the model but not
// the hub, the WebSocket server, SQLite or Next.js.
import { build } from 'esbuild';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, '.build');
const result = await build({
  entryPoints: { cli: path.join(here, 'cli.ts'), 'register-worker': path.join(here, 'families/pfkey/register-worker.ts') },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  metafile: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
// Chunks of earlier builds (their names carry a hash of their content) go.
const written = new Set(Object.keys(result.metafile.outputs).map((f) => path.resolve(f)));
for (const f of readdirSync(path.join(out, 'chunks'))) if (!written.has(path.join(out, 'chunks', f)) && !written.has(path.join(out, 'chunks', f.replace(/\.map$/, '')))) rmSync(path.join(out, 'chunks', f));
// The server sources the bundle was made from, for server/bin.mjs's freshness check (a stat each, no directory walk).
const inputs = Object.keys(result.metafile.inputs).map((f) => path.relative(here, path.resolve(f))).filter((f) => !f.startsWith('..'));
writeFileSync(path.join(out, 'inputs.json'), `${JSON.stringify(inputs)}\n`);
console.log('server bundle: server/.build/cli.mjs');

// Compiles the server (TypeScript) into one ES module bundle with esbuild, next to the sources:
// server/.build/cli.mjs (+ the PF_KEY register worker). `npm run build` runs it after `next build`.
// server/bin.mjs runs the bundle when it is newer than every server source, else the sources through
// tsx. Why: under the lab's emulated CPU, transpiling ~100 files at start-up takes minutes.
// Dependencies stay in node_modules (packages: 'external').
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
await build({
  entryPoints: { cli: path.join(here, 'cli.ts'), 'register-worker': path.join(here, 'families/pfkey/register-worker.ts') },
  outdir: path.join(here, '.build'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
console.log('server bundle: server/.build/cli.mjs');

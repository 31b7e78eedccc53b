// Where the project is and which version runs: read by every command, so kept apart from the server's
// wiring (`sascope snapshot` and `--version` load neither the hub nor Next.js).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The directory with package.json above this module (server/ from the sources, server/.build/ from the bundle). */
function findProjectRoot(from: string): string {
  for (let d = from; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'package.json'))) return d;
    if (path.dirname(d) === d) return path.resolve(from, '..');
  }
}
export const projectRoot = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));
export const version: string = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')).version;

// What `sascope snapshot` loads: server/kernel.ts, server/snapshot.ts and server/model/snapshot.ts (cli.ts
// imports them lazily) and everything they import, without the config validator (zod: ~0.3 s of start-up
// on the host, seconds in the lab VM) — the one-shot reads no config file and takes the defaults as values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../helpers.ts';
import { ConfigSchema } from '../../../server/config.ts';
import { ALARM_DEFAULTS, VICI_SOCKET_DEFAULT } from '../../../server/config-defaults.ts';

/** Value imports (not `import type`) of a source file: relative ones resolved, packages by name. */
function valueImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?'([^']+)';/gm)) {
    if (m[1]) continue;
    if (/^import\s*\{[^}]*\}/.test(m[0]) && /^import\s*\{\s*(?:type\s+[\w$]+\s*,?\s*)+\}/.test(m[0])) continue; // only `type` names
    const spec = m[2]!;
    out.push(spec.startsWith('.') ? path.resolve(path.dirname(file), spec) : spec);
  }
  return out;
}

/** Every module reachable by value imports from `start` (project files), failing at the first import of `banned`. */
function assertNoImportOf(banned: string, start: string[]): number {
  const seen = new Set<string>();
  const via = new Map<string, string>();
  const todo = start.map((f) => path.join(projectRoot, f));
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const dep of valueImports(f)) {
      if (dep === banned) assert.fail(`${path.relative(projectRoot, f)} imports ${banned} (reached from ${path.relative(projectRoot, via.get(f) ?? f)})`);
      if (dep.startsWith('/') && !seen.has(dep)) {
        via.set(dep, f);
        todo.push(dep);
      }
    }
  }
  return seen.size;
}

test('the snapshot command loads no zod: its modules import none, directly or through others', () => {
  const walked = assertNoImportOf('zod', ['server/kernel.ts', 'server/snapshot.ts', 'server/model/snapshot.ts']);
  assert.ok(walked > 20, `walked ${walked} modules`);
});

// pino's CommonJS files and the built-in modules they load were ~0.5 s of the one-shot's start-up in the lab VM:
// the snapshot logs through server/log-line.ts; serve and agent load pino (server/log.ts) lazily.
test('the snapshot command loads no pino: cli.ts imports it only lazily, the one-shot modules not at all', () => {
  assertNoImportOf('pino', ['server/cli.ts', 'server/kernel.ts', 'server/snapshot.ts', 'server/model/snapshot.ts']);
});

test('the defaults the one-shot uses are the config schema’s defaults', () => {
  const parsed = ConfigSchema.parse({});
  assert.deepEqual(parsed.alarms, { ...ALARM_DEFAULTS });
  assert.equal(parsed.vici.socket, VICI_SOCKET_DEFAULT);
});

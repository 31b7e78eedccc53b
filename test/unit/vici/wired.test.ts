// The vici source is one of the sources startKernelSources runs, on the config's socket: without charon it is
// 'not available' with the reason in words, and the rest starts as before (a revert of its wiring once went
// unnoticed: 7ceb8d6 took it out of server/kernel.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startKernelSources } from '../../../server/kernel.ts';
import { ConfigSchema } from '../../../server/config.ts';
import { createLogger } from '../../../server/log.ts';

test('startKernelSources runs the vici source on config.vici.socket: no charon → not available, in words', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sascope-vici-wired-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const socket = path.join(dataDir, 'charon.vici');
  const k = startKernelSources(createLogger('silent'), { dataDir, oneShot: true, config: ConfigSchema.parse({ vici: { socket } }) });
  t.after(() => k.stop());
  await k.ready;
  const vici = k.sources.find((s) => s.id === 'vici');
  assert.ok(vici, `sources: ${k.sources.map((s) => s.id).join(', ')}`);
  assert.equal(vici.status.state, 'not-available');
  assert.equal(vici.status.reason, `vici: connect ${socket}: ENOENT (no socket at ${socket}: charon is not running, or its vici plugin is not loaded)`);
  assert.equal(ConfigSchema.parse({}).vici.socket, '/var/run/charon.vici');
});

// The audit list in history: a vici-action row is kept from its start and updated at its end (one row per
// action), read back newest first with since/limit, and survives a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { History } from '../../../server/history/history.ts';
import { Model } from '../../../server/model/model.ts';
import { memoryLogger } from '../memlog.ts';
import type { ViciAction } from '../../../server/wire/vici.ts';

test('vici actions: upserted by key, newest first, kept across a restart', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sascope-hist-'));
  const open = () => {
    const model = new Model();
    const h = new History(model, memoryLogger().log, { dataDir: dir, retentionDays: 7, sampleSeconds: 60, flushMs: 60_000 });
    h.open();
    return { model, h };
  };
  const { model, h } = open();
  const t = Date.now() - 10_000; // within retention (a restart applies it)
  const a: ViciAction = { key: 'a-1', action: 'terminate', target: { ikeId: 3 }, by: 'alice', startedAt: t, result: 'running', log: [] };
  model.upsert('vici-action', a.key, a);
  model.upsert('vici-action', 'b-2', { ...a, key: 'b-2', action: 'rekey', startedAt: t + 2000 });
  model.upsert('vici-action', a.key, { ...a, result: 'ok', endedAt: t + 500, log: ['[IKE] deleting IKE_SA site[3]'] });
  const r = h.viciActions({ limit: 10 });
  assert.deepEqual(r.actions.map((x) => [x.key, x.result]), [['b-2', 'running'], ['a-1', 'ok']]);
  assert.deepEqual(r.actions[1]!.log, ['[IKE] deleting IKE_SA site[3]']);
  assert.deepEqual(h.viciActions({ limit: 1 }).truncated, true);
  assert.deepEqual(h.viciActions({ limit: 10, since: t + 1500 }).actions.map((x) => x.key), ['b-2']);
  h.close();
  const again = open();
  assert.equal(again.h.viciActions({ limit: 10 }).actions.length, 2);
  again.h.close();
});

// The WebSocket limits as configured: the config file's `websocket` keys and --max-clients over them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, parseConfig, resolveServeConfig } from '../../../server/config.ts';

test('websocket limits: defaults, the config keys, --max-clients over the file, bad values refused with the key', () => {
  assert.deepEqual(parseConfig('c.json', '{}').websocket, { maxClients: 1000, messageBurst: 20, messagesPerSecond: 10 });
  assert.deepEqual(parseConfig('c.json', '{"websocket":{"maxClients":50,"messagesPerSecond":2.5}}').websocket, { maxClients: 50, messageBurst: 20, messagesPerSecond: 2.5 });
  assert.throws(() => parseConfig('c.json', '{"websocket":{"maxClients":0}}'), /c\.json: websocket\.maxClients: /);
  assert.throws(() => parseConfig('c.json', '{"websocket":{"clients":5}}'), /unknown key websocket\.clients/);
  const dir = mkdtempSync(path.join(tmpdir(), 'sascope-limits-'));
  writeFileSync(path.join(dir, 'config.json'), '{"websocket":{"maxClients":50}}');
  assert.equal(resolveServeConfig({ dataDir: dir, openLoopback: true }).config.websocket.maxClients, 50);
  assert.equal(resolveServeConfig({ dataDir: dir, openLoopback: true, maxClients: 7 }).config.websocket.maxClients, 7);
  for (const bad of [0, 2.5, Number.NaN, 1e9]) assert.throws(() => resolveServeConfig({ dataDir: dir, openLoopback: true, maxClients: bad }), (err: Error) => err instanceof ConfigError && /^--max-clients: /.test(err.message), String(bad));
});

// Found by test/integration/abuse.test.ts (reconnect flood): a client that connected while a batch of
// deltas was pending (changes made, flush not yet run) got those deltas — from > through, before any
// snapshot — and then its snapshot. The first message a new client sees must be its snapshot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { Hub } from '../../../server/hub/hub.ts';
import { Model } from '../../../server/model/model.ts';
import type { ServerMessage } from '../../../server/wire/protocol.ts';
import { memoryLogger } from '../memlog.ts';

test('a client connecting while deltas are pending gets its snapshot first, then only newer deltas', async () => {
  const model = new Model();
  const hub = new Hub(model, { version: 'test', hostname: 'h', netns: 'n', heartbeatMs: 60_000 }, memoryLogger().log);
  let n = 0;
  const server = createServer((_req, res) => res.end());
  server.on('upgrade', (req, socket, head) => {
    model.upsert('link', String(++n), { index: n, name: `d${n}` }); // pending: the flush runs on setImmediate
    hub.handleUpgrade(req, socket, head);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`;
  try {
    const first = (u: string) =>
      new Promise<ServerMessage[]>((resolve) => {
        const got: ServerMessage[] = [];
        const ws = new WebSocket(u);
        ws.on('message', (d) => {
          got.push(JSON.parse(String(d)) as ServerMessage);
          if (got.length === 1) setTimeout(() => (ws.close(), resolve(got)), 50);
        });
      });
    const a = await first(url);
    const b = await first(`${url}?since=0`);
    for (const msgs of [a]) {
      assert.equal(msgs[0]!.type, 'snapshot', JSON.stringify(msgs[0]).slice(0, 200));
      const snap = msgs[0] as Extract<ServerMessage, { type: 'snapshot' }>;
      for (const m of msgs.slice(1)) if (m.type === 'deltas') assert.ok(m.from === snap.seq + 1 && (m.through ?? 0) >= (m.from ?? 0), JSON.stringify(m).slice(0, 200));
    }
    // Resuming from seq 0: exactly the missed deltas, in one message whose range is whole.
    assert.equal(b[0]!.type, 'deltas', JSON.stringify(b[0]).slice(0, 200));
    const d = b[0] as Extract<ServerMessage, { type: 'deltas' }>;
    assert.equal(d.from, 1);
    assert.deepEqual(d.deltas.map((x) => x.seq), Array.from({ length: d.through ?? 0 }, (_, i) => i + 1));
  } finally {
    hub.close();
    server.closeAllConnections();
    server.close();
  }
});

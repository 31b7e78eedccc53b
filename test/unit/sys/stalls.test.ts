// Event-loop stalls are logged with their length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { watchStalls } from '../../../server/sys/stalls.ts';
import { memoryLogger } from '../memlog.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a 400 ms block of the event loop is logged as a stall, with its length', async () => {
  const { log, lines } = memoryLogger();
  const stop = watchStalls(log, 300, 200);
  await sleep(250);
  const before = lines.length;
  const until = Date.now() + 400;
  while (Date.now() < until); // synchronous work, as a big dump decoded in one go
  await sleep(450);
  stop();
  const after = lines.slice(before);
  assert.ok(after.some((l) => (l['stallMs'] as number) >= 380), JSON.stringify(lines));
  assert.match(String(after[0]!['msg']), /event loop blocked for \d+ ms/);
});

// History across a restart of the real server: the first run's events are still there, the time it was
// down is a gap (clean stop), the database file lives in --data-dir; the live view works meanwhile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requireTestNetns, sh, startServer } from '../helpers.ts';

requireTestNetns();

test('history survives a restart and shows the downtime as a gap', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sascope-hist-'));
  sh('ip xfrm policy flush');
  const a = await startServer({ dataDir });
  sh('ip xfrm policy add src 10.61.0.0/16 dst 10.62.0.0/16 dir out priority 61');
  await new Promise((r) => setTimeout(r, 1500)); // one flush (1 s)
  const ev1 = (await (await fetch(`${a.url}/api/v1/events?type=NEWPOLICY&limit=5`)).json()) as { events: Array<{ summary: string }>; note?: string };
  assert.equal(ev1.note, undefined, 'from history, not memory');
  assert.ok(ev1.events.length >= 1);
  assert.equal(await a.stop(), 0);
  assert.ok(existsSync(path.join(dataDir, 'history.sqlite')));
  sh('ip xfrm policy delete src 10.61.0.0/16 dst 10.62.0.0/16 dir out'); // while sascope is down: not seen, not invented
  const b = await startServer({ dataDir });
  try {
    const h = (await (await fetch(`${b.url}/api/v1/history`)).json()) as { available: boolean; gaps: Array<{ from: number; to: number; how: string }>; rows: { events: number } };
    assert.equal(h.available, true);
    assert.equal(h.gaps.length, 1);
    assert.equal(h.gaps[0]!.how, 'clean');
    assert.ok(h.gaps[0]!.to > h.gaps[0]!.from);
    const ev = (await (await fetch(`${b.url}/api/v1/events?limit=200`)).json()) as { events: Array<{ type: string; source: string }> };
    const types = ev.events.map((e) => e.type);
    assert.ok(types.includes('NEWPOLICY'), 'the first run is still there');
    assert.ok(!types.includes('DELPOLICY'), 'nothing invented for the downtime');
    assert.equal(types.filter((t) => t === 'started').length, 2);
    assert.ok(types.includes('stopped'));
    const st = (await (await fetch(`${b.url}/api/v1/sources`)).json()) as { sources: Array<{ id: string; state: string }> };
    assert.equal(st.sources.find((s) => s.id === 'history')?.state, 'ok');
  } finally {
    assert.equal(await b.stop(), 0);
  }
});

// The browser's store (components/live/store.ts): snapshot, then deltas in sequence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveStore, MAX_EVENTS } from '../../../components/live/store.ts';
import { splitSnapshot, type Delta, type Snapshot, type SnapshotPart } from '../../../server/wire/protocol.ts';
import { ENTITY_KINDS } from '../../../server/wire/protocol.ts';

function snapshot(seq: number, links: Array<{ key: string; name: string }> = []): Snapshot {
  const entities = Object.fromEntries(ENTITY_KINDS.map((k) => [k, []])) as unknown as Snapshot['entities'];
  (entities as Record<string, unknown[]>)['link'] = links;
  return { type: 'snapshot', seq, time: 0, server: { version: 't', hostname: 'h', netns: 'n' }, entities };
}
const up = (seq: number, key: string, name = key): Delta => ({ seq, kind: 'link', op: 'upsert', key, value: { key, name } as never });
const rm = (seq: number, key: string): Delta => ({ seq, kind: 'link', op: 'remove', key });
const names = (s: LiveStore) => [...s.get('link').values()].map((l) => (l as unknown as { name: string }).name).sort();

test('snapshot then deltas', () => {
  const s = new LiveStore();
  const r0 = s.apply(snapshot(10, [{ key: '1', name: 'lo' }, { key: '2', name: 'eth0' }]));
  assert.ok(r0?.changed.has('link'));
  assert.equal(s.seq, 10);
  assert.equal(s.server?.hostname, 'h');
  const r = s.apply({ type: 'deltas', time: 0, deltas: [up(11, '3', 'eth1'), rm(12, '1'), up(13, '2', 'eth0-renamed')] });
  assert.deepEqual(r, { changed: new Set(['link']), gap: false });
  assert.equal(s.seq, 13);
  assert.deepEqual(names(s), ['eth0-renamed', 'eth1']);
  assert.equal(s.apply({ type: 'heartbeat', time: 0, seq: 13 }), undefined);
});

test('a new snapshot replaces everything', () => {
  const s = new LiveStore();
  s.apply(snapshot(1, [{ key: '1', name: 'lo' }]));
  s.apply(snapshot(50, [{ key: '9', name: 'x' }]));
  assert.deepEqual(names(s), ['x']);
  assert.equal(s.seq, 50);
});

test('duplicate deltas (an overlapping resume) are skipped', () => {
  const s = new LiveStore();
  s.apply(snapshot(10));
  s.applyDeltas([up(11, 'a'), up(12, 'b')]);
  const r = s.applyDeltas([up(11, 'a', 'stale'), up(12, 'b', 'stale'), up(13, 'c')]);
  assert.equal(r.gap, false);
  assert.deepEqual(names(s), ['a', 'b', 'c']);
  assert.equal(s.seq, 13);
  assert.deepEqual(s.applyDeltas([up(5, 'old')]), { changed: new Set(), gap: false });
});

test('a gap in the sequence is reported and nothing past it is applied', () => {
  const s = new LiveStore();
  s.apply(snapshot(10));
  const r = s.applyDeltas([up(11, 'a'), up(13, 'c'), up(14, 'd')]);
  assert.equal(r.gap, true);
  assert.equal(s.seq, 11);
  assert.deepEqual(names(s), ['a']);
});

test('events are trimmed to MAX_EVENTS, the oldest first', () => {
  const s = new LiveStore();
  s.apply(snapshot(0));
  const deltas: Delta[] = [];
  for (let i = 1; i <= MAX_EVENTS + 25; i++) deltas.push({ seq: i, kind: 'event', op: 'upsert', key: String(i), value: { key: String(i), id: i } as never });
  s.applyDeltas(deltas);
  const ev = s.get('event');
  assert.equal(ev.size, MAX_EVENTS);
  assert.equal([...ev.keys()][0], '26');
  // and a snapshot with too many events is trimmed too
  const big = snapshot(1);
  (big.entities as Record<string, unknown[]>)['event'] = deltas.map((d) => (d as { value: unknown }).value);
  s.apply(big);
  assert.equal(s.get('event').size, MAX_EVENTS);
});

test('deltas before any snapshot are not applied (a snapshot always comes first)', () => {
  const st = new LiveStore();
  const r = st.applyDeltas([{ seq: 7, kind: 'policy', op: 'remove', key: 'x' }]);
  assert.equal(r.changed.size, 0);
  assert.equal(st.seq, -1);
});

test('a snapshot in parts: the head\'s rows at once, each part adds rows, a part of an older snapshot is ignored, then deltas', () => {
  const s = new LiveStore();
  const row = (i: number) => ({ key: `k${i}`, spi: i });
  const all = Array.from({ length: 25 }, (_, i) => row(i));
  const msgs = splitSnapshot({ type: 'snapshot', seq: 7, time: 0, server: { version: 'v', hostname: 'h', netns: 'n' }, entities: { sa: all } as unknown as Snapshot['entities'] }, 10);
  assert.equal(msgs.length, 3);
  s.apply(msgs[0]!);
  assert.equal(s.get('sa').size, 10);
  assert.equal(s.partsLeft, 2);
  assert.deepEqual(s.totals, { sa: 25 });
  assert.deepEqual([...s.apply({ ...(msgs[1] as SnapshotPart), seq: 3 })!.changed], [], 'a part of another snapshot');
  assert.deepEqual([...s.apply(msgs[1]!)!.changed], ['sa']);
  s.apply(msgs[2]!);
  assert.equal(s.get('sa').size, 25);
  assert.equal(s.partsLeft, 0);
  const r = s.applyDeltas([{ seq: 8, kind: 'sa', op: 'remove', key: 'k24' } as Delta]);
  assert.equal(r.gap, false);
  assert.equal(s.get('sa').size, 24);
});

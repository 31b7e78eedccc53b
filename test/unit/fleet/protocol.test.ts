// The fleet protocol's pure parts: host names, subjects, message ids, snapshot chunking (byte slices that
// join back to the document, whatever the row sizes and multi-byte text) and delta splitting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CHUNK_BYTES, DeltaBatch, FLEET_PROTO, HostRecord, chunkHeader, deltaMessages, deltaMsgId, hostNameProblem, hostOfSubject, hostSubject, joinSnapshot, newBootId, parseChunkHeader, readSnapshot, snapMsgId, snapshotChunks, type FleetDelta,
} from '../../../server/fleet/protocol.ts';
import type { EntityKind } from '../../../server/wire/protocol.ts';

test('host names are one subject token: dots, wildcards and spaces are refused with the rule in words', () => {
  for (const ok of ['gw1', 'gw-east_2', 'A', 'x'.repeat(63)]) assert.equal(hostNameProblem(ok), undefined, ok);
  for (const bad of ['', 'gw.example', 'a*', 'a>', 'a b', '-gw', 'x'.repeat(64), 'gw/1']) assert.match(hostNameProblem(bad) ?? '', /bad host name .*no dots/, bad);
});

test('subjects name their host and kind; anything else is not a host subject', () => {
  assert.equal(hostSubject('gw1', 'delta'), 'sascope.v1.host.gw1.delta');
  assert.deepEqual(hostOfSubject('sascope.v1.host.gw1.snap'), { host: 'gw1', what: 'snap' });
  assert.equal(hostOfSubject('sascope.v1.host.gw1.other'), undefined);
  assert.equal(hostOfSubject('sascope.v1.host.a.b.delta'), undefined);
});

test('message ids and chunk headers', () => {
  const boot = newBootId();
  assert.match(boot, /^[0-9a-f]{16}$/);
  assert.notEqual(newBootId(), boot);
  assert.equal(deltaMsgId('gw1', boot, 42), `gw1.${boot}.42`);
  assert.equal(snapMsgId('gw1', boot, 42, 3), `gw1.snap.${boot}.42.3`);
  assert.deepEqual(parseChunkHeader(chunkHeader(2, 5)), { i: 2, n: 5 });
  for (const bad of [undefined, '', '5/5', '1', 'a/b', '-1/2']) assert.equal(parseChunkHeader(bad), undefined, String(bad));
});

function fakeRows(n: number, text: string): (kind: EntityKind) => unknown[] {
  const sas = Array.from({ length: n }, (_, i) => ({ key: `sa${i}`, name: `${text}${i}`, bytes: String(i * 1000) }));
  return (kind) => (kind === 'sa' ? sas : kind === 'source' ? [{ key: 'xfrm-sa', id: 'xfrm-sa', state: 'ok' }] : []);
}
const head = { proto: FLEET_PROTO, host: 'gw1', boot: '0123456789abcdef', seq: 7, time: 1, server: { version: '0.1.0', hostname: 'h', netns: 'self' } };

test('a snapshot in byte chunks of at most chunkBytes joins back to the same document, multi-byte text split anywhere', () => {
  const rows = fakeRows(3000, 'tunnel «ü» 東京 ');
  const { chunks, bytes } = snapshotChunks(head, rows, 1000);
  assert.ok(chunks.length > 10);
  assert.ok(chunks.every((c) => c.length <= 1000 && c.length > 0));
  assert.ok(chunks.slice(0, -1).every((c) => c.length === 1000), 'every chunk but the last is full');
  assert.equal(chunks.reduce((s, c) => s + c.length, 0), bytes);
  const doc = joinSnapshot(chunks);
  assert.deepEqual(doc.entities.sa, rows('sa'));
  assert.deepEqual(doc.entities.source, rows('source'));
  assert.equal(doc.entities.policy, undefined, 'kinds without rows are left out');
  assert.equal(doc.seq, 7);
});

test('an empty model is one chunk; the default chunk is 512 KiB', () => {
  const { chunks } = snapshotChunks(head, () => []);
  assert.equal(chunks.length, 1);
  assert.deepEqual(joinSnapshot(chunks).entities, {});
  assert.equal(CHUNK_BYTES, 512 * 1024);
  const big = snapshotChunks(head, fakeRows(20_000, 'x'.repeat(60)));
  assert.ok(big.chunks.length > 2 && big.chunks.every((c) => c.length <= CHUNK_BYTES));
});

test('readSnapshot takes a document row by row, a turn of the event loop every 2,000 rows, as joinSnapshot reads it whole', async () => {
  const rows = fakeRows(9000, 'tunnel «ü» 東京 ');
  const { chunks } = snapshotChunks(head, rows, 1000);
  let turns = 0;
  const doc = await readSnapshot(chunks, async () => void turns++);
  assert.deepEqual(doc, joinSnapshot(chunks));
  assert.equal(turns, 4, 'one rest per 2,000 rows: the console never holds its loop for a whole 100k-SA document');
  // A document of an agent from before (no newlines) is still read, whole; a broken one is refused by line.
  const old = Buffer.from(JSON.stringify(joinSnapshot(chunks)));
  assert.deepEqual(await readSnapshot([old], async () => void turns++), doc);
  const text = Buffer.concat(chunks).toString();
  for (const broken of [text.replace('\n,{', '\n,{{'), text.slice(0, -3), text.replace('"sa":[', '"nope":['), `${text}\n{}`, text.replace('\n,{"key":"sa1"', '\n,{"nokey":"sa1"')]) {
    await assert.rejects(readSnapshot([Buffer.from(broken)], async () => undefined), Error, broken.slice(0, 40));
  }
});

const deltas = (from: number, n: number, size = 10): FleetDelta[] => Array.from({ length: n }, (_, i) => ({ seq: from + i, kind: 'policy' as const, op: 'upsert' as const, key: `p${from + i}`, value: { key: `p${from + i}`, pad: 'y'.repeat(size) } }));

test('deltas split into messages under the size bound that cover from..through with no gap, each a valid DeltaBatch', () => {
  // Coalesced: every third seq superseded by a later change of the same entity (no delta of its own).
  const all = deltas(5, 600, 200).filter((d) => d.seq % 3 !== 0);
  const { messages, tooBig } = deltaMessages({ host: 'gw1', boot: head.boot, time: 2 }, all, { from: 3, through: 606 }, 8 * 1024);
  assert.equal(tooBig, false);
  assert.ok(messages.length > 5);
  let next = 3;
  let sent = 0;
  for (const m of messages) {
    assert.ok(m.payload.length <= 8 * 1024, `${m.payload.length}`);
    const b = DeltaBatch.parse(JSON.parse(m.payload.toString()));
    assert.equal(b.from, next);
    assert.equal(b.from, m.from);
    assert.equal(b.through, m.through);
    next = b.through + 1;
    sent += b.deltas.length;
  }
  assert.equal(next, 607);
  assert.equal(sent, all.length);
});

test('a delta bigger than a message is reported, not sent', () => {
  assert.equal(deltaMessages({ host: 'gw1', boot: head.boot, time: 2 }, deltas(1, 1, 5000), { from: 1, through: 1 }, 4096).tooBig, true);
});

test('a batch with deltas out of order or outside from..through, none, or a console-only kind, is refused; superseded seqs may be missing', () => {
  const ok = { proto: 1, host: 'gw1', boot: head.boot, from: 1, through: 2, time: 1, deltas: deltas(1, 2) };
  assert.equal(DeltaBatch.safeParse(ok).success, true);
  assert.equal(DeltaBatch.safeParse({ ...ok, through: 5 }).success, true, 'seqs 3..5 superseded within the batch');
  assert.equal(DeltaBatch.safeParse({ ...ok, deltas: [ok.deltas[1], ok.deltas[0]] }).success, false);
  assert.equal(DeltaBatch.safeParse({ ...ok, deltas: [ok.deltas[0], { ...ok.deltas[1], seq: 3 }] }).success, false);
  assert.equal(DeltaBatch.safeParse({ ...ok, from: 2 }).success, false);
  assert.equal(DeltaBatch.safeParse({ ...ok, deltas: [] }).success, false);
  assert.equal(DeltaBatch.safeParse({ ...ok, from: 2, through: 2, deltas: [{ seq: 2, kind: 'host', op: 'remove', key: 'x' }] }).success, false);
  assert.equal(HostRecord.safeParse({ proto: 1, host: 'gw.1', boot: head.boot, agentVersion: '1', snap: { seq: 1, firstStreamSeq: 1, chunks: 1, bytes: 1 }, time: 1 }).success, false);
});

// The log on stderr: readable lines on a terminal, JSON lines for anything else (a journal, a pipe).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, readableLine } from '../../../server/log.ts';
import { lineLogger } from '../../../server/log-line.ts';

const record = (o: Record<string, unknown>) => JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 2, 3, 4, 5, 67), app: 'sascope', msg: 'xfrm: stale', ...o });

test('a record reads as time, level, message and the other fields as key=value', () => {
  const line = readableLine(record({ source: 'xfrm-sa', reason: 'ENOBUFS (events lost)', resyncs: 2, who: { name: 'ops' } }));
  assert.match(line, /^\d\d:\d\d:\d\d\.067 WARN  xfrm: stale source=xfrm-sa reason="ENOBUFS \(events lost\)" resyncs=2 who=\{"name":"ops"\}\n$/);
  assert.doesNotMatch(line, /app=|level=|time=/);
  // What the message says already is not repeated as a field.
  assert.match(readableLine(record({ msg: 'pfkey: not-available (module af_key not loaded)', source: 'pfkey', reason: 'module af_key not loaded', errno: 'ENOENT' })), / pfkey: not-available \(module af_key not loaded\) errno=ENOENT\n$/);
});

test('levels in words, coloured only when asked; a line that is not JSON passes as it is', () => {
  assert.match(readableLine(record({ level: 50 })), / ERROR xfrm: stale\n$/);
  assert.match(readableLine(record({ level: 30 })), / INFO  xfrm: stale\n$/);
  assert.match(readableLine(record({ level: 50 }), true), / \x1b\[31mERROR\x1b\[0m xfrm: stale\n$/);
  assert.equal(readableLine('not json'), 'not json\n');
});

function sink(isTTY: boolean) {
  const lines: string[] = [];
  return { lines, isTTY, write: (s: string) => void lines.push(s) };
}

test('on a terminal the logger writes readable lines; otherwise JSON lines', () => {
  const tty = sink(true);
  createLogger('info', tty).warn({ source: 'pfkey', errno: 'EPERM' }, 'pfkey: not available');
  assert.equal(tty.lines.length, 1);
  // Coloured unless NO_COLOR is set: compared without the colour.
  assert.match(tty.lines[0]!.replace(/\x1b\[[\d;]*m/g, ''), /^\d\d:\d\d:\d\d\.\d{3} WARN  pfkey: not available errno=EPERM\n$/);

  const pipe = sink(false);
  createLogger('info', pipe).warn({ source: 'pfkey' }, 'pfkey: not available');
  assert.equal(pipe.lines.length, 1);
  const rec = JSON.parse(pipe.lines[0]!) as Record<string, unknown>;
  assert.equal(rec['msg'], 'pfkey: not available');
  assert.equal(rec['source'], 'pfkey');
  assert.equal(rec['level'], 40);
});

test("the one-shot's pino-free logger writes the records pino writes (time aside), at the same levels", () => {
  const pinoSink = sink(false);
  const lineSink = sink(false);
  for (const log of [createLogger('warn', pinoSink), lineLogger('warn', lineSink)]) {
    log.info({ source: 'xfrm-sa' }, 'below the level');
    log.warn({ source: 'xfrm-sa', reason: 'ENOBUFS', resyncs: 2, who: { name: 'ops' }, gone: undefined }, 'xfrm: stale');
    log.warn('a message alone');
    log.error({ source: 'pfkey', err: new Error('boom') }, 'pfkey: failed');
  }
  const records = (lines: string[]) => lines.map((l) => {
    assert.ok(l.endsWith('\n'));
    const { time, ...rest } = JSON.parse(l) as Record<string, unknown>;
    assert.equal(typeof time, 'number');
    return rest;
  });
  assert.equal(lineSink.lines.length, 3);
  assert.deepEqual(records(lineSink.lines), records(pinoSink.lines));
  assert.deepEqual(lineSink.lines.map((l) => Object.keys(JSON.parse(l) as object)), pinoSink.lines.map((l) => Object.keys(JSON.parse(l) as object)), 'fields in the same order');
  const tty = sink(true);
  lineLogger('info', tty).warn({ source: 'pfkey', errno: 'EPERM' }, 'pfkey: not available');
  assert.match(tty.lines[0]!.replace(/\x1b\[[\d;]*m/g, ''), /^\d\d:\d\d:\d\d\.\d{3} WARN  pfkey: not available errno=EPERM\n$/);
  const silent = sink(false);
  lineLogger('silent', silent).fatal('nothing');
  assert.equal(silent.lines.length, 0);
});

// A pino logger that writes its JSON lines to memory, so a test can count what a source logged.
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export interface MemLog {
  log: Logger;
  lines: Array<Record<string, unknown>>;
}

export function memoryLogger(): MemLog {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

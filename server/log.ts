// One logger for the process, on stderr (stdout stays free for `sascope snapshot --json`): JSON lines for
// a journal, a pipe or a file; readable lines when stderr is a terminal (a person is reading).
import { pino } from 'pino';
import { readableLine, type LogSink, type Logger } from './log-line.ts';

export { readableLine, type LogSink, type Logger };

export function createLogger(level = process.env.SASCOPE_LOG_LEVEL ?? 'info', sink: LogSink = process.stderr): Logger {
  const opts = { level, base: { app: 'sascope' } };
  if (!sink.isTTY) return pino(opts, sink === process.stderr ? pino.destination(2) : sink);
  const color = process.env.NO_COLOR === undefined;
  return pino(opts, { write: (line: string) => sink.write(readableLine(line, color)) });
}

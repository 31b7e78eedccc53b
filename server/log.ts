// One logger for the process, on stderr (stdout stays free for `sascope snapshot --json`): JSON lines for
// a journal, a pipe or a file; readable lines when stderr is a terminal (a person is reading).
import { pino, type Logger } from 'pino';

export type { Logger };

/** Where log lines go: stderr, or a test's own. */
export interface LogSink {
  isTTY?: boolean;
  write(line: string): unknown;
}

export function createLogger(level = process.env.SASCOPE_LOG_LEVEL ?? 'info', sink: LogSink = process.stderr): Logger {
  const opts = { level, base: { app: 'sascope' } };
  if (!sink.isTTY) return pino(opts, sink === process.stderr ? pino.destination(2) : sink);
  const color = process.env.NO_COLOR === undefined;
  return pino(opts, { write: (line: string) => sink.write(readableLine(line, color)) });
}

// pino's numeric levels; the colour (ANSI SGR) each is shown in on a terminal.
const LEVELS: Record<number, [word: string, sgr: string]> = { 10: ['TRACE', '2'], 20: ['DEBUG', '2'], 30: ['INFO', '32'], 40: ['WARN', '33'], 50: ['ERROR', '31'], 60: ['FATAL', '1;31'] };
// Fields every record carries: in the line's head, or nothing a reader needs (every line is sascope's).
const HEAD = new Set(['level', 'time', 'msg', 'app']);

/** One pino JSON record as a person reads it: "14:02:07.123 WARN  message key=value …" (local time). */
export function readableLine(json: string, color = false): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const t = new Date(Number(rec['time']));
  const time = `${t.toTimeString().slice(0, 8)}.${String(t.getMilliseconds()).padStart(3, '0')}`;
  const [word, sgr] = LEVELS[Number(rec['level'])] ?? [String(rec['level']), '0'];
  const msg = String(rec['msg'] ?? '');
  // A field whose text the message already says (source, state, reason, file) is not said twice.
  const fields = Object.entries(rec)
    .filter(([k, v]) => !HEAD.has(k) && !(typeof v === 'string' && msg.includes(v)))
    .map(([k, v]) => `${k}=${typeof v === 'string' && /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v)}`);
  const level = color ? `\x1b[${sgr}m${word.padEnd(5)}\x1b[0m` : word.padEnd(5);
  return `${[time, level, msg, ...fields].join(' ')}\n`;
}

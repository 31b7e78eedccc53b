// Log lines without pino: the one-shot `sascope snapshot` logs a warning or two, and loading pino is ~0.5 s of
// its start-up in the lab VM (its CommonJS files and the built-in modules they need). The same records as
// pino writes for server/log.ts (level number, time, app, the fields, msg; an Error as {type, message,
// stack}), and the readable form of a record that both use on a terminal.

/** What sascope calls on a logger: pino's Logger is one, and so is lineLogger's. */
type LogFn = (fieldsOrMessage: object | string, msg?: string) => void;
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
}

/** Where log lines go: stderr, or a test's own. */
export interface LogSink {
  isTTY?: boolean;
  write(line: string): unknown;
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

const LEVEL_NUMBERS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
const errorRecord = (e: Error) => ({ type: e.name, message: e.message, stack: e.stack });

/** A logger writing pino's JSON records (readable lines on a terminal) with no dependency; `level` as for pino ('silent': nothing). */
export function lineLogger(level: string, sink: LogSink = process.stderr): Logger {
  const floor = LEVEL_NUMBERS[level] ?? Infinity;
  const color = process.env.NO_COLOR === undefined;
  const at = (n: number): LogFn => (fieldsOrMessage, msg) => {
    if (n < floor) return;
    const fields = typeof fieldsOrMessage === 'string' ? {} : fieldsOrMessage instanceof Error ? { err: errorRecord(fieldsOrMessage) } : fieldsOrMessage;
    const message = typeof fieldsOrMessage === 'string' ? fieldsOrMessage : msg;
    let json: string;
    try {
      json = JSON.stringify({ level: n, time: Date.now(), app: 'sascope', ...fields, ...(message !== undefined ? { msg: message } : {}) }, (k, v: unknown) =>
        typeof v === 'bigint' ? v.toString() : k === 'err' && v instanceof Error ? errorRecord(v) : v);
    } catch (err) {
      json = JSON.stringify({ level: n, time: Date.now(), app: 'sascope', msg: message, logError: String(err) }); // a circular field: the line, not a throw
    }
    sink.write(sink.isTTY ? readableLine(json, color) : `${json}\n`);
  };
  return { trace: at(10), debug: at(20), info: at(30), warn: at(40), error: at(50), fatal: at(60) };
}

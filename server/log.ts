// One logger for the process: JSON lines on stderr (stdout stays free for `sascope snapshot --json`).
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level = process.env.SASCOPE_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { app: 'sascope' } }, pino.destination(2));
}

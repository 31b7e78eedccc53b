// `sascope snapshot`: every source read once, what derives from them settled, then the model written out.
// It reads the model directly (no hub, no WebSocket server, no Next.js: server/kernel.ts) and streams the
// JSON row by row with the output's backpressure, so 100k SAs never sit in memory as one 80 MB string.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Model } from './model/model.ts';
import { MappedRows } from './model/snapshot.ts';

/** What a snapshot reads: server/kernel.ts's KernelSources, or sources on fake transports in tests. */
export interface KernelReading {
  model: Model;
  ready: Promise<void>;
  /** Resolves when the derived kinds (tunnels, rotations, alarms, cross-checks) have caught up with the sources. */
  settled(): Promise<void>;
  stop(): void;
}

/**
 * The model once every source has done its first dump and the derived kinds have settled; the sources are
 * stopped then, so the model holds still while it is written (a writer waiting for a pipe to drain lets
 * the event loop run).
 */
export async function readOnce(kernel: KernelReading): Promise<Model> {
  await kernel.ready;
  await kernel.settled();
  kernel.stop();
  return kernel.model;
}

/** Rows stringified together in compact output (an SA row is ~1 KB): a few KB, well under a chunk. */
const BATCH = 8;

/** Bytes gathered before each write: big enough that writes are few, small enough to stay off the large-object heap. */
const CHUNK = 64 * 1024;

/**
 * `value` as JSON on `out` — the same text as JSON.stringify(value, null, pretty ? 2 : undefined) — written a
 * chunk at a time, waiting for 'drain' when the stream's buffer is full. Objects and arrays are walked; array
 * elements (entity rows) are stringified one by one (indented) or BATCH together (compact); MappedRows are
 * mapped row by row. Each piece is encoded into the chunk's Buffer as it is made (no string of the chunk to
 * flatten and encode again).
 */
export async function writeJson(out: Writable, value: unknown, pretty = false): Promise<void> {
  const unit = pretty ? '  ' : '';
  let buf = Buffer.allocUnsafe(CHUNK);
  let used = 0;
  /** The chunk to the stream, and a fresh one (the stream may hold the old one until it is written). */
  const ship = () => {
    if (used === 0) return;
    out.write(buf.subarray(0, used));
    buf = Buffer.allocUnsafe(CHUNK);
    used = 0;
  };
  /**
   * Text into the chunk (UTF-8: at least 1 and at most 3 bytes per UTF-16 unit, so the text is measured only
   * when neither bound decides); a piece bigger than a chunk goes out on its own.
   */
  const put = (text: string) => {
    const room = CHUNK - used;
    if (text.length * 3 > room && (text.length > room || Buffer.byteLength(text) > room)) {
      ship();
      if (text.length * 3 > CHUNK && Buffer.byteLength(text) > CHUNK) return void out.write(text);
    }
    used += buf.write(text, used);
  };
  /** A value no walk goes into: its JSON, indented to `indent` (undefined for what JSON leaves out). */
  const leaf = (v: unknown, indent: string): string | undefined => {
    const s = JSON.stringify(v, null, unit || undefined);
    return pretty && s !== undefined && indent ? s.replaceAll('\n', `\n${indent}`) : s;
  };
  const walk = async (v: unknown, indent: string): Promise<void> => {
    const inner = indent + unit;
    const nl = pretty ? `\n${inner}` : '';
    if (v instanceof MappedRows || Array.isArray(v)) {
      const rows: readonly unknown[] = v instanceof MappedRows ? v.rows : v;
      const map = v instanceof MappedRows ? v.map : undefined;
      if (rows.length === 0) return put('[]');
      put('[');
      if (!pretty) {
        // Compact: BATCH rows per JSON.stringify and per encode, not one each (a third of the writer's time); an
        // array's text is its elements' joined by commas, undefined and functions as null, as for a row alone.
        for (let i = 0; i < rows.length; i += BATCH) {
          const batch = rows.slice(i, i + BATCH);
          const text = JSON.stringify(map ? batch.map(map) : batch);
          if (i) put(',');
          put(text.slice(1, -1));
          if (out.writableNeedDrain) await once(out, 'drain');
        }
        return put(']');
      }
      for (let i = 0; i < rows.length; i++) {
        put(i ? `,${nl}` : nl);
        put(leaf(map ? map(rows[i]) : rows[i], inner) ?? 'null');
        // Between rows: wait while the stream's buffer is over its mark (a 'drain' is still to come).
        if (out.writableNeedDrain) await once(out, 'drain');
      }
      put(`\n${indent}]`);
      return;
    }
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON !== 'function') {
      let first = true;
      put('{');
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
        put(`${first ? '' : ','}${nl}${JSON.stringify(k)}:${pretty ? ' ' : ''}`);
        first = false;
        await walk(x, inner);
      }
      put(first ? '}' : `${pretty ? `\n${indent}` : ''}}`);
      return;
    }
    put(leaf(v, indent) ?? 'null');
  };
  await walk(value, '');
  put('\n');
  const last = buf.subarray(0, used);
  // Resolved once the last chunk is handed to the system: the caller may exit then.
  await new Promise<void>((resolve, reject) => out.write(last, (err) => (err ? reject(err) : resolve())));
}

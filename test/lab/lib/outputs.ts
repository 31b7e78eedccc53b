// What a lab test searches for key material: every byte a sascope server wrote, and the search itself.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RunningServer } from '../../helpers.ts';

export interface Output {
  name: string;
  bytes: Buffer;
}

/**
 * Every output of a server, which this stops (exit status 0 asserted by the caller from `status`): the body of
 * each GET route of its OpenAPI document without a path parameter, then `extra` paths and /metrics, the
 * WebSocket frames a client recorded, its log and the history database (file, -wal, -shm, after the stop).
 */
export async function serverOutputs(server: RunningServer, frames: string[], opts: { extra?: string[]; headers?: Record<string, string> } = {}): Promise<{ outputs: Output[]; routes: string[]; status: number | null }> {
  const get = (p: string) => fetch(`${server.url}${p}`, { headers: opts.headers });
  const doc = (await (await get('/api/v1/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
  const routes = Object.entries(doc.paths).filter(([p, ops]) => ops['get'] && !p.includes('{')).map(([p]) => p);
  const outputs: Output[] = [];
  for (const p of [...routes, ...(opts.extra ?? []), '/metrics']) {
    const r = await get(p);
    outputs.push({ name: `HTTP ${p} (${r.status})`, bytes: Buffer.from(await r.arrayBuffer()) });
  }
  const status = await server.stop();
  outputs.push({ name: `WebSocket (${frames.length} frames)`, bytes: Buffer.from(frames.join('\n')) });
  outputs.push({ name: 'server log', bytes: Buffer.from(server.output()) });
  for (const f of ['history.sqlite', 'history.sqlite-wal', 'history.sqlite-shm']) {
    const p = path.join(server.dataDir, f);
    if (existsSync(p)) outputs.push({ name: f, bytes: readFileSync(p) });
  }
  return { outputs, routes, status };
}

/** Where each key (hex, what it is) appears in the outputs: as hex in both cases, base64, base64url or raw bytes. */
export function keyHits(keys: Map<string, string>, outputs: Output[]): string[] {
  const hits: string[] = [];
  for (const [hex, what] of keys) {
    const raw = Buffer.from(hex, 'hex');
    if (raw.length < 8) continue;
    const needles: Array<[string, Buffer]> = [
      ['hex', Buffer.from(hex.toLowerCase())],
      ['HEX', Buffer.from(hex.toUpperCase())],
      ['base64', Buffer.from(raw.toString('base64').replace(/=+$/, ''))],
      ['base64url', Buffer.from(raw.toString('base64url'))],
      ['raw', raw],
    ];
    for (const o of outputs) for (const [how, n] of needles) if (o.bytes.includes(n)) hits.push(`${what} (${hex.slice(0, 8)}…) as ${how} in ${o.name}`);
  }
  return hits;
}

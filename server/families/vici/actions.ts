// Operator actions on charon over VICI: initiate a connection or one of its children, terminate an IKE or
// CHILD SA, rekey one. Each runs on a connection of its own (initiate blocks its connection until the SA is up
// or failed, and the source's reads must not wait behind it), and is a vici-action row from start to end: who,
// what, when, the result and charon's log lines for it. initiate and terminate stream them as control-log
// events; rekey only queues a task, so its lines are the log stream's for that IKE SA during rekeyLogMs after.
// Both are charon's level-1 lines (the vici logger sends nothing above LEVEL_CTRL): names and SPIs, no keys.
// One action at a time per SA: a second on the same SA (or on a CHILD SA whose IKE SA is being acted on) is
// refused in words. Only these three commands are sent; none of them returns key material.
import type { ViciAction, ViciActionName, ViciActionTarget } from '../../wire/vici.ts';
import type { ModelSink } from '../source.ts';
import { DEFAULT_VICI_SOCKET, ViciClient } from './client.ts';
import type { EncodableSection, ViciSection } from './spec.ts';

export interface ViciActionsOptions {
  socketPath?: string;
  /** charon's own limit for initiate/terminate; the connection waits a little longer. */
  timeoutMs?: number;
  /** How long a rekey's log lines are gathered after charon took it. */
  rekeyLogMs?: number;
  /** The IKE SA of a CHILD SA (charon's unique ids), from the source's rows. */
  ikeOfChild?: (childId: number) => number | undefined;
  now?: () => number;
}

export type ViciActionStart = { started: true; row: ViciAction; done: Promise<ViciAction> } | { started: false; message: string };

const MAX_LOG_LINES = 200;
/** Actions kept in the model (the audit list's newest; history keeps them all within retention). */
const MAX_ROWS = 200;

/** A target in words, for refusals and logs: "connection site/net", "IKE SA #3", "CHILD SA #7". */
export function targetWords(t: ViciActionTarget): string {
  return 'conn' in t ? `connection ${t.conn}${t.child ? `/${t.child}` : ''}` : 'ikeId' in t ? `IKE SA #${t.ikeId}` : `CHILD SA #${t.childId}`;
}

/** A log line as swanctl prints it: "[IKE] msg". */
function logLine(m: ViciSection): string | undefined {
  if (typeof m['msg'] !== 'string') return undefined;
  return `${typeof m['group'] === 'string' ? `[${m['group']}] ` : ''}${m['msg']}`;
}

export class ViciActions {
  private readonly running = new Map<string, ViciAction>();
  private readonly kept: string[] = [];
  private counter = 0;
  private readonly now: () => number;

  constructor(private readonly sink: ModelSink, private readonly opts: ViciActionsOptions = {}) {
    this.now = opts.now ?? Date.now;
  }

  /** Start an action: its row (running), or refused in words while another acts on the same SA. */
  start(action: ViciActionName, target: ViciActionTarget, by: string): ViciActionStart {
    const holds = this.holds(target);
    const ike = 'childId' in target ? this.opts.ikeOfChild?.(target.childId) : undefined;
    for (const k of [holds, ...(ike !== undefined ? [`ike:${ike}`] : [])]) {
      const other = this.running.get(k);
      if (other) return { started: false, message: `${other.action} of ${targetWords(other.target)} (by ${other.by}, started ${new Date(other.startedAt).toISOString()}) is still running; ${action} of ${targetWords(target)} refused` };
    }
    const startedAt = this.now();
    const row: ViciAction = { key: `${startedAt}-${++this.counter}`, action, target, by, startedAt, result: 'running', log: [] };
    this.running.set(holds, row);
    this.sink.upsert('vici-action', row.key, { ...row });
    this.kept.push(row.key);
    if (this.kept.length > MAX_ROWS) this.sink.remove('vici-action', this.kept.shift()!);
    const done = this.run(row, ike).finally(() => this.running.delete(holds));
    return { started: true, row: { ...row }, done };
  }

  private holds(t: ViciActionTarget): string {
    return 'conn' in t ? `conn:${t.conn}/${t.child ?? ''}` : 'ikeId' in t ? `ike:${t.ikeId}` : `child:${t.childId}`;
  }

  private async run(row: ViciAction, ikeOfChild: number | undefined): Promise<ViciAction> {
    const t = row.target;
    const timeoutMs = this.opts.timeoutMs ?? 30_000;
    const log = (m: ViciSection) => {
      const line = logLine(m);
      if (line !== undefined && row.log.length < MAX_LOG_LINES) row.log.push(line);
    };
    const rekeyIke = 'ikeId' in t ? t.ikeId : ikeOfChild;
    let client: ViciClient | undefined;
    try {
      client = await ViciClient.connect({
        path: this.opts.socketPath ?? DEFAULT_VICI_SOCKET,
        timeoutMs: timeoutMs + 5000,
        // The rekey's lines: the log stream's for its IKE SA (another SA's lines are not this action's).
        onEvent: (name, m) => name === 'log' && (rekeyIke === undefined || m['ikesa-uniqueid'] === String(rekeyIke)) && log(m),
      });
      const args: EncodableSection =
        'conn' in t ? { ike: t.conn, ...(t.child ? { child: t.child } : {}) } : 'ikeId' in t ? { 'ike-id': String(t.ikeId) } : { 'child-id': String(t.childId) };
      let response: ViciSection;
      if (row.action === 'rekey') {
        if (!(await client.register('log'))) throw new Error('charon has no log event');
        response = (await client.command('rekey', args)).response;
      } else {
        if (!(await client.register('control-log'))) throw new Error('charon has no control-log event');
        const r = await client.command(row.action, { ...args, timeout: String(timeoutMs), loglevel: '1' }, 'control-log');
        for (const m of r.streamed) log(m);
        response = r.response;
      }
      if (response['success'] === 'yes') {
        if (row.action === 'rekey') await new Promise((r) => setTimeout(r, this.opts.rekeyLogMs ?? 3000));
        row.result = 'ok';
      } else {
        row.result = 'failed';
        row.error = typeof response['errmsg'] === 'string' ? response['errmsg'] : `charon answered ${row.action} without success`;
      }
    } catch (err) {
      row.result = 'failed';
      row.error = err instanceof Error ? err.message : String(err);
    } finally {
      client?.close();
    }
    row.endedAt = this.now();
    this.sink.upsert('vici-action', row.key, { ...row, log: [...row.log] });
    this.sink.event({ source: 'vici', type: 'operator-action', summary: `${row.by}: ${row.action} ${targetWords(t)}: ${row.result === 'ok' ? 'done' : `failed (${row.error})`}` });
    return row;
  }
}

// A thread of the fleet bench (test/bench/fleet.ts), so that neither side waits for the other's event loop:
// - `agents`: simulated agents, each a FleetAgent (server/fleet/agent.ts, the real publisher) with its own
//   NATS connection on its own Model of XFRM SAs decoded from the lab zoo's first SA (as backend-heap.ts);
//   on `run`, this thread's share of the fleet's changes/s: one SA's byte counter at a time, the counter
//   carrying the change's number (unique across threads), each change's time kept;
// - `client`: a WebSocket client of the console as the UI opens it (?parts=1), keeping when each SA
//   change arrived (before parsing it) and counting the snapshots it is sent.
// Times are performance.timeOrigin + performance.now() in every thread: one clock, this machine's.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { parseMessages } from '../../server/netlink/message.ts';
import { decodeSaMessage } from '../../server/families/xfrm/sa.ts';
import { Model } from '../../server/model/model.ts';
import { FleetAgent } from '../../server/fleet/agent.ts';
import { createLogger } from '../../server/log.ts';
import type { Delta, ServerMessage } from '../../server/wire/protocol.ts';

export type WorkerData = { role: 'agents'; thread: number; nats: string; first: number; count: number; sas: number } | { role: 'client'; url: string };
export type ToWorker = { type: 'run'; rate: number; seconds: number } | { type: 'report' } | { type: 'stop' };
/** Event-loop delay of the thread while it ran (ms): p99 and max. */
export type LoopDelay = { p99: number; max: number };
export type FromWorker =
  | { type: 'started' }
  /** made: per change its number, when it was made, the agent and the SA (4 numbers each). */
  | { type: 'ran'; made: Float64Array; startedAt: number; endedAt: number; loop: LoopDelay }
  | { type: 'snapshot'; sas: number }
  /** seen: per SA change received, its number and when it arrived (2 numbers each). */
  | { type: 'report'; seen: Float64Array; snapshots: number; loop: LoopDelay }
  | { type: 'stopped' };

/** Change numbers of thread t start at (t + 1) × this: unique across threads, exact as a double. */
export const NUMBERS_PER_THREAD = 1e9;
const now = () => performance.timeOrigin + performance.now();
const port = parentPort!;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const data = workerData as WorkerData;
const delay = monitorEventLoopDelay({ resolution: 5 });
const loop = (): LoopDelay => ({ p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 });

if (data.role === 'agents') {
  const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
  const zoo = (JSON.parse(readFileSync(path.join(fixtures, 'xfrm/sa-dump-zoo.fixture.json'), 'utf8')) as { messages: Array<{ hex: string }> }).messages;
  const template = parseMessages(Buffer.from(zoo[0]!.hex, 'hex'))[0]!;
  /** SA i of agent a: the zoo SA with destination and SPI changed (struct xfrm_usersa_info: id.daddr at 56, id.spi at 72). */
  const sa = (a: number, i: number) => {
    const payload = Buffer.from(template.payload);
    payload.writeUInt32BE((0x0a000000 + a * 1024 + i) >>> 0, 56);
    payload.writeUInt32BE(0x10000 + i, 72);
    const d = decodeSaMessage({ ...template, payload });
    if (d?.kind !== 'upsert') throw new Error('the zoo SA did not decode');
    return d.sa;
  };
  type Sa = ReturnType<typeof sa>;
  const log = createLogger('warn');
  const fleet: Array<{ a: number; model: Model; agent: FleetAgent; sas: Sa[] }> = [];
  for (let a = data.first; a < data.first + data.count; a++) {
    const model = new Model();
    const sas: Sa[] = [];
    for (let i = 0; i < data.sas; i++) {
      const s = sa(a, i);
      sas.push(s);
      model.upsert('sa', s.key, s);
    }
    const agent = new FleetAgent(model, { url: data.nats, identity: `gw${a}` }, log, {
      host: `gw${a}`, agentVersion: 'bench', server: { version: 'bench', hostname: `gw${a}`, netns: 'self' },
      heartbeatSeconds: 5, snapshotSeconds: 300, ready: Promise.resolve(),
    });
    agent.start();
    fleet.push({ a, model, agent, sas });
  }
  post({ type: 'started' });

  /** `rate` changes/s for `seconds`: every 5 ms the changes due by then (a late timer catches up, it does not lower the rate). */
  const run = async (rate: number, seconds: number) => {
    const made: number[] = [];
    let n = (data.thread + 1) * NUMBERS_PER_THREAD;
    delay.reset();
    delay.enable();
    const startedAt = now();
    const total = Math.round(rate * seconds);
    let done = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(total, Math.floor(((now() - startedAt) / 1000) * rate));
        for (; done < due; done++) {
          const f = fleet[Math.floor(Math.random() * fleet.length)]!;
          const i = Math.floor(Math.random() * data.sas);
          const s = f.sas[i]!;
          const number = ++n;
          const next = { ...s, lifetime: { ...s.lifetime, current: { ...s.lifetime.current, bytes: BigInt(number) } } };
          f.sas[i] = next;
          made.push(number, now(), f.a, i);
          f.model.upsert('sa', next.key, next);
        }
        if (done >= total) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    delay.disable();
    const out = Float64Array.from(made);
    post({ type: 'ran', made: out, startedAt, endedAt: now(), loop: loop() }, [out.buffer]);
  };
  port.on('message', (m: ToWorker) => {
    if (m.type === 'run') void run(m.rate, m.seconds);
    else if (m.type === 'stop') void Promise.all(fleet.map((f) => f.agent.stop())).then(() => post({ type: 'stopped' }));
  });
} else {
  const seen: number[] = [];
  let snapshots = 0;
  let partsLeft = 0;
  let sas = 0;
  const ws = new WebSocket(`${data.url.replace(/^http/, 'ws')}/ws?parts=1`);
  delay.enable();
  ws.on('message', (raw) => {
    const at = now();
    const msg = JSON.parse(String(raw)) as ServerMessage;
    if (msg.type === 'snapshot') {
      snapshots++;
      partsLeft = msg.parts ?? 0;
      sas = msg.entities.sa?.length ?? 0;
    } else if (msg.type === 'snapshot-part') {
      partsLeft--;
      sas += msg.entities.sa?.length ?? 0;
    } else if (msg.type === 'deltas') {
      for (const d of msg.deltas as Delta[]) {
        if (d.kind === 'sa' && d.op === 'upsert') seen.push(Number((d.value as { lifetime: { current: { bytes: string } } }).lifetime.current.bytes), at);
      }
    }
    if ((msg.type === 'snapshot' || msg.type === 'snapshot-part') && partsLeft === 0) post({ type: 'snapshot', sas });
  });
  ws.on('error', (err) => {
    throw err;
  });
  port.on('message', (m: ToWorker) => {
    if (m.type === 'run') delay.reset(); // its event-loop delay over the run, not over its snapshot
    else if (m.type === 'report') {
      const out = Float64Array.from(seen);
      post({ type: 'report', seen: out, snapshots, loop: loop() }, [out.buffer]);
    } else if (m.type === 'stop') {
      ws.close();
      delay.disable();
      post({ type: 'stopped' });
    }
  });
}

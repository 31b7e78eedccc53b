// /metrics for Prometheus (prom-client), read from the model at scrape time (nothing is counted on the
// event path). Needs a viewer token like every other route (the gate runs first).
//
// Label cardinality is bounded — never a label per SPI or per SA, so 100k SAs cost nothing here:
// - tunnel series: a tunnel is labelled by its key (and a human name) only if it is one of the first
//   `maxTunnelSeries` tunnels seen (default 200); a labelled tunnel keeps its label while it exists (so its
//   series does not jump between buckets), and its slot is freed when it goes. Every other tunnel is summed
//   into tunnel="other" (seconds to expiry: the soonest of them). So per-tunnel metrics have at most
//   maxTunnelSeries + 1 label values whatever the number of SAs, tunnels or rekeys.
// - source, state, alarm type and severity are fixed small sets.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Model } from '../model/model.ts';
import type { OnWire, SourceStatus } from '../wire/entities.ts';
import { ALARM_TYPES, type Alarm, type Tunnel } from '../wire/tunnels.ts';
import { sendError } from './http.ts';

export const OTHER = 'other';
const STATES = ['starting', 'ok', 'stale', 'no-permission', 'not-available', 'error'] as const;

export interface MetricsOptions {
  maxTunnelSeries: number;
  history?: { metrics(): { ok: boolean; queued: number; sizeBytes: number } };
}

interface Bucket {
  name: string;
  family: string;
  bytes: bigint;
  packets: bigint;
  integrity: number;
  replay: number;
  replayWindow: number;
  rotations: number;
  soft?: number;
  hard?: number;
  seq?: number;
}

export class Metrics {
  readonly registry = new Registry();
  /** Tunnels that have their own label (sticky while they exist). */
  private readonly labelled = new Set<string>();
  private readonly model: Model;

  constructor(model: Model, private readonly opts: MetricsOptions) {
    this.model = model;
    const reg = [this.registry];
    const buckets = () => this.buckets();
    const setCounter = (c: Counter<string>, pick: (b: Bucket) => number | bigint, extra: Record<string, string> = {}) => {
      c.reset();
      for (const [key, b] of buckets()) c.inc({ tunnel: key, name: b.name, family: b.family, ...extra }, Number(pick(b)));
    };
    new Counter({ name: 'sascope_tunnel_bytes_total', help: 'Bytes carried by the tunnel since sascope first saw it, continuous across rekeys', labelNames: ['tunnel', 'name', 'family'], registers: reg, collect() { setCounter(this, (b) => b.bytes); } });
    new Counter({ name: 'sascope_tunnel_packets_total', help: 'Packets carried by the tunnel since sascope first saw it, continuous across rekeys', labelNames: ['tunnel', 'name', 'family'], registers: reg, collect() { setCounter(this, (b) => b.packets); } });
    new Counter({
      name: 'sascope_tunnel_errors_total', help: 'Per-SA failure counters (struct xfrm_stats) summed over the tunnel', labelNames: ['tunnel', 'name', 'family', 'error'], registers: reg,
      collect() {
        this.reset();
        for (const [key, b] of buckets()) {
          const l = { tunnel: key, name: b.name, family: b.family };
          this.inc({ ...l, error: 'integrity' }, b.integrity);
          this.inc({ ...l, error: 'replay' }, b.replay);
          this.inc({ ...l, error: 'replay_window' }, b.replayWindow);
        }
      },
    });
    new Counter({ name: 'sascope_tunnel_rotations_total', help: 'Rekeys (rotations) of the tunnel', labelNames: ['tunnel', 'name', 'family'], registers: reg, collect() { setCounter(this, (b) => b.rotations); } });
    new Gauge({
      name: 'sascope_tunnel_seconds_to_expiry', help: 'Seconds until the current SA reaches its soft or hard time limit (negative: passed); "other": the soonest', labelNames: ['tunnel', 'name', 'limit'], registers: reg,
      collect() {
        this.reset();
        const now = Date.now();
        for (const [key, b] of buckets()) {
          if (b.soft !== undefined) this.set({ tunnel: key, name: b.name, limit: 'soft' }, Math.round((b.soft - now) / 1000));
          if (b.hard !== undefined) this.set({ tunnel: key, name: b.name, limit: 'hard' }, Math.round((b.hard - now) / 1000));
        }
      },
    });
    new Gauge({
      name: 'sascope_tunnel_sequence_used_percent', help: 'Share of the sequence number space used by the current SA; "other": the highest', labelNames: ['tunnel', 'name'], registers: reg,
      collect() {
        this.reset();
        for (const [key, b] of buckets()) if (b.seq !== undefined) this.set({ tunnel: key, name: b.name }, b.seq);
      },
    });
    new Gauge({
      name: 'sascope_tunnels', help: 'Tunnels by state', labelNames: ['state'], registers: reg,
      collect() {
        this.reset();
        const n = { up: 0, rekeying: 0, down: 0 };
        for (const t of model.list('tunnel') as Array<OnWire<Tunnel>>) n[t.state]++;
        for (const [s, v] of Object.entries(n)) this.set({ state: s }, v);
      },
    });
    new Gauge({ name: 'sascope_security_associations', help: 'XFRM SAs in the model', registers: reg, collect() { this.set(model.count('sa')); } });
    new Gauge({ name: 'sascope_policies', help: 'XFRM policies in the model', registers: reg, collect() { this.set(model.count('policy')); } });
    new Gauge({
      name: 'sascope_source_up', help: '1 when the source is ok', labelNames: ['source'], registers: reg,
      collect() {
        this.reset();
        for (const s of model.list('source') as Array<OnWire<SourceStatus>>) this.set({ source: s.id }, s.state === 'ok' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'sascope_source_state', help: "1 for the source's current state", labelNames: ['source', 'state'], registers: reg,
      collect() {
        this.reset();
        for (const s of model.list('source') as Array<OnWire<SourceStatus>>) for (const st of STATES) this.set({ source: s.id, state: st }, s.state === st ? 1 : 0);
      },
    });
    new Gauge({
      name: 'sascope_alarms', help: 'Alarms raised now, by type and severity', labelNames: ['type', 'severity'], registers: reg,
      collect() {
        this.reset();
        const n = new Map<string, number>();
        for (const a of model.list('alarm') as Array<OnWire<Alarm>>) n.set(`${a.type}\0${a.severity}`, (n.get(`${a.type}\0${a.severity}`) ?? 0) + 1);
        for (const t of ALARM_TYPES) for (const sev of ['warning', 'critical']) this.set({ type: t, severity: sev }, n.get(`${t}\0${sev}`) ?? 0);
      },
    });
    const history = opts.history;
    if (history) {
      new Gauge({ name: 'sascope_history_ok', help: '1 when history writes succeed', registers: reg, collect() { this.set(history.metrics().ok ? 1 : 0); } });
      new Gauge({ name: 'sascope_history_queued_rows', help: 'Rows waiting for the next history commit', registers: reg, collect() { this.set(history.metrics().queued); } });
      new Gauge({ name: 'sascope_history_file_bytes', help: 'Size of the history database file', registers: reg, collect() { this.set(history.metrics().sizeBytes); } });
    }
  }

  /** Tunnels folded into at most maxTunnelSeries labelled buckets plus "other". */
  private buckets(): Map<string, Bucket> {
    const tunnels = this.model.list('tunnel') as Array<OnWire<Tunnel>>;
    const present = new Set(tunnels.map((t) => t.key));
    for (const k of this.labelled) if (!present.has(k)) this.labelled.delete(k);
    const out = new Map<string, Bucket>();
    for (const t of tunnels) {
      if (!this.labelled.has(t.key) && this.labelled.size < this.opts.maxTunnelSeries) this.labelled.add(t.key);
      const own = this.labelled.has(t.key);
      const key = own ? t.key : OTHER;
      let b = out.get(key);
      if (!b) out.set(key, (b = { name: own ? t.name : 'other tunnels', family: own ? t.family : 'mixed', bytes: 0n, packets: 0n, integrity: 0, replay: 0, replayWindow: 0, rotations: 0 }));
      b.bytes += BigInt(t.bytes);
      b.packets += BigInt(t.packets);
      b.integrity += t.integrityFailed;
      b.replay += t.replayFailed;
      b.replayWindow += t.replayWindowFailed;
      b.rotations += t.rotations;
      const cd = t.countdown;
      if (cd?.softExpiresAt !== undefined) b.soft = Math.min(b.soft ?? Infinity, cd.softExpiresAt);
      if (cd?.hardExpiresAt !== undefined) b.hard = Math.min(b.hard ?? Infinity, cd.hardExpiresAt);
      if (cd?.sequenceUsedPercent !== undefined) b.seq = Math.max(b.seq ?? 0, cd.sequenceUsedPercent);
    }
    return out;
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'method-not-allowed', `${req.method} is not allowed on /metrics`, { allow: 'GET' });
    void this.text().then(
      (body) => {
        res.writeHead(200, { 'content-type': this.registry.contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => sendError(res, 500, 'internal', `metrics failed: ${String(err)}`),
    );
  }
}

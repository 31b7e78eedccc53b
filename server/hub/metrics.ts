// /metrics for Prometheus (prom-client), read from the model at scrape time (nothing is counted on the
// event path). Needs a viewer token like every other route (the gate runs first).
//
// Label cardinality is bounded — never a label per SPI or per SA, so 100k SAs cost nothing here:
// - tunnel series: a tunnel is labelled by its key (and a human name) only if it is one of the first
//   `maxTunnelSeries` tunnels seen (default 200); a labelled tunnel keeps its label while it exists (so its
//   series does not jump between buckets), and its slot is freed when it goes. Every other tunnel is summed
//   into tunnel="other" (seconds to expiry: the soonest of them). So per-tunnel metrics have at most
//   maxTunnelSeries + 1 label values whatever the number of SAs, tunnels or rekeys.
// - every counter series only grows (rate() reads a decrease as a reset and counts the whole value again):
//   "other" adds what its tunnels gained since the last scrape, so a tunnel that goes, or that takes a
//   freed label, leaves what it brought; a tunnel's own series starts at its total when it is labelled and
//   then adds its gains too. A tunnel counter that went down (an ovpn peer made anew) gains its new value.
// - source, state, alarm type and severity are fixed small sets.
// - wireguard peers: one series per peer (labels device and public_key, as the WireGuard exporters have
//   them; public keys are public, the private and preshared keys never reach the model). Peers are
//   configured, not made per rekey, so their number is the configuration's. The handshake is a Unix time.
// - the fleet console (serve --fleet) adds `host` to every series of a host's rows (tunnels, sources, alarms;
//   "other" is one bucket per host), so a host's series never collide with another's; a single-host serve has none.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Model } from '../model/model.ts';
import { SOURCE_STATES, type OnWire, type SourceStatus } from '../wire/entities.ts';
import { ALARM_TYPES, TUNNEL_STATES, type Alarm, type Tunnel } from '../wire/tunnels.ts';
import { sendError } from './http.ts';
import { HOST_STATES, hostKey, type FleetHost, type OnHost } from '../wire/fleet.ts';
import type { WireguardPeer } from '../wire/wireguard.ts';

export const OTHER = 'other';

/** A count per tunnel state, every state at 0 (from TUNNEL_STATES: a new state gets its series without an edit here). */
const noTunnels = () => Object.fromEntries(TUNNEL_STATES.map((s) => [s, 0])) as Record<Tunnel['state'], number>;

export interface MetricsOptions {
  maxTunnelSeries: number;
  history?: { metrics(): { ok: boolean; queued: number; sizeBytes: number } };
  /** The fleet console (serve --fleet): its hosts by state, and each host's dropped messages. */
  fleet?: boolean;
}

/** A tunnel's counters as /metrics exports them. */
const COUNTERS = ['bytes', 'packets', 'integrity', 'replay', 'replayWindow', 'rotations'] as const;
type Counts = Record<(typeof COUNTERS)[number], bigint>;

function countsOf(t: OnWire<Tunnel>): Counts {
  return {
    bytes: BigInt(t.bytes),
    packets: BigInt(t.packets),
    integrity: BigInt(t.integrityFailed),
    replay: BigInt(t.replayFailed),
    replayWindow: BigInt(t.replayWindowFailed),
    rotations: BigInt(t.rotations),
  };
}

/** into += what `now` gained over `before` (all of `now` where a counter went down: it started again). */
function addGain(into: Counts, now: Counts, before?: Counts): void {
  for (const c of COUNTERS) into[c] += before && now[c] >= before[c] ? now[c] - before[c] : now[c];
}

/** The `host` label of a row from a fleet host (none in a single-host serve). */
function hostLabel(row: OnHost): { host?: string } {
  return row.host === undefined ? {} : { host: row.host };
}

/** One exported series: its labels, fixed when it starts, and its running totals. */
interface Series {
  /** The `tunnel` label: the tunnel's key, or OTHER. */
  tunnel: string;
  host?: string;
  name: string;
  family: string;
  counts: Counts;
}

interface Bucket extends Series {
  soft?: number;
  hard?: number;
  seq?: number;
}

export class Metrics {
  readonly registry = new Registry();
  /** Tunnels that have their own label (sticky while they exist). */
  private readonly labelled = new Set<string>();
  /** Running totals by tunnel label (a labelled tunnel's key, or OTHER), and each tunnel's counters at the last scrape. */
  private readonly series = new Map<string, Series>();
  private readonly lastSeen = new Map<string, Counts>();
  private readonly model: Model;

  constructor(model: Model, private readonly opts: MetricsOptions) {
    this.model = model;
    const reg = [this.registry];
    const buckets = () => this.buckets();
    const setCounter = (c: Counter<string>, pick: (b: Bucket) => number | bigint, extra: Record<string, string> = {}) => {
      c.reset();
      for (const b of buckets().values()) c.inc({ tunnel: b.tunnel, ...hostLabel(b), name: b.name, family: b.family, ...extra }, Number(pick(b)));
    };
    new Counter({ name: 'sascope_tunnel_bytes_total', help: 'Bytes carried by the tunnel since sascope first saw it, continuous across rekeys', labelNames: ['tunnel', 'host', 'name', 'family'], registers: reg, collect() { setCounter(this, (b) => b.counts.bytes); } });
    new Counter({ name: 'sascope_tunnel_packets_total', help: 'Packets carried by the tunnel since sascope first saw it, continuous across rekeys', labelNames: ['tunnel', 'host', 'name', 'family'], registers: reg, collect() { setCounter(this, (b) => b.counts.packets); } });
    new Counter({
      name: 'sascope_tunnel_errors_total', help: 'Per-SA failure counters (struct xfrm_stats) summed over the tunnel', labelNames: ['tunnel', 'host', 'name', 'family', 'error'], registers: reg,
      collect() {
        this.reset();
        for (const b of buckets().values()) {
          const l = { tunnel: b.tunnel, ...hostLabel(b), name: b.name, family: b.family };
          this.inc({ ...l, error: 'integrity' }, Number(b.counts.integrity));
          this.inc({ ...l, error: 'replay' }, Number(b.counts.replay));
          this.inc({ ...l, error: 'replay_window' }, Number(b.counts.replayWindow));
        }
      },
    });
    new Counter({ name: 'sascope_tunnel_rotations_total', help: 'Rekeys (rotations) of the tunnel', labelNames: ['tunnel', 'host', 'name', 'family'], registers: reg, collect() { setCounter(this, (b) => b.counts.rotations); } });
    new Gauge({
      name: 'sascope_tunnel_seconds_to_expiry', help: 'Seconds until the current SA reaches its soft or hard time limit (negative: passed); "other": the soonest', labelNames: ['tunnel', 'host', 'name', 'limit'], registers: reg,
      collect() {
        this.reset();
        const now = Date.now();
        for (const b of buckets().values()) {
          const l = { tunnel: b.tunnel, ...hostLabel(b), name: b.name };
          if (b.soft !== undefined) this.set({ ...l, limit: 'soft' }, Math.round((b.soft - now) / 1000));
          if (b.hard !== undefined) this.set({ ...l, limit: 'hard' }, Math.round((b.hard - now) / 1000));
        }
      },
    });
    new Gauge({
      name: 'sascope_tunnel_sequence_used_percent', help: 'Share of the sequence number space used by the current SA; "other": the highest', labelNames: ['tunnel', 'host', 'name'], registers: reg,
      collect() {
        this.reset();
        for (const b of buckets().values()) if (b.seq !== undefined) this.set({ tunnel: b.tunnel, ...hostLabel(b), name: b.name }, b.seq);
      },
    });
    new Gauge({
      name: 'sascope_tunnels', help: 'Tunnels by state', labelNames: ['host', 'state'], registers: reg,
      collect() {
        this.reset();
        const byHost = new Map<string | undefined, Record<Tunnel['state'], number>>([[undefined, noTunnels()]]);
        for (const t of model.list('tunnel') as Array<OnWire<Tunnel> & OnHost>) {
          let n = byHost.get(t.host);
          if (!n) byHost.set(t.host, (n = noTunnels()));
          n[t.state]++;
        }
        // A console (rows with hosts) has no tunnels of its own: no series without a host.
        if (byHost.size > 1 || opts.fleet) byHost.delete(undefined);
        for (const [host, n] of byHost) for (const [s, v] of Object.entries(n)) this.set({ ...hostLabel({ host }), state: s }, v);
      },
    });
    new Gauge({ name: 'sascope_security_associations', help: 'XFRM SAs in the model', registers: reg, collect() { this.set(model.count('sa')); } });
    new Gauge({ name: 'sascope_policies', help: 'XFRM policies in the model', registers: reg, collect() { this.set(model.count('policy')); } });
    new Gauge({
      name: 'sascope_source_up', help: '1 when the source is ok', labelNames: ['host', 'source'], registers: reg,
      collect() {
        this.reset();
        for (const s of model.list('source') as Array<OnWire<SourceStatus> & OnHost>) this.set({ ...hostLabel(s), source: s.id }, s.state === 'ok' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'sascope_source_state', help: "1 for the source's current state", labelNames: ['host', 'source', 'state'], registers: reg,
      collect() {
        this.reset();
        for (const s of model.list('source') as Array<OnWire<SourceStatus> & OnHost>) for (const st of SOURCE_STATES) this.set({ ...hostLabel(s), source: s.id, state: st }, s.state === st ? 1 : 0);
      },
    });
    new Gauge({
      name: 'sascope_alarms', help: 'Alarms raised now, by type and severity (a fleet host\'s alarms: by host too)', labelNames: ['host', 'type', 'severity'], registers: reg,
      collect() {
        this.reset();
        const n = new Map<string, number>();
        const hosts = new Set<string>();
        for (const a of model.list('alarm') as Array<OnWire<Alarm> & OnHost>) {
          const at = `${a.host ?? ''}\0${a.type}\0${a.severity}`;
          n.set(at, (n.get(at) ?? 0) + 1);
          if (a.host !== undefined) hosts.add(a.host);
        }
        // Every type and severity is a series (0 when none), per host in a console (the console's own alarms: no host).
        for (const host of [undefined, ...hosts]) for (const t of ALARM_TYPES) for (const sev of ['warning', 'critical']) this.set({ ...hostLabel({ host }), type: t, severity: sev }, n.get(`${host ?? ''}\0${t}\0${sev}`) ?? 0);
      },
    });
    const wgPeers = () => model.list('wg-peer') as Array<OnWire<WireguardPeer> & OnHost>;
    const wgLabels = (p: OnWire<WireguardPeer> & OnHost) => ({ ...hostLabel(p), device: p.device, public_key: p.publicKey });
    for (const [name, help, pick] of [
      ['sascope_wireguard_peer_receive_bytes_total', 'Bytes received from the wireguard peer (the kernel\'s counter: it starts again with the peer or its interface)', (p: OnWire<WireguardPeer>) => p.rxBytes],
      ['sascope_wireguard_peer_transmit_bytes_total', 'Bytes sent to the wireguard peer (the kernel\'s counter: it starts again with the peer or its interface)', (p: OnWire<WireguardPeer>) => p.txBytes],
    ] as const) {
      new Counter({
        name, help, labelNames: ['host', 'device', 'public_key'], registers: reg,
        collect() {
          this.reset();
          for (const p of wgPeers()) this.inc(wgLabels(p), Number(pick(p)));
        },
      });
    }
    new Gauge({
      name: 'sascope_wireguard_peer_last_handshake_seconds', help: "The wireguard peer's last completed handshake, Unix time in seconds (0: none yet)", labelNames: ['host', 'device', 'public_key'], registers: reg,
      collect() {
        this.reset();
        for (const p of wgPeers()) this.set(wgLabels(p), p.lastHandshake === undefined ? 0 : Math.floor(p.lastHandshake / 1000));
      },
    });
    if (opts.fleet) {
      const hosts = () => model.list('host') as FleetHost[];
      new Gauge({
        name: 'sascope_fleet_hosts', help: 'Hosts of the fleet console by state', labelNames: ['state'], registers: reg,
        collect() {
          this.reset();
          for (const st of HOST_STATES) this.set({ state: st }, hosts().filter((h) => h.state === st).length);
        },
      });
      new Counter({
        name: 'sascope_fleet_dropped_messages_total', help: "Messages from the host dropped as malformed or oversized (since this console started)", labelNames: ['host'], registers: reg,
        collect() {
          this.reset();
          for (const h of hosts()) this.inc({ host: h.host }, h.dropped);
        },
      });
    }
    const history = opts.history;
    if (history) {
      new Gauge({ name: 'sascope_history_ok', help: '1 when history writes succeed', registers: reg, collect() { this.set(history.metrics().ok ? 1 : 0); } });
      new Gauge({ name: 'sascope_history_queued_rows', help: 'Rows waiting for the next history commit', registers: reg, collect() { this.set(history.metrics().queued); } });
      new Gauge({ name: 'sascope_history_file_bytes', help: 'Size of the history database file', registers: reg, collect() { this.set(history.metrics().sizeBytes); } });
    }
  }

  /** Tunnels folded into at most maxTunnelSeries labelled buckets plus "other" (kept once there was one: its total stays). */
  private buckets(): Map<string, Bucket> {
    const tunnels = this.model.list('tunnel') as Array<OnWire<Tunnel> & OnHost>;
    const present = new Set(tunnels.map((t) => t.key));
    for (const k of this.labelled) {
      if (present.has(k)) continue;
      this.labelled.delete(k);
      this.series.delete(k); // its series ends; "other" keeps what it has
    }
    for (const k of this.lastSeen.keys()) if (!present.has(k)) this.lastSeen.delete(k);
    const out = new Map<string, Bucket>();
    for (const t of tunnels) {
      if (!this.labelled.has(t.key) && this.labelled.size < this.opts.maxTunnelSeries) this.labelled.add(t.key);
      const own = this.labelled.has(t.key);
      const key = own ? t.key : t.host === undefined ? OTHER : hostKey(t.host, OTHER);
      const now = countsOf(t);
      let s = this.series.get(key);
      const fresh = !s;
      if (!s) this.series.set(key, (s = { tunnel: own ? t.key : OTHER, ...hostLabel(t), name: own ? t.name : 'other tunnels', family: own ? t.family : 'mixed', counts: { bytes: 0n, packets: 0n, integrity: 0n, replay: 0n, replayWindow: 0n, rotations: 0n } }));
      // A tunnel named after its first scrape (strongSwan's "conn/child (peer id)", joined after its SAs) is named so here too.
      else if (own && s.name !== t.name) s.name = t.name;
      // A new series starts at the tunnel's total; after that, and in "other", only gains are added.
      addGain(s.counts, now, fresh ? undefined : this.lastSeen.get(t.key));
      this.lastSeen.set(t.key, now);
      let b = out.get(key);
      if (!b) out.set(key, (b = { ...s }));
      const cd = t.countdown;
      if (cd?.softExpiresAt !== undefined) b.soft = Math.min(b.soft ?? Infinity, cd.softExpiresAt);
      if (cd?.hardExpiresAt !== undefined) b.hard = Math.min(b.hard ?? Infinity, cd.hardExpiresAt);
      if (cd?.sequenceUsedPercent !== undefined) b.seq = Math.max(b.seq ?? 0, cd.sequenceUsedPercent);
    }
    for (const [key, s] of this.series) if (s.tunnel === OTHER && !out.has(key)) out.set(key, { ...s });
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

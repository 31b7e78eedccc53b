// XFRM SAs, live: GETSA dump + the SA-related groups of the family's shared monitor (events.ts):
// NEWSA/UPDSA/DELSA, EXPIRE (soft, hard), NEWAE, ACQUIRE, REPORT, MAPPING, FLUSHSA, MIGRATE.
//
// Counter freshness (lifetime.current bytes/packets, anti-replay):
// 1. aevents: with a listener on XFRMNLGRP_AEVENTS the kernel sends NEWAE for SAs with anti-replay state
//    (replay window or ESN; every netlink-made SA gets replay_maxdiff/maxage from the sysctls
//    xfrm_aevent_rseqth/etime) when the sequence moved by the threshold or the timer passed with traffic.
//    Each one updates that SA at once. It costs the kernel one message per threshold crossing (strongSwan
//    pair in the lab: ~7/s); SAs without a replay window (e.g. inbound `ip xfrm state add` defaults) send none.
// 2. A bounded refresh for everything else: a full GETSA dump every refreshIntervalMs (default 5 s), but never
//    more than maxDutyCycle of the time (default 5 %): after a dump that took D ms the next one waits at least
//    D / maxDutyCycle. A GETSA dump is the only way to read counters without a per-SA request, and the kernel
//    cannot filter it by "has no aevents". Unchanged SAs produce no delta (the model compares).
//    Cost at 100k SAs: one dump is ~43 MB of netlink messages (≈ 430 B per SA) decoded in node. Measured by
//    test/bench/xfrm-dump.ts in the lab VM (TCG emulation on a loaded 2-core host, so slow in absolute terms):
//    10k SAs: dump+decode 5.9 s (ip -s xfrm state 2.5 s), an unchanged refresh into the model 14.7 s;
//    100k SAs: dump+decode 40.9 s (ip 21.7 s), unchanged refresh 75.9 s → the duty cap spaces refreshes
//    ≥ 25 min apart. So at 100k, counters of SAs without aevents are up to D/0.05 old and the process spends
//    ≤ 5 % of a core on it; SAs with a replay window (every IKE daemon's) stay fresh through NEWAE regardless.
import { NETLINK_XFRM } from '../../netlink/constants.ts';
import { NetlinkConnection, openNetlinkTransport, type Transport } from '../../netlink/conn.ts';
import type { NetlinkMessage } from '../../netlink/message.ts';
import type { Logger } from '../../log.ts';
import type { SecurityAssociation } from '../../wire/xfrm.ts';
import type { EventCode } from '../../wire/entities.ts';
import { Source, inSlices, type ModelSink } from '../source.ts';
import { XfrmEvents, joinXfrmEvents } from './events.ts';
import { fingerprintSecretState } from '../fingerprint.ts';
import { decodeSaMessage, type SaMessage } from './sa.ts';
import { XFRM_MSG, XFRM_MSG_NAME } from './spec.ts';

/** The message types this source handles on the shared monitor. */
export const SA_EVENT_TYPES = [
  XFRM_MSG.NEWSA, XFRM_MSG.UPDSA, XFRM_MSG.DELSA, XFRM_MSG.EXPIRE, XFRM_MSG.NEWAE, XFRM_MSG.ACQUIRE,
  XFRM_MSG.REPORT, XFRM_MSG.MAPPING, XFRM_MSG.FLUSHSA, XFRM_MSG.MIGRATE, XFRM_MSG.MIGRATE_STATE,
] as const;

const hex32 = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

export function describeSa(sa: Pick<SecurityAssociation, 'proto' | 'spi' | 'src' | 'dst' | 'mode' | 'reqid' | 'aead' | 'enc' | 'auth'>): string {
  const algs = [sa.aead, sa.enc, sa.auth]
    .filter((a) => a !== undefined)
    .map((a) => `${a.name}${a.fingerprint ? ` #${a.fingerprint}` : ''}`)
    .join(' + ');
  return `${sa.proto} spi ${hex32(sa.spi)} ${sa.src} → ${sa.dst} ${sa.mode}${sa.reqid ? ` reqid ${sa.reqid}` : ''}${algs ? ` [${algs}]` : ''}`;
}

export interface XfrmSaSourceOptions {
  /** Test seam: a transport in place of a NETLINK_XFRM socket. */
  transport?: Transport;
  /** The family's shared monitor; without one (and without a test transport) the source opens its own. */
  events?: XfrmEvents;
  /** Bounded counter refresh: a GETSA dump at most this often (0 = off). Default 5000. */
  refreshIntervalMs?: number;
  /** Share of wall time the refresh may take (0 < x ≤ 1). Default 0.05. */
  maxDutyCycle?: number;
}

export class XfrmSaSource extends Source {
  private conn: NetlinkConnection | undefined;
  private leaveEvents: (() => void) | undefined;
  private countersTimer: NodeJS.Timeout | undefined;
  /** Bumped by start() and stop(): a refresh chain belongs to one run, so a stop ends it and a start (the
   * retry after "not available") begins a new one instead of finding the source stopped for good. */
  private run = 0;
  /** Duration of the last full dump (ms), for the refresh's duty-cycle bound. */
  lastDumpMs = 0;
  /** When the next bounded refresh is due (ms since epoch), for the UI's "counters as of". */
  nextRefreshAt: number | undefined;

  constructor(sink: ModelSink, log: Logger, private readonly opts: XfrmSaSourceOptions = {}) {
    super('xfrm-sa', 'XFRM security associations', sink, log);
    this.liveDuringDump = true; // a counter refresh at 100k SAs runs for tens of seconds: events must not wait for it
  }

  /** An ok state still says when fingerprints are not comparable across restarts. */
  protected override okReason(): string | undefined {
    const fp = fingerprintSecretState();
    return fp.persisted ? undefined : fp.reason;
  }

  async start(): Promise<void> {
    const run = ++this.run;
    try {
      this.conn = new NetlinkConnection('xfrm', this.opts.transport ?? openNetlinkTransport('xfrm', NETLINK_XFRM));
      const events = this.opts.events ?? (this.opts.transport ? undefined : new XfrmEvents());
      if (events) this.leaveEvents = joinXfrmEvents(events, SA_EVENT_TYPES, this);
      await this.resync('start');
      this.scheduleRefresh(run);
    } catch (err) {
      this.failed(err);
    }
  }

  private scheduleRefresh(run: number): void {
    const every = this.opts.refreshIntervalMs ?? 5000;
    if (every <= 0 || run !== this.run) return;
    const duty = Math.min(1, Math.max(0.001, this.opts.maxDutyCycle ?? 0.05));
    const wait = Math.max(every, this.lastDumpMs / duty);
    this.nextRefreshAt = Date.now() + wait;
    this.countersTimer = setTimeout(() => {
      void this.refreshCounters().finally(() => this.scheduleRefresh(run));
    }, wait);
    this.countersTimer.unref();
  }

  private async refreshCounters(): Promise<void> {
    const st = this.status.state;
    if (st === 'starting' || st === 'no-permission' || st === 'not-available') return;
    try {
      await this.redump();
      if (this.status.state !== 'ok') this.setState('ok', this.okReason());
    } catch (err) {
      // A failed refresh (e.g. a truncated part) leaves the model as it was; the next one tries again.
      this.failed(err);
    }
  }

  protected async dumpAll(): Promise<void> {
    const t0 = performance.now();
    const parts = await this.conn!.dump(XFRM_MSG.GETSA, Buffer.alloc(0), { op: 'dump SAs', timeoutMs: 60_000 });
    const items: Array<{ key: string; value: SecurityAssociation }> = [];
    let failures = 0;
    await inSlices(parts, (m) => {
      try {
        const d = decodeSaMessage(m);
        if (d?.kind === 'upsert') items.push({ key: d.sa.key, value: d.sa });
      } catch (err) {
        failures++;
        this.decodeFailed(err, 'SA in dump');
      }
    });
    parts.length = 0;
    // An SA that failed to decode is not gone: with failures, update what decoded and remove nothing.
    if (failures === 0) await this.replaceAllInSlices('sa', items);
    else await inSlices(items, ({ key, value }) => this.sink.upsert('sa', key, value));
    this.lastDumpMs = performance.now() - t0;
  }

  eventDatagramFailed(err: unknown): void {
    this.decodeFailed(err, 'event datagram');
  }

  /** Handle one SA-related message (public for tests that replay fixtures). */
  onEvent(m: NetlinkMessage): void {
    let d: SaMessage | undefined;
    try {
      d = decodeSaMessage(m);
    } catch (err) {
      this.decodeFailed(err, XFRM_MSG_NAME[m.type] ?? `message ${m.type}`);
      return;
    }
    if (!d) return;
    this.dataSeen();
    const msg = d;
    this.applyEvent(() => this.apply(msg, XFRM_MSG_NAME[m.type] ?? String(m.type)));
  }

  private apply(d: SaMessage, type: string): void {
    const ev = (t: string, summary: string, key?: string, code?: EventCode) =>
      this.sink.event({ source: this.id, type: t, summary, ...(code ? { code } : {}), ...(key ? { subject: { kind: 'sa', key } } : {}) });
    switch (d.kind) {
      case 'upsert':
        this.sink.upsert('sa', d.sa.key, d.sa);
        ev(d.type, describeSa(d.sa), d.sa.key);
        return;
      case 'remove':
        this.sink.remove('sa', d.sa.key);
        ev('DELSA', describeSa(d.sa), d.sa.key, 'sa-deleted');
        return;
      case 'expire': {
        if (d.hard) {
          // A hard expire deletes the SA in the kernel without a DELSA message.
          this.sink.remove('sa', d.sa.key);
        } else {
          // EXPIRE carries the header only (no algorithms): its counters go into the SA the model holds.
          this.sink.patch('sa', d.sa.key, { lifetime: d.sa.lifetime, stats: d.sa.stats }, d.sa);
        }
        ev(d.hard ? 'EXPIRE hard' : 'EXPIRE soft', describeSa(d.sa), d.sa.key, d.hard ? 'sa-hard-expire' : 'sa-soft-expire');
        return;
      }
      case 'aevent': {
        const { ae } = d;
        // NEWAE carries counters and replay state only: merged into the SA the model holds (none: nothing to do).
        this.sink.patch('sa', ae.id.key, {
          ...(ae.current ? { lifetime: { current: ae.current } } : {}),
          ...(ae.antiReplay ? { antiReplay: ae.antiReplay } : {}),
          ...(ae.replayThresh !== undefined ? { replayThresh: ae.replayThresh } : {}),
          ...(ae.etimerThresh !== undefined ? { etimerThresh: ae.etimerThresh } : {}),
        });
        const cur = ae.current ? ` ${ae.current.bytes} bytes ${ae.current.packets} packets` : '';
        ev('NEWAE', `${ae.id.proto} spi ${hex32(ae.id.spi)} → ${ae.id.dst} (${ae.flags.join(',') || 'no flags'})${cur}`, ae.id.key);
        return;
      }
      case 'acquire': {
        const a = d.acquire;
        ev('ACQUIRE', `${a.id.proto} for ${a.selector.src} → ${a.selector.dst} (${a.src} → ${a.id.dst}) policy ${a.policyIndex} seq ${hex32(a.seq)}`);
        return;
      }
      case 'report':
        ev('REPORT', `${d.proto} ${d.selector.src} → ${d.selector.dst}${d.coaddr ? ` coaddr ${d.coaddr}` : ''}`);
        return;
      case 'mapping':
        ev('MAPPING', `${d.id.proto} spi ${hex32(d.id.spi)} → ${d.id.dst}: NAT mapping ${d.oldSrc}:${d.oldSport} → ${d.newSrc}:${d.newSport}`, d.id.key);
        return;
      case 'flush':
        ev('FLUSHSA', `all ${d.proto} SAs flushed`);
        void this.resync(`SAs flushed (${d.proto})`).catch(() => undefined);
        return;
      case 'migrate':
        ev(d.type, 'SAs migrated');
        void this.resync(type).catch(() => undefined);
        return;
    }
  }

  stop(): void {
    this.run++;
    clearTimeout(this.countersTimer);
    this.countersTimer = undefined;
    this.leaveEvents?.();
    this.conn?.close();
  }
}

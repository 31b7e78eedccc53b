// Alarms of strongSwan's connections (the vici source's rows), raised in the tunnels' alarm book (so history,
// metrics and the alarm list see them like the others), ref "vici-conn:<name>":
//   ike-down (critical): a configured connection to a named peer has no IKE SA, after it had one while sascope
//     watched or after a failed negotiation — a responder-only or road-warrior template (remote %any, or none
//     seen up and no failure) is not down, it waits;
//   ike-auth-failed (critical): its last negotiation failed authentication and it is not up;
// and of charon's certificates, ref "vici-cert:<fingerprint>": cert-expired (critical) past notAfter,
// cert-expiring (warning) within certWarnDays of it (checked on every change and hourly).
// Only while the vici source is ok: a stale source has its own alarm (source-stale), and its rows are old.
import type { Model, ModelChange } from './model.ts';
import type { AlarmBook, AlarmWanted } from './alarms.ts';
import type { SourceStatus } from '../wire/entities.ts';
import { namesItsPeer, VICI_FAILURE_WORDS, type ViciCertificate, type ViciConnection, type ViciIkeSa } from '../wire/vici.ts';
import { VICI_CERT_WARN_DAYS_DEFAULT } from '../config-defaults.ts';

export interface ViciAlarmOptions {
  certWarnDays?: number;
  now?: () => number;
}

export class ViciAlarms {
  /** Connections seen with an IKE SA while sascope watched. */
  private readonly seenUp = new Set<string>();
  private readonly refs = new Set<string>();
  private scheduled = false;
  private readonly off: () => void;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly model: Model, private readonly book: AlarmBook, private readonly opts: ViciAlarmOptions = {}) {
    this.off = model.onChange((c) => this.changed(c));
    // Expiry comes with time, not with a change.
    this.timer = setInterval(() => this.evaluate(), 3600_000);
    this.timer.unref();
  }

  close(): void {
    this.off();
    clearInterval(this.timer);
  }

  private changed(c: ModelChange): void {
    if (c.kind !== 'vici-conn' && c.kind !== 'vici-ike' && c.kind !== 'vici-cert' && !(c.kind === 'source' && c.key === 'vici')) return;
    if (this.scheduled) return;
    this.scheduled = true;
    // A re-read changes many rows at once: one pass after them.
    queueMicrotask(() => {
      this.scheduled = false;
      this.evaluate();
    });
  }

  /** Each connection's alarms now. */
  evaluate(): void {
    const ok = (this.model.get('source', 'vici') as SourceStatus | undefined)?.state === 'ok';
    const ikes = this.model.list('vici-ike') as ViciIkeSa[];
    const byName = new Map<string, ViciIkeSa[]>();
    for (const i of ikes) byName.set(i.name, [...(byName.get(i.name) ?? []), i]);
    const seen = new Set<string>();
    for (const c of ok ? (this.model.list('vici-conn') as ViciConnection[]) : []) {
      const ref = `vici-conn:${c.name}`;
      seen.add(ref);
      const mine = byName.get(c.name) ?? [];
      if (mine.length) this.seenUp.add(c.name);
      this.refs.add(ref);
      this.book.set(ref, wanted(c, mine, this.seenUp.has(c.name)));
    }
    const now = (this.opts.now ?? Date.now)();
    const warnMs = (this.opts.certWarnDays ?? VICI_CERT_WARN_DAYS_DEFAULT) * 86400_000;
    for (const c of ok ? (this.model.list('vici-cert') as ViciCertificate[]) : []) {
      const ref = `vici-cert:${c.fingerprint}`;
      seen.add(ref);
      this.refs.add(ref);
      this.book.set(ref, certAlarms(c, now, warnMs));
    }
    for (const ref of [...this.refs]) {
      if (seen.has(ref)) continue;
      this.book.set(ref, []);
      this.refs.delete(ref);
    }
  }
}

/** The alarms a connection wants, given its IKE SAs and whether it was up before. */
export function wanted(c: ViciConnection, ikes: readonly ViciIkeSa[], wasUp: boolean): AlarmWanted[] {
  const up = ikes.some((i) => i.state === 'ESTABLISHED');
  const named = namesItsPeer(c);
  const out: AlarmWanted[] = [];
  const why = c.lastReason ? `: ${VICI_FAILURE_WORDS[c.lastReason.code]}` : '';
  if (ikes.length === 0 && named && (wasUp || c.lastReason)) out.push({ type: 'ike-down', severity: 'critical', summary: `${c.name}: no IKE SA with ${c.remoteAddrs.join(', ')}${why}` });
  if (!up && c.lastReason?.code === 'auth-failed') out.push({ type: 'ike-auth-failed', severity: 'critical', summary: `${c.name}: peer authentication failed with ${c.remoteAddrs.join(', ') || 'its peer'}` });
  return out;
}

/** A certificate's alarm now: expired, or expiring within warnMs. */
export function certAlarms(c: ViciCertificate, now: number, warnMs: number): AlarmWanted[] {
  const days = (ms: number) => Math.round(ms / 86400_000);
  if (c.notAfter <= now) return [{ type: 'cert-expired', severity: 'critical', summary: `${c.subject}: expired ${new Date(c.notAfter).toISOString()}` }];
  if (c.notAfter - now <= warnMs) return [{ type: 'cert-expiring', severity: 'warning', summary: `${c.subject}: expires ${new Date(c.notAfter).toISOString()} (in ${days(c.notAfter - now)} days)`, value: days(c.notAfter - now), threshold: days(warnMs) }];
  return [];
}

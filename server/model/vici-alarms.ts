// Alarms of strongSwan's connections (the vici source's rows), raised in the tunnels' alarm book (so history,
// metrics and the alarm list see them like the others), ref "vici-conn:<name>":
//   ike-down (critical): a configured connection to a named peer has no IKE SA, after it had one while sascope
//     watched or after a failed negotiation — a responder-only or road-warrior template (remote %any, or none
//     seen up and no failure) is not down, it waits;
//   ike-auth-failed (critical): its last negotiation failed authentication and it is not up.
// Only while the vici source is ok: a stale source has its own alarm (source-stale), and its rows are old.
import type { Model, ModelChange } from './model.ts';
import type { AlarmBook, AlarmWanted } from './alarms.ts';
import type { SourceStatus } from '../wire/entities.ts';
import { VICI_FAILURE_WORDS, type ViciConnection, type ViciIkeSa } from '../wire/vici.ts';

export class ViciAlarms {
  /** Connections seen with an IKE SA while sascope watched. */
  private readonly seenUp = new Set<string>();
  private readonly refs = new Set<string>();
  private scheduled = false;
  private readonly off: () => void;

  constructor(private readonly model: Model, private readonly book: AlarmBook) {
    this.off = model.onChange((c) => this.changed(c));
  }

  close(): void {
    this.off();
  }

  private changed(c: ModelChange): void {
    if (c.kind !== 'vici-conn' && c.kind !== 'vici-ike' && !(c.kind === 'source' && c.key === 'vici')) return;
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
  const named = c.remoteAddrs.length > 0 && !c.remoteAddrs.some((a) => a === '%any' || a === '0.0.0.0/0' || a === '::/0');
  const out: AlarmWanted[] = [];
  const why = c.lastReason ? `: ${VICI_FAILURE_WORDS[c.lastReason.code]}` : '';
  if (ikes.length === 0 && named && (wasUp || c.lastReason)) out.push({ type: 'ike-down', severity: 'critical', summary: `${c.name}: no IKE SA with ${c.remoteAddrs.join(', ')}${why}` });
  if (!up && c.lastReason?.code === 'auth-failed') out.push({ type: 'ike-auth-failed', severity: 'critical', summary: `${c.name}: peer authentication failed with ${c.remoteAddrs.join(', ') || 'its peer'}` });
  return out;
}

// XFRM policies, live: GETPOLICY dump + XFRMNLGRP_POLICY (and POLEXPIRE from XFRMNLGRP_EXPIRE), events
// through the family's one shared monitor (events.ts).
import { NETLINK_XFRM } from '../../netlink/constants.ts';
import { NetlinkConnection, openNetlinkTransport, type Transport } from '../../netlink/conn.ts';
import type { NetlinkMessage } from '../../netlink/message.ts';
import type { XfrmPolicy } from '../../wire/entities.ts';
import { Source, inSlices, type ModelSink } from '../source.ts';
import type { Logger } from '../../log.ts';
import { decodePolicyMessage } from './policy.ts';
import { XFRM_MSG, XFRM_MSG_NAME } from './spec.ts';
import { XfrmEvents, joinXfrmEvents } from './events.ts';

export function describePolicy(p: XfrmPolicy): string {
  const tmpl = p.templates.map((t) => `${t.proto} ${t.mode}${t.reqid ? ` reqid ${t.reqid}` : ''}`).join(', ');
  return `${p.selector.src} → ${p.selector.dst} dir ${p.dir} ${p.action} prio ${p.priority}${tmpl ? ` [${tmpl}]` : ''}`;
}

export interface XfrmPolicySourceOptions {
  /** Test seam: a transport in place of a NETLINK_XFRM socket. */
  transport?: Transport;
  /** The family's shared monitor; without one (and without a test transport) the source opens its own. */
  events?: XfrmEvents;
  receiveBufferBytes?: number;
}

/** The message types this source handles. */
export const POLICY_EVENT_TYPES = [XFRM_MSG.NEWPOLICY, XFRM_MSG.UPDPOLICY, XFRM_MSG.DELPOLICY, XFRM_MSG.POLEXPIRE, XFRM_MSG.FLUSHPOLICY] as const;

export class XfrmPolicySource extends Source {
  private conn: NetlinkConnection | undefined;
  private leaveEvents: (() => void) | undefined;

  constructor(sink: ModelSink, log: Logger, private readonly opts: XfrmPolicySourceOptions = {}) {
    super('xfrm-policy', 'XFRM policies', sink, log);
    this.liveDuringDump = true; // events reach the model at once; a dump leaves what they touched alone
  }

  async start(): Promise<void> {
    try {
      this.conn = new NetlinkConnection('xfrm', this.opts.transport ?? openNetlinkTransport('xfrm', NETLINK_XFRM));
      const events = this.opts.events ?? (this.opts.transport ? undefined : new XfrmEvents({ receiveBufferBytes: this.opts.receiveBufferBytes, aevents: false }));
      if (events) this.leaveEvents = joinXfrmEvents(events, POLICY_EVENT_TYPES, this);
      await this.resync('start');
    } catch (err) {
      this.failed(err);
    }
  }

  protected async dumpAll(): Promise<void> {
    const parts = await this.conn!.dump(XFRM_MSG.GETPOLICY, Buffer.alloc(0), { op: 'dump policies' });
    const items: Array<{ key: string; value: XfrmPolicy }> = [];
    await inSlices(parts, (m) => {
      try {
        const d = decodePolicyMessage(m);
        if (d?.kind === 'upsert') items.push({ key: d.policy.key, value: d.policy });
      } catch (err) {
        this.decodeFailed(err, 'policy in dump');
      }
    });
    await this.replaceAllInSlices('policy', items);
  }

  eventDatagramFailed(err: unknown): void {
    this.decodeFailed(err, 'event datagram');
  }

  /** Handle one message from the POLICY/EXPIRE groups (public for tests that replay fixtures). */
  onEvent(m: NetlinkMessage): void {
    let d;
    try {
      d = decodePolicyMessage(m);
    } catch (err) {
      this.decodeFailed(err, XFRM_MSG_NAME[m.type] ?? `message ${m.type}`);
      return;
    }
    if (!d) return; // not a policy message (the shared monitor sends only policy types here)
    this.dataSeen();
    const type = XFRM_MSG_NAME[m.type] ?? String(m.type);
    this.applyEvent(() => {
      switch (d.kind) {
        case 'upsert':
          this.sink.upsert('policy', d.policy.key, d.policy);
          this.sink.event({ source: this.id, type, summary: describePolicy(d.policy), ref: `policy:${d.policy.key}` });
          break;
        case 'remove':
          this.sink.remove('policy', d.policy.key);
          this.sink.event({ source: this.id, type, summary: describePolicy(d.policy), ref: `policy:${d.policy.key}` });
          break;
        case 'expire':
          // A hard expire deletes the policy in the kernel without a DELPOLICY message.
          if (d.hard) this.sink.remove('policy', d.policy.key);
          this.sink.event({ source: this.id, type: d.hard ? 'POLEXPIRE hard' : 'POLEXPIRE soft', code: d.hard ? 'policy-hard-expire' : 'policy-soft-expire', summary: describePolicy(d.policy), ref: `policy:${d.policy.key}` });
          break;
        case 'flush':
          this.sink.event({ source: this.id, type, summary: `all ${d.type} policies flushed` });
          void this.resync(`policies flushed (${d.type})`).catch(() => undefined);
          break;
      }
    });
  }

  stop(): void {
    this.leaveEvents?.();
    this.conn?.close();
  }
}

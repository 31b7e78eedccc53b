// XFRM policies, live: GETPOLICY dump + XFRMNLGRP_POLICY (and POLEXPIRE from XFRMNLGRP_EXPIRE).
import { NETLINK_XFRM } from '../../netlink/constants.ts';
import { NetlinkConnection, openNetlinkTransport, type Transport } from '../../netlink/conn.ts';
import { openMonitor, type Monitor } from '../../netlink/monitor.ts';
import type { NetlinkMessage } from '../../netlink/message.ts';
import type { XfrmPolicy } from '../../wire/entities.ts';
import { Source, type ModelSink } from '../source.ts';
import type { Logger } from '../../log.ts';
import { decodePolicyMessage } from './policy.ts';
import { XFRM_MSG, XFRM_MSG_NAME, XFRMNLGRP } from './spec.ts';

export function describePolicy(p: XfrmPolicy): string {
  const tmpl = p.templates.map((t) => `${t.proto} ${t.mode}${t.reqid ? ` reqid ${t.reqid}` : ''}`).join(', ');
  return `${p.selector.src} → ${p.selector.dst} dir ${p.dir} ${p.action} prio ${p.priority}${tmpl ? ` [${tmpl}]` : ''}`;
}

export interface XfrmPolicySourceOptions {
  /** Test seam: a transport in place of a NETLINK_XFRM socket. */
  transport?: Transport;
  receiveBufferBytes?: number;
}

export class XfrmPolicySource extends Source {
  private conn: NetlinkConnection | undefined;
  private monitor: Monitor | undefined;

  constructor(sink: ModelSink, log: Logger, private readonly opts: XfrmPolicySourceOptions = {}) {
    super('xfrm-policy', 'XFRM policies', sink, log);
  }

  async start(): Promise<void> {
    try {
      this.conn = new NetlinkConnection('xfrm', this.opts.transport ?? openNetlinkTransport('xfrm', NETLINK_XFRM));
      if (!this.opts.transport) {
        this.monitor = openMonitor(
          { source: 'xfrm', protocol: NETLINK_XFRM, groups: [XFRMNLGRP.POLICY, XFRMNLGRP.EXPIRE], receiveBufferBytes: this.opts.receiveBufferBytes },
          {
            onMessage: (m) => this.onEvent(m),
            onOverrun: (reason) => void this.resync(reason).catch(() => undefined),
            onError: (err) => this.decodeFailed(err, 'event datagram'),
          },
        );
      }
      await this.resync('start');
    } catch (err) {
      this.failed(err);
    }
  }

  protected async dumpAll(): Promise<void> {
    const parts = await this.conn!.dump(XFRM_MSG.GETPOLICY, Buffer.alloc(0), { op: 'dump policies' });
    const items: Array<{ key: string; value: XfrmPolicy }> = [];
    for (const m of parts) {
      try {
        const d = decodePolicyMessage(m);
        if (d?.kind === 'upsert') items.push({ key: d.policy.key, value: d.policy });
      } catch (err) {
        this.decodeFailed(err, 'policy in dump');
      }
    }
    this.sink.replaceAll('policy', items);
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
    if (!d) return; // SA expires share the EXPIRE group: the SA source reads those
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
          this.sink.event({ source: this.id, type: d.hard ? 'POLEXPIRE hard' : 'POLEXPIRE soft', summary: describePolicy(d.policy), ref: `policy:${d.policy.key}` });
          break;
        case 'flush':
          this.sink.event({ source: this.id, type, summary: `all ${d.type} policies flushed` });
          void this.resync(`policies flushed (${d.type})`).catch(() => undefined);
          break;
      }
    });
  }

  stop(): void {
    this.monitor?.close();
    this.conn?.close();
  }
}

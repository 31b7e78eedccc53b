// XFRM totals, one row (kind 'xfrm-totals', key 'xfrm'): SAD and SPD sizes (GETSADINFO, GETSPDINFO: two
// small do-requests) and /proc/net/xfrm_stat with rates, read every intervalMs. The kernel has no events
// for these numbers. Without /proc/net/xfrm_stat (CONFIG_XFRM_STATISTICS off) the row says why and the rest works.
import { NETLINK_XFRM } from '../../netlink/constants.ts';
import { NetlinkConnection, openNetlinkTransport, type Transport } from '../../netlink/conn.ts';
import type { Logger } from '../../log.ts';
import type { XfrmTotals } from '../../wire/xfrm.ts';
import { Source, type ModelSink } from '../source.ts';
import { fingerprintSecretState } from '../fingerprint.ts';
import { XFRM_MSG } from './spec.ts';
import { XfrmStatReader, decodeSadInfo, decodeSpdInfo } from './totals.ts';
import { errorCode } from '../../sys/errno.ts';

export interface XfrmTotalsSourceOptions {
  transport?: Transport;
  /** Default 5000; 0 = read once. */
  intervalMs?: number;
  stat?: XfrmStatReader;
}

export const TOTALS_KEY = 'xfrm';

export class XfrmTotalsSource extends Source {
  private conn: NetlinkConnection | undefined;
  private readonly stat: XfrmStatReader;

  constructor(sink: ModelSink, log: Logger, private readonly opts: XfrmTotalsSourceOptions = {}) {
    super('xfrm-totals', 'XFRM totals (SAD, SPD, xfrm_stat)', sink, log);
    this.stat = opts.stat ?? new XfrmStatReader();
  }

  async start(): Promise<void> {
    try {
      this.conn = new NetlinkConnection('xfrm', this.opts.transport ?? openNetlinkTransport('xfrm', NETLINK_XFRM));
      await this.resync('start');
      this.refreshEvery(this.opts.intervalMs ?? 5000);
    } catch (err) {
      this.failed(err);
    }
  }

  protected async dumpAll(): Promise<void> {
    const flags = Buffer.alloc(4); // the u32 flags header both requests need (xfrm_msg_min)
    const [sadMsgs, spdMsgs] = await Promise.all([
      this.conn!.do(XFRM_MSG.GETSADINFO, flags, { op: 'read SAD info' }),
      this.conn!.do(XFRM_MSG.GETSPDINFO, flags, { op: 'read SPD info' }),
    ]);
    const row: XfrmTotals = { key: TOTALS_KEY, fingerprintSecret: fingerprintSecretState(), readAt: Date.now() };
    const sad = sadMsgs.find((m) => m.type === XFRM_MSG.NEWSADINFO);
    const spd = spdMsgs.find((m) => m.type === XFRM_MSG.NEWSPDINFO);
    try {
      if (sad) row.sad = decodeSadInfo(sad);
      if (spd) row.spd = decodeSpdInfo(spd);
    } catch (err) {
      this.decodeFailed(err, 'SAD/SPD info');
    }
    try {
      const s = this.stat.sample(row.readAt);
      row.stats = s.stats;
      if (s.rates) row.rates = s.rates;
    } catch (err) {
      row.statsError = errorCode(err) === 'ENOENT' ? '/proc/net/xfrm_stat is absent (kernel without CONFIG_XFRM_STATISTICS)' : err instanceof Error ? err.message : String(err);
    }
    this.sink.upsert('xfrm-totals', TOTALS_KEY, row);
  }

  stop(): void {
    this.stopRefresh();
    this.conn?.close();
  }
}

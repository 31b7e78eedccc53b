// XFRM totals: XFRM_MSG_NEWSADINFO / NEWSPDINFO replies (a __u32 flags header, then XFRMA_SAD_* /
// XFRMA_SPD_* attributes, build_sadinfo/build_spdinfo in net/xfrm/xfrm_user.c) and /proc/net/xfrm_stat
// (CONFIG_XFRM_STATISTICS: "XfrmInError  0" lines, per network namespace), with rates between reads.
import { readFileSync } from 'node:fs';
import { inKernelNetns } from '../../sys/netns.ts';
import { decodeAttrs } from '../../netlink/spec.ts';
import { DecodeError } from '../../netlink/errors.ts';
import type { NetlinkMessage } from '../../netlink/message.ts';
import type { XfrmTotals } from '../../wire/xfrm.ts';
import { XFRM_MSG, sadInfoAttrs, spdInfoAttrs } from './spec.ts';

export function decodeSadInfo(m: NetlinkMessage): NonNullable<XfrmTotals['sad']> {
  const what = 'xfrm NEWSADINFO';
  if (m.type !== XFRM_MSG.NEWSADINFO) throw new DecodeError(what, 0, `message type ${m.type}, expected NEWSADINFO`);
  if (m.payload.length < 4) throw new DecodeError(what, 0, `payload of ${m.payload.length} bytes, need the 4-byte flags`);
  const a = decodeAttrs(sadInfoAttrs, m.payload.subarray(4), what);
  const h = a.hinfo;
  return { count: a.cnt ?? 0, hashBuckets: h?.sadhcnt ?? 0, hashMax: h?.sadhmcnt ?? 0 };
}

export function decodeSpdInfo(m: NetlinkMessage): NonNullable<XfrmTotals['spd']> {
  const what = 'xfrm NEWSPDINFO';
  if (m.type !== XFRM_MSG.NEWSPDINFO) throw new DecodeError(what, 0, `message type ${m.type}, expected NEWSPDINFO`);
  if (m.payload.length < 4) throw new DecodeError(what, 0, `payload of ${m.payload.length} bytes, need the 4-byte flags`);
  const a = decodeAttrs(spdInfoAttrs, m.payload.subarray(4), what);
  const i = a.info;
  const h = a.hinfo;
  const t4 = a['ipv4-hthresh'];
  const t6 = a['ipv6-hthresh'];
  return {
    in: i?.incnt ?? 0, out: i?.outcnt ?? 0, fwd: i?.fwdcnt ?? 0,
    inSocket: i?.inscnt ?? 0, outSocket: i?.outscnt ?? 0, fwdSocket: i?.fwdscnt ?? 0,
    hashBuckets: h?.spdhcnt ?? 0, hashMax: h?.spdhmcnt ?? 0,
    ...(t4 ? { ipv4Thresh: { lbits: t4.lbits, rbits: t4.rbits } } : {}),
    ...(t6 ? { ipv6Thresh: { lbits: t6.lbits, rbits: t6.rbits } } : {}),
  };
}

/** Parse /proc/net/xfrm_stat: every "Name value" line, by name. Malformed lines are a DecodeError. */
export function parseXfrmStat(text: string): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    const m = /^(\w+)\s+(\d+)\s*$/.exec(line);
    if (!m) throw new DecodeError('/proc/net/xfrm_stat', i, `line ${i + 1} is not "Name value": ${JSON.stringify(line.slice(0, 80))}`);
    out[m[1]!] = BigInt(m[2]!);
  }
  return out;
}

/** Reads /proc/net/xfrm_stat (the watched netns's: read inside it, see server/sys/netns.ts) and computes rates. */
export class XfrmStatReader {
  private prev: { at: number; values: Record<string, bigint> } | undefined;

  constructor(private readonly path = '/proc/net/xfrm_stat', private readonly read: (p: string) => string = (p) => inKernelNetns(() => readFileSync(p, 'utf8'))) {}

  /** One read: the counters and, from the second read on, per-second rates (negative deltas, i.e. resets, give 0). */
  sample(now = Date.now()): { stats: Record<string, bigint>; rates?: Record<string, number> } {
    const values = parseXfrmStat(this.read(this.path));
    let rates: Record<string, number> | undefined;
    if (this.prev && now > this.prev.at) {
      const secs = (now - this.prev.at) / 1000;
      rates = {};
      for (const [k, v] of Object.entries(values)) {
        const before = this.prev.values[k];
        rates[k] = before === undefined || v < before ? 0 : Number(v - before) / secs;
      }
    }
    this.prev = { at: now, values };
    return { stats: values, ...(rates ? { rates } : {}) };
  }
}

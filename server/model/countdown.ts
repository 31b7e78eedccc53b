// Countdowns of one SA from its struct xfrm_lifetime_cfg / xfrm_lifetime_cur and replay state: when it
// expires (soft, hard; add- and use-based), what is left to the byte and packet limits, and how much of the
// sequence number space is used — as a percentage, never the raw counter.
import type { OnWire } from '../wire/entities.ts';
import type { SecurityAssociation } from '../wire/xfrm.ts';
import type { Countdown } from '../wire/tunnels.ts';

/** XFRM_INF: "no limit" for byte and packet limits. */
export const XFRM_INF = 0xffffffffffffffffn;
const TWO32 = 2 ** 32;

const XFRM_INF_TEXT = XFRM_INF.toString();
/** Most limits are 0 or XFRM_INF: those without parsing the text (ten parses a tunnel, 1 % of `sascope snapshot`'s time at 20k SAs). */
const big = (s: string | undefined) => (s === undefined || s === '0' ? 0n : s === XFRM_INF_TEXT ? XFRM_INF : BigInt(s));

/** The earlier of an add-based and a use-based expiry (ms), and which one it is. */
function expiry(addTime: bigint, useTime: bigint, addLimit: bigint, useLimit: bigint): { at?: number; basis?: 'add' | 'use'; pending: boolean } {
  const byAdd = addLimit > 0n && addTime > 0n ? Number(addTime + addLimit) * 1000 : undefined;
  // The kernel starts a use-based limit at the SA's first use (curlft.use_time); until then it does not run.
  const byUse = useLimit > 0n && useTime > 0n ? Number(useTime + useLimit) * 1000 : undefined;
  const pending = useLimit > 0n && useTime === 0n;
  if (byAdd === undefined && byUse === undefined) return { pending };
  if (byUse === undefined || (byAdd !== undefined && byAdd <= byUse)) return { at: byAdd, basis: 'add', pending };
  return { at: byUse, basis: 'use', pending };
}

const left = (limit: bigint, used: bigint) => (limit === XFRM_INF || limit === 0n ? undefined : limit > used ? limit - used : 0n);

/** Sequence space used in percent: the larger of the outbound and inbound counters, 32-bit or 64-bit with ESN. */
export function sequenceUsed(sa: Pick<OnWire<SecurityAssociation>, 'antiReplay'>): { percent: number; bits: 32 | 64 } | undefined {
  const ar = sa.antiReplay;
  if (!ar) return undefined;
  if (ar.esn) {
    const out = (ar.oseqHi ?? 0) * TWO32 + ar.oseq;
    const inb = (ar.seqHi ?? 0) * TWO32 + ar.seq;
    return { percent: round((Math.max(out, inb) / 2 ** 64) * 100), bits: 64 };
  }
  return { percent: round((Math.max(ar.oseq, ar.seq) / TWO32) * 100), bits: 32 };
}

/** Six significant digits: enough to see an ESN counter move, short on the wire. */
function round(p: number): number {
  return p === 0 ? 0 : Number(p.toPrecision(6));
}

export function countdownOf(sa: OnWire<SecurityAssociation>): Countdown {
  const cfg = sa.lifetime.config;
  const cur = sa.lifetime.current;
  const addTime = big(cur.addTime);
  const useTime = big(cur.useTime);
  const bytes = big(cur.bytes);
  const packets = big(cur.packets);
  const soft = expiry(addTime, useTime, big(cfg.softAddExpiresSeconds), big(cfg.softUseExpiresSeconds));
  const hard = expiry(addTime, useTime, big(cfg.hardAddExpiresSeconds), big(cfg.hardUseExpiresSeconds));
  const out: Countdown = {};
  if (soft.at !== undefined) {
    out.softExpiresAt = soft.at;
    out.softBasis = soft.basis;
  }
  if (hard.at !== undefined) {
    out.hardExpiresAt = hard.at;
    out.hardBasis = hard.basis;
  }
  if (soft.pending || hard.pending) out.useLimitPending = true;
  const bs = left(big(cfg.softByteLimit), bytes);
  const bh = left(big(cfg.hardByteLimit), bytes);
  const ps = left(big(cfg.softPacketLimit), packets);
  const ph = left(big(cfg.hardPacketLimit), packets);
  if (bs !== undefined) out.bytesToSoft = bs;
  if (bh !== undefined) out.bytesToHard = bh;
  if (ps !== undefined) out.packetsToSoft = ps;
  if (ph !== undefined) out.packetsToHard = ph;
  const seq = sequenceUsed(sa);
  if (seq) {
    out.sequenceUsedPercent = seq.percent;
    out.sequenceBits = seq.bits;
  }
  return out;
}

// Grouping: which XFRM SAs make one tunnel (what stays the same across a rekey), and the indexes that find
// a tunnel's policies and its reverse direction, so a change costs the tunnels and policies it touches,
// not all of them (10k+ tunnels).
import { BlockList, isIPv6 } from 'node:net';
import { MultiMap } from '../multimap.ts';
import { sharedPart } from '../model.ts';
import type { OnWire } from '../../wire/entities.ts';
import type { XfrmPolicy } from '../../wire/xfrm.ts';
import type { Sa, TunnelBase, TunnelTrack } from './track.ts';

const zeroNet = (s: string) => s === '0.0.0.0/0' || s === '::/0' || s === '';
/** A template's address left open: the decoder writes the kernel's zero address as 0.0.0.0 or :: (no prefix). */
const openAddr = (s: string) => s === '0.0.0.0' || s === '::' || zeroNet(s);

/** Whether addr lies in net ("10.0.0.0/24", "fd00::/64"; '' is anything). */
function inNet(addr: string, net: string): boolean {
  if (zeroNet(net)) return true;
  const [base, len] = net.split('/');
  const type = isIPv6(base!) ? 'ipv6' : 'ipv4';
  if (isIPv6(addr) !== (type === 'ipv6')) return false;
  const b = new BlockList();
  b.addSubnet(base!, len === undefined ? (type === 'ipv6' ? 128 : 32) : Number(len), type);
  return b.check(addr, type);
}

/**
 * Whether a policy's template leads to the tunnel's SAs: its addresses are the SA's, or it leaves them open
 * with the SA's reqid — then the packet's addresses are the SA's (transport mode), so the policy's selector
 * must hold the SA's addresses: the out policy leads to the outbound SA, the in policy to the inbound one.
 */
function leadsTo(p: OnWire<XfrmPolicy>, b: TunnelBase): boolean {
  return p.templates.some((tm) => tm.proto === b.proto && (tm.reqid === 0 || tm.reqid === b.reqid) && (
    (tm.dst === b.dst && tm.src === b.src) ||
    (openAddr(tm.dst) && tm.reqid !== 0 && inNet(b.src, p.selector.src) && inNet(b.dst, p.selector.dst))));
}

/**
 * Identity of the tunnel an SA belongs to: family, protocol, source and destination, reqid, mode,
 * selector, mark, if_id and (when the kernel has it) XFRMA_SA_DIR — one direction each.
 */
export function tunnelKeyOf(sa: Sa): string {
  const parts = [`xfrm:${sa.family}:${sa.proto}:${sa.src}>${sa.dst}`, `reqid=${sa.reqid}`, `mode=${sa.mode}`];
  const sel = sa.selector;
  if (!zeroNet(sel.src) || !zeroNet(sel.dst) || sel.sport || sel.dport || (sel.proto && sel.proto !== 0 && sel.proto !== 'any')) {
    parts.push(`sel=${sel.src}:${sel.sport}>${sel.dst}:${sel.dport}/${sel.proto}`);
  }
  if (sa.mark && (sa.mark.value || sa.mark.mask)) parts.push(`mark=0x${sa.mark.value.toString(16)}/0x${sa.mark.mask.toString(16)}`);
  if (sa.ifId) parts.push(`if_id=${sa.ifId}`);
  if (sa.dir !== undefined) parts.push(`dir=${sa.dir}`);
  return parts.join(':');
}

/** What the tunnel of an SA shows of its identity. */
export function tunnelBaseOf(sa: Sa): TunnelBase {
  const sel = sa.selector;
  // The fields every SA has in one literal, the rare ones added after: a literal with spreads reserves room
  // for them in every object (24 B each at 100k tunnels).
  const base: TunnelBase = {
    name: [sa.src, ' → ', sa.dst, ' ', sa.proto, sa.reqid ? ` reqid ${sa.reqid}` : ''].join(''),
    src: sa.src,
    dst: sa.dst,
    proto: sa.proto,
    reqid: sa.reqid,
    mode: sa.mode,
    selector: sharedPart({ src: sel.src, dst: sel.dst, proto: sel.proto, sport: sel.sport, dport: sel.dport }),
  };
  if (sa.mark && (sa.mark.value || sa.mark.mask)) base.mark = sa.mark;
  if (sa.ifId) base.ifId = sa.ifId;
  if (sa.dir !== undefined) base.saDir = String(sa.dir);
  return base;
}

/**
 * The address index's key: a 32-bit hash (FNV-1a) of the protocol and the addresses, a small integer where a
 * key string was ~40 B per tunnel and per policy template. Two pairs may share a hash: what the index gives is
 * checked against the addresses (reverseOf, placement) or only rebuilt once more (a tunnel marked).
 */
function byAddrsKey(proto: unknown, src: string, dst: string): number {
  const s = `${proto}|${src}|${dst}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}
/** The reqid index's key (a string: the index is made only for templates that leave their addresses open, rare). */
const byReqidKey = (proto: unknown, reqid: unknown) => [proto, reqid].join('|');

/** XFRM tunnels by addresses and reqid, and the policies whose templates can lead to them. */
export class TunnelGrouping {
  private readonly policies = new Map<string, OnWire<XfrmPolicy>>();
  private readonly byAddrs = new MultiMap<number>(); // hash of proto, src, dst → tunnel keys
  /** "proto|reqid" → tunnel keys: made at the first template that leaves its addresses open (rare; ~35 B per tunnel). */
  private byReqid: MultiMap | undefined;
  private readonly policiesByAddrs = new MultiMap<number>(); // hash of the template's proto, src, dst → policy keys
  private readonly policiesByReqid = new MultiMap(); // template "proto|reqid" (any address) → policy keys

  /** `tunnels`: every tunnel, the XFRM ones grouped here (byReqid is made from them when first needed). */
  constructor(private readonly tunnels: ReadonlyMap<string, TunnelTrack>) {}

  /** A new tunnel; returns the tunnels of the reverse direction (they name this one). */
  add(t: TunnelTrack): Iterable<string> {
    const b = t.base;
    this.byAddrs.add(byAddrsKey(b.proto, b.src, b.dst), t.key);
    this.byReqid?.add(byReqidKey(b.proto, b.reqid), t.key);
    return this.byAddrs.get(byAddrsKey(b.proto, b.dst, b.src));
  }

  delete(t: TunnelTrack): void {
    const b = t.base;
    this.byAddrs.delete(byAddrsKey(b.proto, b.src, b.dst), t.key);
    this.byReqid?.delete(byReqidKey(b.proto, b.reqid), t.key);
  }

  private tunnelsByReqid(): MultiMap {
    if (!this.byReqid) {
      this.byReqid = new MultiMap();
      for (const t of this.tunnels.values()) {
        if (t.family !== 'xfrm') continue;
        const b = t.base;
        this.byReqid.add(byReqidKey(b.proto, b.reqid), t.key);
      }
    }
    return this.byReqid;
  }

  /** A policy added, changed (p) or removed (undefined); calls concerns(k) for each tunnel it may concern (direction, policy list). */
  policy(key: string, p: OnWire<XfrmPolicy> | undefined, concerns: (tunnel: string) => void): void {
    const old = this.policies.get(key);
    if (old) this.indexPolicy(old, false, concerns);
    if (p) {
      this.policies.set(key, p);
      this.indexPolicy(p, true, concerns);
    } else this.policies.delete(key);
  }

  /** Templates that can lead to an SA: by addresses, or by reqid when the template leaves them open. */
  private indexPolicy(p: OnWire<XfrmPolicy>, add: boolean, concerns: (tunnel: string) => void): void {
    for (const tm of p.templates) {
      const byAddr = byAddrsKey(tm.proto, tm.src, tm.dst);
      const byReqid = byReqidKey(tm.proto, tm.reqid);
      const open = openAddr(tm.dst) && tm.reqid !== 0;
      if (add) (open ? this.policiesByReqid.add(byReqid, p.key) : this.policiesByAddrs.add(byAddr, p.key));
      else (open ? this.policiesByReqid.delete(byReqid, p.key) : this.policiesByAddrs.delete(byAddr, p.key));
      for (const k of open ? this.tunnelsByReqid().get(byReqid) : this.byAddrs.get(byAddr)) concerns(k);
    }
  }

  /** The policies whose templates lead to t, and its direction: the SA's own, else the policies'. */
  placement(t: TunnelTrack): { direction?: string; policies: string[] } {
    const dirs = new Set<string>();
    const keys: string[] = [];
    const b = t.base;
    const candidates = new Set([...this.policiesByAddrs.get(byAddrsKey(b.proto, b.src, b.dst)), ...this.policiesByReqid.get(byReqidKey(b.proto, b.reqid))]);
    for (const pk of candidates) {
      const p = this.policies.get(pk);
      if (!p) continue;
      if (leadsTo(p, b)) {
        keys.push(p.key);
        dirs.add(String(p.dir));
      }
    }
    const direction = b.saDir ?? (dirs.has('out') ? 'out' : dirs.has('in') ? 'in' : dirs.has('fwd') ? 'fwd' : undefined);
    return { ...(direction ? { direction } : {}), policies: keys.sort() };
  }

  /** The tunnel of the opposite direction (same pair of addresses and reqid), when there is one. */
  reverseOf(t: TunnelTrack, tunnels: ReadonlyMap<string, TunnelTrack>): string | undefined {
    const b = t.base;
    for (const k of this.byAddrs.get(byAddrsKey(b.proto, b.dst, b.src))) {
      const x = tunnels.get(k)?.base;
      if (x && k !== t.key && x.reqid === b.reqid && x.proto === b.proto && x.src === b.dst && x.dst === b.src) return k;
    }
    return undefined;
  }
}

// The IKE join: which of charon's CHILD SAs (vici-child rows) an XFRM tunnel carries, so the tunnel has the
// names an operator knows ("site/net (CN=berlin)"). The rule: an XFRM SA belongs to the CHILD SA whose spi-in
// or spi-out is its SPI, when their reqids agree (charon installs both SAs of a CHILD SA under its reqid; an
// SPI is unique only per destination and protocol, the reqid keeps two peers' equal SPIs apart). A tunnel takes
// the join of its newest SA that has one. The peer's identity is its IKE SA's (vici-ike): the EAP or XAuth
// identity of a remote-access user, else the IKE remote id.
// Live both ways: rows are indexed by SPI, so an SA that comes after its row finds it; a row that comes, changes
// or goes after the SAs names its SPIs in `changed`, and the xfrm adapter re-touches the tunnels carrying them.
import type { ModelChange } from '../model.ts';
import type { OnWire } from '../../wire/entities.ts';
import type { TunnelIke, ViciChildSa, ViciIkeSa } from '../../wire/vici.ts';

interface ChildFacts {
  conn: string;
  child: string;
  ikeSa: string;
  reqid?: number;
  spis: number[];
}

/** charon prints SPIs as 8 hex digits ("c1d2e3f4"), the XFRM SA's spi as a number. */
const spiOf = (hex: string | undefined): number | undefined => {
  if (hex === undefined || !/^[0-9a-fA-F]{1,8}$/.test(hex)) return undefined;
  return parseInt(hex, 16);
};

export class IkeJoin {
  private readonly children = new Map<string, ChildFacts>();
  private readonly bySpi = new Map<number, string[]>();
  /** The peer's identity of each IKE SA (vici-ike key), and the CHILD SAs under it. */
  private readonly peers = new Map<string, string | undefined>();
  private readonly childrenOf = new Map<string, Set<string>>();
  /** SPIs whose join may have changed since the xfrm adapter last took them. */
  readonly changed = new Set<number>();

  onChange(c: ModelChange): void {
    if (c.kind === 'vici-child') this.child(c.key, c.op === 'upsert' ? (c.value as OnWire<ViciChildSa>) : undefined);
    else if (c.kind === 'vici-ike') this.ike(c.key, c.op === 'upsert' ? (c.value as OnWire<ViciIkeSa>) : undefined);
  }

  /** The join of an XFRM SA: its SPI and reqid. */
  of(spi: number, reqid: number): TunnelIke | undefined {
    for (const key of this.bySpi.get(spi) ?? []) {
      const f = this.children.get(key)!;
      if (f.reqid !== undefined && f.reqid !== 0 && reqid !== 0 && f.reqid !== reqid) continue;
      const peerId = this.peers.get(f.ikeSa);
      return { conn: f.conn, child: f.child, ...(peerId ? { peerId } : {}), ikeSa: f.ikeSa, childSa: key };
    }
    return undefined;
  }

  private child(key: string, row: OnWire<ViciChildSa> | undefined): void {
    const old = this.children.get(key);
    const spis = row ? [spiOf(row.spiIn), spiOf(row.spiOut)].filter((s): s is number => s !== undefined) : [];
    const next: ChildFacts | undefined = row && { conn: row.ikeName, child: row.name, ikeSa: String(row.ikeUniqueId), ...(row.reqid !== undefined ? { reqid: row.reqid } : {}), spis };
    // A re-read that changes only counters changes no join: nothing to re-touch.
    if (old && next && old.conn === next.conn && old.child === next.child && old.ikeSa === next.ikeSa && old.reqid === next.reqid && old.spis.join() === next.spis.join()) return;
    if (old) {
      for (const spi of old.spis) {
        const rest = (this.bySpi.get(spi) ?? []).filter((k) => k !== key);
        if (rest.length) this.bySpi.set(spi, rest);
        else this.bySpi.delete(spi);
        this.changed.add(spi);
      }
      this.childrenOf.get(old.ikeSa)?.delete(key);
      this.children.delete(key);
    }
    if (!next) return;
    this.children.set(key, next);
    for (const spi of next.spis) {
      this.bySpi.set(spi, [...(this.bySpi.get(spi) ?? []), key]);
      this.changed.add(spi);
    }
    let under = this.childrenOf.get(next.ikeSa);
    if (!under) this.childrenOf.set(next.ikeSa, (under = new Set()));
    under.add(key);
  }

  private ike(key: string, row: OnWire<ViciIkeSa> | undefined): void {
    const peer = row && (row.remoteEapId ?? row.remoteXauthId ?? row.remoteId);
    if (row ? this.peers.get(key) === peer && this.peers.has(key) : !this.peers.has(key)) return;
    if (row) this.peers.set(key, peer);
    else this.peers.delete(key);
    for (const child of this.childrenOf.get(key) ?? []) for (const spi of this.children.get(child)?.spis ?? []) this.changed.add(spi);
    if (!row && !this.childrenOf.get(key)?.size) this.childrenOf.delete(key);
  }
}

// Entities the model derives from its own tables rather than from a kernel socket: the offload view
// ('offload-dev', 'offload-info') and the algorithms in use with their drivers ('crypto-use'). Recomputed
// shortly after any input changes (coalesced, so an SA storm costs one pass per interval).
import type { Model, ModelChange } from './model.ts';
import type { EntityKind } from '../wire/protocol.ts';
import type { OnWire, Link, SourceStatus } from '../wire/entities.ts';
import type { SecurityAssociation, XfrmPolicy } from '../wire/xfrm.ts';
import type { EthtoolDevice } from '../wire/ethtool.ts';
import type { CryptoAlgorithm, CryptoUse } from '../wire/crypto.ts';
import { offloadView } from './offload.ts';
import { cryptoUses } from './crypto-use.ts';

const INPUTS = new Set<EntityKind>(['sa', 'link', 'ethtool-dev', 'policy', 'crypto-alg']);

export class DerivedViews {
  private timer: NodeJS.Timeout | undefined;
  private readonly off: () => void;

  private lastMissingCall = 0;

  /**
   * onMissingDriver: called (at most every 5 s) when an algorithm in use has no /proc/crypto entry yet —
   * an SA just instantiated a template, so /proc/crypto is worth re-reading before its slow interval.
   */
  constructor(private readonly model: Model, private readonly delayMs = 200, private readonly onMissingDriver?: () => void) {
    this.off = model.onChange((c: ModelChange) => {
      if (INPUTS.has(c.kind) || (c.kind === 'source' && c.key === 'ethtool')) this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.recompute();
    }, this.delayMs);
    this.timer.unref();
  }

  /** Recompute now (also the first pass at start). */
  recompute(): void {
    const m = this.model;
    const sas = m.list('sa') as OnWire<SecurityAssociation>[];
    const eth = m.get('source', 'ethtool') as OnWire<SourceStatus> | undefined;
    const { devices, info } = offloadView({
      sas,
      links: m.list('link') as OnWire<Link>[],
      ethtool: m.list('ethtool-dev') as OnWire<EthtoolDevice>[],
      policies: m.list('policy') as OnWire<XfrmPolicy>[],
      ethtoolState: eth ? { state: eth.state, reason: eth.reason } : { state: 'not-available', reason: 'no ethtool source' },
    });
    m.replaceAll('offload-dev', devices.map((d) => ({ key: d.key, value: d })));
    m.upsert('offload-info', 'offload', info);
    const uses = cryptoUses(sas, m.list('crypto-alg') as CryptoAlgorithm[]);
    m.replaceAll('crypto-use', uses.map((u) => ({ key: u.key, value: u })));
    if (this.onMissingDriver && uses.some((u) => u.noDriver === 'not-instantiated') && Date.now() - this.lastMissingCall > 5000) {
      this.lastMissingCall = Date.now();
      this.onMissingDriver();
    }
  }

  /** The algorithms in use now, for the probe. */
  uses(): CryptoUse[] {
    return this.model.list('crypto-use') as CryptoUse[];
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.off();
  }
}

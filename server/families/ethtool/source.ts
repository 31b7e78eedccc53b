// ethtool devices, live: features-get (one dump for all devices, compact bitsets) named by the kernel's
// ETH_SS_FEATURES string set, the driver's statistic names (strset-get of ETH_SS_STATS per device) for
// its IPsec / PSP counters, and features-ntf from the "monitor" group for live changes. Devices come and go
// with rtnetlink link events (ethtool sends none for that); everything is re-read on a slow interval so a
// missed notification heals.
import type { GenlMessage } from '../../genl/client.ts';
import type { EthtoolDevice, EthtoolFeature } from '../../wire/ethtool.ts';
import type { Link } from '../../wire/entities.ts';
import type { Logger } from '../../log.ts';
import type { ModelSink } from '../source.ts';
import type { LinkView } from '../link-view.ts';
import { GenlSource, type GenlSourceOptions } from '../genl-source.ts';
import { decodeFeatures, decodeStringSets, featuresRequest, ipsecSummary, offloadStatNames, strsetRequest, type FeaturesReply } from './features.ts';
import { DRIVER_STATS_NOTE, ETHTOOL_MSG_KERNEL, ETH_SS_FEATURES, ETH_SS_STATS, ethtoolFamily, type EthtoolOp } from './spec.ts';

export interface EthtoolSourceOptions extends GenlSourceOptions {
  /** Everything is re-read this often; 0 = only on events and resyncs. */
  intervalMs?: number;
}

export class EthtoolSource extends GenlSource<EthtoolOp> {
  private featureNames: string[] = [];
  private readonly devices = new Map<number, EthtoolDevice>();

  constructor(sink: ModelSink, log: Logger, links: LinkView, opts: EthtoolSourceOptions = {}) {
    super('ethtool', 'Device features (ethtool netlink)', sink, log, links, { family: ethtoolFamily, refreshMs: opts.intervalMs ?? 30_000 }, opts);
  }

  protected override okReason(): string | undefined {
    for (const d of this.devices.values()) if (d.ipsec.capable) return undefined;
    return 'no offload-capable device (no device has esp-hw-offload active)';
  }

  /** ETH_SS_FEATURES, the names of the feature bits in this kernel. */
  private async readFeatureNames(): Promise<void> {
    const replies = await this.client!.do('strset-get', strsetRequest([ETH_SS_FEATURES]), 'read feature names (ETH_SS_FEATURES)');
    for (const g of replies) {
      const names = decodeStringSets(g, 'strset-get reply').sets.get(ETH_SS_FEATURES);
      if (names) this.featureNames = names;
    }
  }

  /** Decode features; a message with more bits than the names known re-reads the names first. */
  private async features(g: GenlMessage, what: string): Promise<FeaturesReply> {
    let r = decodeFeatures(g, this.featureNames, what);
    if (r.features.length > this.featureNames.length) {
      await this.readFeatureNames();
      r = decodeFeatures(g, this.featureNames, what);
    }
    return r;
  }

  private entity(r: FeaturesReply, statNames?: string[]): EthtoolDevice {
    const prev = this.devices.get(r.ifindex);
    const names = statNames ?? undefined;
    const driverStats = names
      ? { count: names.length, ...offloadStatNames(names), note: DRIVER_STATS_NOTE }
      : (prev?.driverStats ?? { count: 0, ipsec: [], psp: [], note: DRIVER_STATS_NOTE });
    const d: EthtoolDevice = { ifindex: r.ifindex, ifname: r.ifname, features: r.features, ipsec: ipsecSummary(r.features), driverStats, updatedAt: Date.now() };
    this.devices.set(r.ifindex, d);
    return d;
  }

  /** ETH_SS_STATS names per device (one dump); devices whose driver has none get an empty list. */
  private async statNames(ifindex?: number): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    let replies: GenlMessage[];
    try {
      replies = ifindex === undefined
        ? await this.client!.dump('strset-get', strsetRequest([ETH_SS_STATS]), 'dump driver statistic names')
        : await this.client!.do('strset-get', strsetRequest([ETH_SS_STATS], ifindex), `read driver statistic names of ifindex ${ifindex}`);
    } catch (err) {
      this.decodeFailed(err, 'strset-get ETH_SS_STATS');
      return out;
    }
    for (const g of replies) {
      try {
        const s = decodeStringSets(g, 'strset-get reply');
        if (s.ifindex !== undefined) out.set(s.ifindex, (s.sets.get(ETH_SS_STATS) ?? []).filter((n) => n !== ''));
      } catch (err) {
        this.decodeFailed(err, 'strset-get reply');
      }
    }
    return out;
  }

  protected async dumpAll(): Promise<void> {
    if (this.featureNames.length === 0) await this.readFeatureNames();
    await this.currentLinks();
    const replies = await this.client!.dump('features-get', featuresRequest(), 'dump device features');
    const stats = await this.statNames();
    const seen = new Set<number>();
    for (const g of replies) {
      try {
        const r = await this.features(g, 'features-get reply');
        this.entity(r, stats.get(r.ifindex) ?? []);
        seen.add(r.ifindex);
      } catch (err) {
        this.decodeFailed(err, 'features-get reply');
      }
    }
    for (const i of [...this.devices.keys()]) if (!seen.has(i)) this.devices.delete(i);
    this.sink.replaceAll('ethtool-dev', [...this.devices.values()].map((d) => ({ key: String(d.ifindex), value: d })));
  }

  private async readDevice(ifindex: number): Promise<void> {
    try {
      const replies = await this.client!.do('features-get', featuresRequest(ifindex), `read features of ifindex ${ifindex}`);
      const stats = await this.statNames(ifindex);
      for (const g of replies) {
        const r = await this.features(g, 'features-get reply');
        this.sink.upsert('ethtool-dev', String(r.ifindex), this.entity(r, stats.get(r.ifindex) ?? []));
      }
    } catch (err) {
      // The link may be gone already (ENODEV): the next dump settles it.
      this.log.debug({ source: this.id, ifindex, err: String(err) }, 'ethtool: reading a new device failed');
    }
  }

  protected onLinkChange(l: Link, removed: boolean): void {
    void this.linkChanged(l.index, l.name, removed);
  }

  private async linkChanged(ifindex: number, name: string, removed: boolean): Promise<void> {
    const d = this.devices.get(ifindex);
    if (removed) {
      if (d) {
        this.devices.delete(ifindex);
        this.sink.remove('ethtool-dev', String(ifindex));
      }
      return;
    }
    if (!d) return this.readDevice(ifindex);
    if (d.ifname !== name) {
      d.ifname = name;
      this.sink.upsert('ethtool-dev', String(ifindex), d);
    }
  }

  /** One message from the monitor group (public for tests that replay notifications). */
  onNotification(g: GenlMessage): void {
    if (g.cmd !== ETHTOOL_MSG_KERNEL.FEATURES_NTF) return;
    this.dataSeen();
    // The devices as they were when the notification came: during a dump the event is held until the dump
    // ends, and the dump may have read the new features by then (the change compared with itself: none).
    const known = new Map(this.devices);
    void this.features(g, 'features-ntf').then(
      (r) =>
        this.applyEvent(() => {
          const before = known.get(r.ifindex);
          const d = this.entity(r);
          this.sink.upsert('ethtool-dev', String(r.ifindex), d);
          const changes = featureChanges(before?.features ?? [], d.features);
          this.sink.event({
            source: this.id,
            type: 'features-ntf',
            summary: `${d.ifname}: features changed${changes.length ? `: ${changes.join(', ')}` : ''}`,
            ref: `ethtool-dev:${d.ifindex}`,
          });
          this.noteOkReason();
        }),
      (err) => this.decodeFailed(err, 'features-ntf'),
    );
  }
}

/** "esp-hw-offload on → off" for each feature whose active or requested state changed. */
export function featureChanges(before: readonly EthtoolFeature[], after: readonly EthtoolFeature[]): string[] {
  const prev = new Map(before.map((f) => [f.name, f]));
  const out: string[] = [];
  const onoff = (b: boolean) => (b ? 'on' : 'off');
  for (const f of after) {
    const p = prev.get(f.name);
    if (!p) continue;
    if (p.active !== f.active) out.push(`${f.name} ${onoff(p.active)} → ${onoff(f.active)}`);
    else if (p.requested !== f.requested) out.push(`${f.name} requested ${onoff(f.requested)} (active ${onoff(f.active)})`);
  }
  return out;
}

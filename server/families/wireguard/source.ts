// WireGuard, live: devices from the link view (rtnetlink kind "wireguard"), peers by one get-device dump per
// device. The family has no multicast groups and sends no events, so devices are re-read on an interval
// (refreshIntervalMs, default 5 s, while the host has at most peersPerInterval peers; above that the
// interval grows in proportion, so 10,000 peers are read every 50 s) and at once when a wireguard link
// appears or changes. The private and preshared keys never get past the decoder (device.ts).
import { NetlinkError } from '../../netlink/errors.ts';
import type { GenlMessage } from '../../genl/client.ts';
import { Errno } from '../../sys/errno.ts';
import type { Link } from '../../wire/entities.ts';
import type { WireguardDevice, WireguardPeer } from '../../wire/wireguard.ts';
import type { Logger } from '../../log.ts';
import type { ModelSink } from '../source.ts';
import type { LinkView } from '../link-view.ts';
import { GenlSource, type GenlSourceOptions } from '../genl-source.ts';
import { decodeWireguardGenl, getDeviceRequest, joinDeviceReplies, type WireguardDeviceAttrs } from './device.ts';
import { wireguardFamily, type WireguardOp } from './spec.ts';

export interface WireguardSourceOptions extends GenlSourceOptions {
  /** Devices are re-read this often while there are at most peersPerInterval peers; 0 = only on link changes and resyncs. */
  refreshIntervalMs?: number;
  /** Peers one interval covers; with more, the interval grows in proportion. */
  peersPerInterval?: number;
}

export class WireguardSource extends GenlSource<WireguardOp> {
  private readonly devices = new Map<number, WireguardDevice>();
  private readonly peers = new Map<string, WireguardPeer>();
  /** Devices dumped at least once (a peer appearing after that is news). */
  private readonly dumpedDevices = new Set<number>();
  /** The refresh timer's interval now (0: none). */
  private intervalMs = 0;

  constructor(sink: ModelSink, log: Logger, links: LinkView, private readonly opts: WireguardSourceOptions = {}) {
    super('wireguard', 'WireGuard (wireguard)', sink, log, links, { family: wireguardFamily, linkFilter: (l) => l.kind === 'wireguard', refreshMs: opts.refreshIntervalMs ?? 5000 }, opts);
  }

  protected override okReason(): string | undefined {
    return this.devices.size === 0 ? 'no wireguard device in this network namespace' : undefined;
  }

  protected async dumpAll(): Promise<void> {
    const links = await this.currentLinks();
    const seen = new Set<string>();
    for (const link of [...links.values()]) await this.readDevice(this.deviceOf(link), seen);
    for (const ifindex of [...this.devices.keys()]) if (!links.has(ifindex)) this.dropDevice(ifindex);
    // Peers of readable devices that the dumps did not return are gone; those of a device whose dump failed stay.
    for (const [key, p] of this.peers) if (!seen.has(key) && !this.devices.get(p.ifindex)?.error) this.peers.delete(key);
    this.sink.replaceAll('wg-dev', [...this.devices.values()].map((d) => ({ key: String(d.ifindex), value: d })));
    this.sink.replaceAll('wg-peer', [...this.peers.values()].map((p) => ({ key: p.key, value: p })));
    this.pace();
  }

  /** The configured interval, stretched in proportion above peersPerInterval peers. */
  private pacedMs(): number {
    const base = this.opts.refreshIntervalMs ?? 5000;
    return Math.round(base * Math.max(1, this.peers.size / (this.opts.peersPerInterval ?? 1000)));
  }

  protected override refreshEvery(ms: number): void {
    this.intervalMs = ms > 0 ? this.pacedMs() : 0;
    super.refreshEvery(this.intervalMs);
  }

  /** After a dump: re-arm the timer where the peer count moved the interval (not while stopped). */
  private pace(): void {
    if (this.intervalMs > 0 && this.pacedMs() !== this.intervalMs) this.refreshEvery(this.intervalMs);
  }

  private deviceOf(link: Link): WireguardDevice {
    const prev = this.devices.get(link.index);
    const dev: WireguardDevice = { ...prev, ifindex: link.index, name: link.name, operState: link.operState, peers: prev?.peers ?? 0 };
    this.devices.set(link.index, dev);
    return dev;
  }

  private async readDevice(dev: WireguardDevice, seen: Set<string>): Promise<void> {
    let replies: GenlMessage[];
    try {
      replies = await this.client!.dump('get-device', getDeviceRequest(dev.ifindex), `dump ${dev.name}`);
    } catch (err) {
      // No privilege is the whole source's state; a device that vanished meanwhile is simply gone.
      if (err instanceof NetlinkError && (err.errno === Errno.EPERM || err.errno === Errno.EACCES)) throw err;
      if (err instanceof NetlinkError && err.errno === Errno.ENODEV) return;
      dev.error = err instanceof Error ? err.message : String(err);
      return;
    }
    const parts: WireguardDeviceAttrs[] = [];
    for (const g of replies) {
      try {
        parts.push(decodeWireguardGenl(g, `get-device reply of ${dev.name}`).device);
      } catch (err) {
        this.decodeFailed(err, 'get-device reply');
      }
    }
    delete dev.error;
    const d = joinDeviceReplies(parts);
    for (const k of ['publicKey', 'listenPort', 'fwmark', 'unknown'] as const) {
      if (d[k] === undefined) delete dev[k];
      else (dev as Record<typeof k, unknown>)[k] = d[k];
    }
    dev.peers = d.peers.length;
    const first = !this.dumpedDevices.has(dev.ifindex);
    for (const a of d.peers) {
      const key = `${dev.ifindex}:${a.publicKey}`;
      seen.add(key);
      const before = this.peers.get(key);
      this.peers.set(key, { persistentKeepaliveSeconds: 0, rxBytes: 0n, txBytes: 0n, ...a, key, ifindex: dev.ifindex, device: dev.name });
      if (!before && !first) this.sink.event({ source: this.id, type: 'peer-new', summary: `${dev.name}: peer ${a.publicKey} added`, ref: `wg-peer:${key}` });
      // Roaming: the peer's packets now come from (or were set to go to) another address. A first endpoint is not a move.
      if (before?.endpoint && a.endpoint && before.endpoint !== a.endpoint) {
        this.sink.event({ source: this.id, type: 'peer-roamed', summary: `${dev.name}: peer ${a.publicKey} moved from ${before.endpoint} to ${a.endpoint}`, ref: `wg-peer:${key}` });
      }
    }
    this.dumpedDevices.add(dev.ifindex);
  }

  private dropDevice(ifindex: number): void {
    this.devices.delete(ifindex);
    this.dumpedDevices.delete(ifindex);
    for (const [key, p] of this.peers) if (p.ifindex === ifindex) this.peers.delete(key);
  }

  protected onLinkChange(l: Link, removed: boolean): void {
    if (removed) {
      if (!this.devices.has(l.index)) return;
      const peers = [...this.peers.values()].filter((p) => p.ifindex === l.index).map((p) => p.key);
      this.dropDevice(l.index);
      for (const k of peers) this.sink.remove('wg-peer', k);
      this.sink.remove('wg-dev', String(l.index));
      this.sink.event({ source: this.id, type: 'wg-dev-del', summary: `${l.name} removed`, ref: `wg-dev:${l.index}` });
      this.noteOkReason();
      return;
    }
    const known = this.devices.has(l.index);
    this.sink.upsert('wg-dev', String(l.index), this.deviceOf(l));
    if (!known) {
      this.sink.event({ source: this.id, type: 'wg-dev-new', summary: `${l.name} (wireguard) appeared`, ref: `wg-dev:${l.index}` });
      this.noteOkReason();
    }
    // A new device, a renamed one or one brought up or down: its peers now rather than at the next tick.
    void this.refresh();
  }

  /** The family has no multicast groups: nothing arrives here. */
  onNotification(_g: GenlMessage): void {}
}

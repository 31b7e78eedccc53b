// ovpn, live: devices from rtnetlink (kind "ovpn", RTNLGRP_LINK), peers by a peer-get dump per device,
// key slots by key-get, and the `peers` multicast group (peer-del-ntf, key-swap-ntf, peer-float-ntf).
//
// ovpn sends no counter events and no event for a userspace key-swap, so peers are re-read on a bounded
// interval (refreshIntervalMs, default 2 s): one peer-get dump per device and at most maxKeyReadsPerRefresh
// key-get requests (default 2000 = both slots of 1000 peers), taken round robin. With 10k peers a refresh
// is one dump of ~2.3 MB (≈230 bytes a peer) and 2000 key-gets in flight 32 at a time, so each peer's
// keys are re-read every 10 refreshes (20 s) while counters are fresh every 2 s; a key swap shows as a
// rotation within one key round. New peers and peers named by key-swap-ntf have their keys read first.
import { NetlinkError } from '../../netlink/errors.ts';
import type { GenlMessage } from '../../genl/client.ts';
import { Errno } from '../../sys/errno.ts';
import type { Link } from '../../wire/entities.ts';
import type { OvpnDevice, OvpnKeySlot, OvpnPeer } from '../../wire/ovpn.ts';
import type { Logger } from '../../log.ts';
import type { ModelSink } from '../source.ts';
import type { LinkView } from '../link-view.ts';
import { GenlSource, type GenlSourceOptions } from '../genl-source.ts';
import { decodeOvpnGenl, keyGetRequest, keySlot, peerDumpRequest, type OvpnPeerAttrs } from './peer.ts';
import { KEY_SLOTS, OVPN_CMD, ovpnFamily, type OvpnOp } from './spec.ts';

export interface OvpnSourceOptions extends GenlSourceOptions {
  /** Peers (counters, keys) are re-read this often; 0 = only on events and resyncs. */
  refreshIntervalMs?: number;
  /** Most key-get requests in one refresh (two per peer). */
  maxKeyReadsPerRefresh?: number;
  /** key-get requests in flight at once. */
  keyReadConcurrency?: number;
}

const emptyCounters = () => ({ rxBytes: 0n, txBytes: 0n, rxPackets: 0n, txPackets: 0n });

function endpoint(addr: string | undefined, port: number | undefined): string {
  if (!addr) return port ? `:${port}` : '?';
  return addr.includes(':') ? `[${addr}]:${port ?? 0}` : `${addr}:${port ?? 0}`;
}

/** Run fn over items with at most `width` promises in flight. */
async function pool<T>(items: T[], width: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

export class OvpnSource extends GenlSource<OvpnOp> {
  private readonly devices = new Map<number, OvpnDevice>();
  private readonly peers = new Map<string, OvpnPeer>();
  /** Peers whose keys were read at least once (a change after that is a rotation). */
  private readonly keysKnown = new Set<string>();
  /** Peers whose keys are read first in the next key round (new, or named by key-swap-ntf). */
  private readonly keysUrgent = new Set<string>();
  /** Devices dumped at least once (a peer appearing after that is news). */
  private readonly dumpedDevices = new Set<number>();
  private keyCursor = 0;

  constructor(sink: ModelSink, log: Logger, links: LinkView, private readonly opts: OvpnSourceOptions = {}) {
    super('ovpn', 'OpenVPN data-channel offload (ovpn)', sink, log, links, { family: ovpnFamily, linkFilter: (l) => l.kind === 'ovpn', refreshMs: opts.refreshIntervalMs ?? 2000 }, opts);
  }

  protected override okReason(): string | undefined {
    return this.devices.size === 0 ? 'no ovpn device in this network namespace' : undefined;
  }

  protected async dumpAll(): Promise<void> {
    const links = await this.currentLinks();
    const seen = new Set<string>();
    for (const link of [...links.values()]) await this.readPeers(this.deviceOf(link), seen);
    for (const ifindex of [...this.devices.keys()]) if (!links.has(ifindex)) this.dropDevice(ifindex);
    // Peers of readable devices that the dumps did not return are gone (deleted without a notification
    // we saw); peers of a device whose dump failed stay as they were.
    for (const [key, p] of this.peers) if (!seen.has(key) && !this.devices.get(p.ifindex)?.error) this.forgetPeer(key);
    await this.readKeyRound();
    this.sink.replaceAll('ovpn-dev', [...this.devices.values()].map((d) => ({ key: String(d.ifindex), value: d })));
    this.sink.replaceAll('ovpn-peer', [...this.peers.values()].map((p) => ({ key: p.key, value: p })));
  }

  private deviceOf(link: Link): OvpnDevice {
    const prev = this.devices.get(link.index);
    const dev: OvpnDevice = { ...prev, ifindex: link.index, name: link.name, operState: link.operState, peers: prev?.peers ?? 0 };
    if (link.ovpnMode) dev.mode = link.ovpnMode;
    this.devices.set(link.index, dev);
    return dev;
  }

  private async readPeers(dev: OvpnDevice, seen: Set<string>): Promise<void> {
    let replies: GenlMessage[];
    try {
      replies = await this.client!.dump('peer-get', peerDumpRequest(dev.ifindex), `dump peers of ${dev.name}`);
    } catch (err) {
      // No privilege is the whole source's state; a device that vanished meanwhile is simply gone.
      if (err instanceof NetlinkError && (err.errno === Errno.EPERM || err.errno === Errno.EACCES)) throw err;
      if (err instanceof NetlinkError && err.errno === Errno.ENODEV) return;
      dev.error = err instanceof Error ? err.message : String(err);
      return;
    }
    delete dev.error;
    const first = !this.dumpedDevices.has(dev.ifindex);
    let n = 0;
    for (const g of replies) {
      let attrs: OvpnPeerAttrs | undefined;
      try {
        attrs = decodeOvpnGenl(g, `peer of ${dev.name}`).peer;
      } catch (err) {
        this.decodeFailed(err, 'peer-get reply');
        continue;
      }
      if (!attrs) continue;
      n++;
      const key = `${dev.ifindex}:${attrs.id}`;
      seen.add(key);
      const isNew = !this.peers.has(key);
      this.mergePeer(dev, attrs);
      if (isNew) {
        this.keysUrgent.add(key);
        if (!first) this.sink.event({ source: this.id, type: 'peer-new', summary: `${dev.name}: peer ${attrs.id} (${endpoint(attrs.remoteAddress, attrs.remotePort)}) added`, ref: `ovpn-peer:${key}` });
      }
    }
    dev.peers = n;
    this.dumpedDevices.add(dev.ifindex);
  }

  /** Fold what the kernel said of a peer into the entity, keeping keys, state and rotation history. */
  private mergePeer(dev: OvpnDevice, a: OvpnPeerAttrs): OvpnPeer {
    const key = `${dev.ifindex}:${a.id}`;
    const prev = this.peers.get(key);
    const { delReason: _gone, ...attrs } = a;
    const p: OvpnPeer = {
      keys: [],
      state: 'no-key',
      rotations: 0,
      vpn: emptyCounters(),
      link: emptyCounters(),
      ...prev,
      ...attrs,
      key,
      ifindex: dev.ifindex,
      device: dev.name,
    };
    this.peers.set(key, p);
    return p;
  }

  /** Read key slots: urgent peers first, then round robin, at most maxKeyReadsPerRefresh requests. */
  private async readKeyRound(): Promise<void> {
    const budget = Math.max(2, Math.floor((this.opts.maxKeyReadsPerRefresh ?? 2000) / 2));
    const keys = [...this.peers.keys()];
    const chosen: string[] = [...this.keysUrgent].filter((k) => this.peers.has(k)).slice(0, budget);
    const picked = new Set(chosen);
    for (let i = 0; i < keys.length && chosen.length < budget; i++) {
      const k = keys[(this.keyCursor + i) % keys.length]!;
      if (!picked.has(k)) {
        chosen.push(k);
        picked.add(k);
      }
    }
    this.keyCursor = keys.length ? (this.keyCursor + budget) % keys.length : 0;
    await pool(chosen, this.opts.keyReadConcurrency ?? 32, (k) => this.readKeys(k));
  }

  private async readKeys(key: string): Promise<void> {
    const p = this.peers.get(key);
    if (!p) return;
    const slots: OvpnKeySlot[] = [];
    let error: string | undefined;
    for (const slot of KEY_SLOTS) {
      try {
        const [reply] = await this.client!.do('key-get', keyGetRequest(p.ifindex, p.id, slot), `read key slot ${slot} of peer ${p.id} on ${p.device}`);
        const k = reply ? decodeOvpnGenl(reply, 'key-get reply').keyconf : undefined;
        if (k) slots.push(keySlot(k));
      } catch (err) {
        // An empty slot: ENOENT "cannot extract key from slot N". Also ENOENT when the peer just went.
        if (err instanceof NetlinkError && err.errno === Errno.ENOENT) continue;
        if (err instanceof NetlinkError && (err.errno === Errno.EPERM || err.errno === Errno.EACCES)) throw err;
        if (err instanceof NetlinkError) error = err.message;
        else this.decodeFailed(err, 'key-get reply');
      }
    }
    this.keysUrgent.delete(key);
    const cur = this.peers.get(key);
    if (!cur) return; // deleted while we read
    this.applyKeys(cur, slots, error);
  }

  private applyKeys(p: OvpnPeer, slots: OvpnKeySlot[], error: string | undefined): void {
    const primary = (s: OvpnKeySlot[]) => s.find((x) => x.slot === 'primary');
    const before = primary(p.keys);
    const after = primary(slots);
    const changed = JSON.stringify(p.keys) !== JSON.stringify(slots);
    if (this.keysKnown.has(p.key) && after && before?.keyId !== after.keyId) {
      p.rotations++;
      p.lastRotation = Date.now();
      const secondary = slots.find((x) => x.slot === 'secondary');
      this.sink.event({
        source: this.id,
        type: 'key-swap',
        summary: `${p.device} peer ${p.id}: primary key ${before ? before.keyId : 'none'} → ${after.keyId} (${after.cipher})${secondary ? `, secondary ${secondary.keyId}` : ''}`,
        ref: `ovpn-peer:${p.key}`,
      });
    }
    this.keysKnown.add(p.key);
    p.keys = slots;
    if (error) p.keysError = error;
    else delete p.keysError;
    if (!after) p.state = 'no-key';
    else if (p.state !== 'rekey-needed' || changed) p.state = 'ok';
  }

  private forgetPeer(key: string): void {
    this.peers.delete(key);
    this.keysKnown.delete(key);
    this.keysUrgent.delete(key);
  }

  private dropDevice(ifindex: number): void {
    this.devices.delete(ifindex);
    this.dumpedDevices.delete(ifindex);
    for (const [key, p] of this.peers) if (p.ifindex === ifindex) this.forgetPeer(key);
  }

  protected onLinkChange(l: Link, removed: boolean): void {
    if (removed) {
      if (!this.devices.has(l.index)) return;
      const peers = [...this.peers.values()].filter((p) => p.ifindex === l.index).map((p) => p.key);
      this.dropDevice(l.index);
      for (const k of peers) this.sink.remove('ovpn-peer', k);
      this.sink.remove('ovpn-dev', String(l.index));
      this.sink.event({ source: this.id, type: 'ovpn-dev-del', summary: `${l.name} removed`, ref: `ovpn-dev:${l.index}` });
      this.noteOkReason();
      return;
    }
    const known = this.devices.has(l.index);
    const dev = this.deviceOf(l);
    this.sink.upsert('ovpn-dev', String(l.index), dev);
    if (!known) {
      this.sink.event({ source: this.id, type: 'ovpn-dev-new', summary: `${l.name} (${l.ovpnMode ?? 'ovpn'}) appeared`, ref: `ovpn-dev:${l.index}` });
      this.noteOkReason();
      void this.refresh(); // read its peers now rather than at the next tick
    }
  }

  /** One message from the `peers` group. */
  onNotification(g: GenlMessage): void {
    let m;
    try {
      m = decodeOvpnGenl(g, g.name);
    } catch (err) {
      this.decodeFailed(err, g.name);
      return;
    }
    this.dataSeen();
    this.applyEvent(() => {
      const dev = m.ifindex !== undefined ? this.devices.get(m.ifindex) : undefined;
      const devName = dev?.name ?? `ifindex ${m.ifindex ?? '?'}`;
      switch (m.cmd) {
        case OVPN_CMD.PEER_DEL_NTF: {
          if (!m.peer) return;
          const key = `${m.ifindex}:${m.peer.id}`;
          const reason = m.peer.delReason ?? 'unknown';
          this.forgetPeer(key);
          this.sink.remove('ovpn-peer', key);
          if (dev) {
            dev.peers = Math.max(0, dev.peers - 1);
            dev.lastPeerDeleted = { peerId: m.peer.id, reason, time: Date.now() };
            this.sink.upsert('ovpn-dev', String(dev.ifindex), dev);
          }
          this.sink.event({ source: this.id, type: 'peer-del-ntf', code: 'peer-deleted', summary: `${devName}: peer ${m.peer.id} deleted, reason ${reason}`, ref: `ovpn-peer:${key}` });
          return;
        }
        case OVPN_CMD.KEY_SWAP_NTF: {
          if (!m.keyconf) return;
          const key = `${m.ifindex}:${m.keyconf.peerId}`;
          const p = this.peers.get(key);
          if (p) {
            p.state = 'rekey-needed';
            this.sink.upsert('ovpn-peer', key, p);
            this.keysUrgent.add(key);
          }
          this.sink.event({
            source: this.id,
            type: 'key-swap-ntf',
            summary: `${devName}: peer ${m.keyconf.peerId} key ${m.keyconf.keyId ?? '?'} exhausted its IV space, renegotiation needed`,
            ref: `ovpn-peer:${key}`,
          });
          return;
        }
        case OVPN_CMD.PEER_FLOAT_NTF: {
          if (!m.peer) return;
          const key = `${m.ifindex}:${m.peer.id}`;
          const p = this.peers.get(key);
          if (p && dev) this.sink.upsert('ovpn-peer', key, this.mergePeer(dev, m.peer));
          this.sink.event({
            source: this.id,
            type: 'peer-float-ntf',
            summary: `${devName}: peer ${m.peer.id} floated to ${endpoint(m.peer.remoteAddress, m.peer.remotePort)}`,
            ref: `ovpn-peer:${key}`,
          });
          return;
        }
        default:
          return; // a command this table does not know (a newer kernel): nothing to show
      }
    });
  }
}

// PSP devices, live: dev-get dump, the mgmt group (dev-add/del/change-ntf) and the use group
// (key-rotate-ntf), get-stats where the running kernel's family has the operation (looked up in nlctrl's
// op list). PSP devices are per netns: sascope sees those of the namespace it runs in. Device names come
// from the link view (rtnetlink), not from the model. Stats are re-read every statsIntervalMs (one get-stats
// dump for all devices); dev-get is re-read with them, so a missed notification heals within a tick.
import { NetlinkError } from '../../netlink/errors.ts';
import type { GenlClient, GenlMessage } from '../../genl/client.ts';
import type { Link } from '../../wire/entities.ts';
import type { PspDevice, PspStats } from '../../wire/psp.ts';
import type { Logger } from '../../log.ts';
import type { ModelSink } from '../source.ts';
import type { LinkView } from '../link-view.ts';
import { GenlSource, type GenlSourceOptions } from '../genl-source.ts';
import { decodePspGenl, devGetRequest, statsRequest, type PspDevAttrs } from './dev.ts';
import { PSP_CMD, pspFamily, type PspOp } from './spec.ts';

export interface PspSourceOptions extends GenlSourceOptions {
  /** Devices and stats are re-read this often; 0 = only on events and resyncs. */
  statsIntervalMs?: number;
}

export const STATS_NOT_OFFERED = 'not offered by this kernel (no get-stats operation in the psp family)';

export class PspSource extends GenlSource<PspOp> {
  private statsOffered = false;
  private readonly devices = new Map<number, PspDevice>();

  constructor(sink: ModelSink, log: Logger, links: LinkView, private readonly opts: PspSourceOptions = {}) {
    super('psp', 'PSP devices (psp)', sink, log, links, { family: pspFamily, refreshMs: opts.statsIntervalMs ?? 2000 }, opts);
  }

  protected override familyResolved(client: GenlClient<PspOp>): void {
    this.statsOffered = client.offers('get-stats');
  }

  protected override okReason(): string | undefined {
    return this.devices.size === 0 ? 'no PSP device in this network namespace' : undefined;
  }

  private ifname(ifindex: number | undefined): string | undefined {
    return ifindex === undefined ? undefined : this.links.get(ifindex)?.name;
  }

  /** Fold what the kernel said of a device into the entity, keeping stats and rotation history. */
  private merge(a: PspDevAttrs): PspDevice {
    const prev = this.devices.get(a.id);
    const d: PspDevice = { ifindex: 0, versionsCapable: [], versionsEnabled: [], rotations: 0, ...prev, ...a };
    const name = this.ifname(d.ifindex);
    if (name) d.ifname = name;
    else delete d.ifname;
    if (!this.statsOffered) d.statsNote = STATS_NOT_OFFERED;
    this.devices.set(a.id, d);
    return d;
  }

  protected async dumpAll(): Promise<void> {
    await this.currentLinks();
    const seen = new Set<number>();
    for (const g of await this.client!.dump('dev-get', undefined, 'dump PSP devices')) {
      try {
        const dev = decodePspGenl(g, 'dev-get reply').dev;
        if (dev) seen.add(this.merge(dev).id);
      } catch (err) {
        this.decodeFailed(err, 'dev-get reply');
      }
    }
    for (const id of [...this.devices.keys()]) if (!seen.has(id)) this.devices.delete(id);
    if (this.statsOffered && this.devices.size > 0) await this.readStats();
    this.sink.replaceAll('psp-dev', [...this.devices.values()].map((d) => ({ key: String(d.id), value: d })));
  }

  /** get-stats for every device (one dump), or one device (a do-request after its key rotated). */
  private async readStats(id?: number): Promise<void> {
    let replies: GenlMessage[];
    try {
      replies = id === undefined
        ? await this.client!.dump('get-stats', undefined, 'dump PSP stats')
        : await this.client!.do('get-stats', statsRequest(id), `read stats of PSP device ${id}`);
    } catch (err) {
      const note = err instanceof NetlinkError ? err.message : String(err);
      for (const d of this.devices.values()) if (id === undefined || d.id === id) d.statsNote = note;
      return;
    }
    for (const g of replies) {
      let s: (PspStats & { devId: number }) | undefined;
      try {
        s = decodePspGenl(g, 'get-stats reply').stats;
      } catch (err) {
        this.decodeFailed(err, 'get-stats reply');
        continue;
      }
      const d = s && this.devices.get(s.devId);
      if (!s || !d) continue;
      const { devId: _id, ...stats } = s;
      d.stats = stats;
      delete d.statsNote;
    }
  }

  /** A renamed (or vanished) netdevice renames (or unnames) the PSP devices on it. */
  protected onLinkChange(l: Link, removed: boolean): void {
    const ifindex = l.index;
    const name = removed ? undefined : l.name;
    for (const d of this.devices.values()) {
      if (d.ifindex !== ifindex || d.ifname === name) continue;
      if (name) d.ifname = name;
      else delete d.ifname;
      this.sink.upsert('psp-dev', String(d.id), d);
    }
  }

  private label(d: PspDevice | PspDevAttrs): string {
    const name = 'ifname' in d && d.ifname ? d.ifname : this.ifname(d.ifindex);
    return `PSP device ${d.id}${name ? ` (${name})` : d.ifindex !== undefined ? ` (ifindex ${d.ifindex})` : ''}`;
  }

  /** One message from the mgmt or use group. */
  onNotification(g: GenlMessage): void {
    let m;
    try {
      m = decodePspGenl(g, g.name);
    } catch (err) {
      this.decodeFailed(err, g.name);
      return;
    }
    const a = m.dev;
    if (!a) return;
    this.dataSeen();
    this.applyEvent(() => {
      const key = String(a.id);
      const ref = `psp-dev:${a.id}`;
      switch (m.cmd) {
        case PSP_CMD.DEV_ADD_NTF:
        case PSP_CMD.DEV_CHANGE_NTF: {
          const d = this.merge(a);
          this.sink.upsert('psp-dev', key, d);
          const what = m.cmd === PSP_CMD.DEV_ADD_NTF ? 'appeared' : 'changed';
          this.sink.event({ source: this.id, type: g.name, summary: `${this.label(d)} ${what}: enabled ${d.versionsEnabled.join(', ') || 'none'} of ${d.versionsCapable.join(', ') || 'none'}${associations(d)}`, ref });
          if (m.cmd === PSP_CMD.DEV_ADD_NTF && this.statsOffered) void this.readStats(a.id).then(() => this.upsertIfKnown(a.id));
          // dev-disassoc notifies before it unlinks the device, so the notification still lists it;
          // a dev-get takes the PSP device's lock and so answers after the change is complete.
          if (m.cmd === PSP_CMD.DEV_CHANGE_NTF) void this.readDevice(a.id);
          break;
        }
        case PSP_CMD.DEV_DEL_NTF: {
          const d = this.devices.get(a.id) ?? a;
          this.devices.delete(a.id);
          this.sink.remove('psp-dev', key);
          this.sink.event({ source: this.id, type: g.name, summary: `${this.label(d)} removed`, ref });
          break;
        }
        case PSP_CMD.KEY_ROTATE_NTF: {
          const d = this.devices.get(a.id);
          if (d) {
            d.rotations++;
            d.lastRotation = Date.now();
            this.sink.upsert('psp-dev', key, d);
            if (this.statsOffered) void this.readStats(a.id).then(() => this.upsertIfKnown(a.id));
          }
          this.sink.event({ source: this.id, type: 'key-rotate', summary: `${this.label(d ?? a)}: device key rotated${d ? ` (rotation ${d.rotations} seen)` : ''}`, ref });
          break;
        }
        default:
          return;
      }
      this.noteOkReason();
    });
  }

  /** dev-get of one device, folded in (a device gone meanwhile: its dev-del-ntf settles it). */
  private async readDevice(id: number): Promise<void> {
    let replies: GenlMessage[];
    try {
      replies = await this.client!.do('dev-get', devGetRequest(id), `read PSP device ${id}`);
    } catch (err) {
      this.log.debug({ source: this.id, id, err: String(err) }, 'psp: re-reading a device failed');
      return;
    }
    this.applyEvent(() => {
      for (const g of replies) {
        try {
          const a = decodePspGenl(g, 'dev-get reply').dev;
          if (a && this.devices.has(a.id)) this.sink.upsert('psp-dev', String(a.id), this.merge(a));
        } catch (err) {
          this.decodeFailed(err, 'dev-get reply');
        }
      }
    });
  }

  private upsertIfKnown(id: number): void {
    const d = this.devices.get(id);
    if (d) this.sink.upsert('psp-dev', String(id), d);
  }
}

/** ", 2 associated devices" where the device has any. */
function associations(d: PspDevice): string {
  const n = d.associated?.length ?? 0;
  return n ? `, ${n} associated device${n === 1 ? '' : 's'}` : '';
}

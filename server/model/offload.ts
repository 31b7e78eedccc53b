// The offload view: SAs grouped by the device they are offloaded to (XFRMA_OFFLOAD_DEV, decoded by the
// XFRM source), next to the device's features (ethtool) and counters (rtnetlink), with the judgements an
// operator needs: packet-offload SA counters come from the driver and may lag; an SA offloaded to a
// device whose esp-hw-offload has been switched off is encrypted in software again; and how a failed
// offload request shows — the kernel keeps no trace of it (xfrm_dev_state_add, net/xfrm/xfrm_device.c):
//   • crypto offload on a device without xfrmdev_ops (veth, dummy, or esp-hw-offload never offered), or a
//     driver answering EOPNOTSUPP → the SA is added without offload: a plain software SA;
//   • any other driver error (netdevsim: not rfc4106(gcm(aes)) 128-bit + ICV 128), and every failed
//     packet-offload request → the add is refused with an extack message: no SA exists.
// Computed from the model's own tables (wire form: 64-bit counters are decimal strings).
import type { OnWire, Link } from '../wire/entities.ts';
import type { SecurityAssociation, XfrmPolicy } from '../wire/xfrm.ts';
import type { EthtoolDevice, OffloadDevice, OffloadInfo, OffloadedSa } from '../wire/ethtool.ts';

export const OFFLOAD_FALLBACK_NOTE =
  'The kernel keeps no trace of an offload request that did not take: crypto offload asked of a device without IPsec offload ' +
  '(or whose driver answers EOPNOTSUPP) yields an ordinary software SA without offload, and a request the driver rejects ' +
  '(unsupported algorithm, key or ICV size) or any failed packet-offload request is refused — no SA appears.';

export const NO_CAPABLE_DEVICE = 'no offload-capable device';

type WSa = OnWire<SecurityAssociation>;
type WLink = OnWire<Link>;
type WEth = OnWire<EthtoolDevice>;
type WPolicy = OnWire<XfrmPolicy>;

export interface OffloadInputs {
  sas: readonly WSa[];
  links: readonly WLink[];
  ethtool: readonly WEth[];
  policies: readonly WPolicy[];
  /** The ethtool source's state: when it is not ok, capability is unknown rather than absent. */
  ethtoolState?: { state: string; reason?: string };
}

const big = (v: string | number | undefined): bigint => {
  try {
    return BigInt(v ?? 0);
  } catch {
    return 0n;
  }
};

export function offloadView(inp: OffloadInputs): { devices: OffloadDevice[]; info: OffloadInfo } {
  const links = new Map(inp.links.map((l) => [l.index, l]));
  const eth = new Map(inp.ethtool.map((e) => [e.ifindex, e]));
  const devices = new Map<number, OffloadDevice>();

  const device = (ifindex: number): OffloadDevice => {
    let d = devices.get(ifindex);
    if (d) return d;
    const l = links.get(ifindex);
    const e = eth.get(ifindex);
    d = {
      key: String(ifindex),
      ifindex,
      present: l !== undefined,
      capable: e?.ipsec.capable ?? false,
      sas: [],
      counts: { in: 0, out: 0, crypto: 0, packet: 0 },
      saTotals: { bytes: 0n, packets: 0n },
      policies: [],
      notes: [],
    };
    const name = l?.name ?? e?.ifname;
    if (name) d.ifname = name;
    if (l?.kind) d.kind = l.kind;
    if (l?.operState) d.operState = l.operState;
    if (e?.ipsec.espHwOffload) d.espHwOffload = e.ipsec.espHwOffload;
    if (e?.ipsec.espTxCsum) d.espTxCsum = e.ipsec.espTxCsum;
    if (e) d.driverStats = { ...e.driverStats, ipsec: [...e.driverStats.ipsec], psp: [...e.driverStats.psp] };
    if (l?.stats) {
      const s = l.stats;
      d.nic = { rxBytes: big(s.rxBytes), txBytes: big(s.txBytes), rxPackets: big(s.rxPackets), txPackets: big(s.txPackets), rxDropped: big(s.rxDropped), txDropped: big(s.txDropped) };
    }
    devices.set(ifindex, d);
    return d;
  };

  // Every device that can offload is listed, with or without SAs.
  for (const e of inp.ethtool) if (e.ipsec.capable) device(e.ifindex);

  let offloaded = 0;
  let packet = 0;
  for (const sa of inp.sas) {
    const o = sa.offload;
    if (!o) continue;
    offloaded++;
    const d = device(o.ifindex);
    const mode = o.type === 'packet' ? 'packet' : 'crypto';
    if (mode === 'packet') packet++;
    const bytes = big(sa.lifetime?.current?.bytes);
    const packets = big(sa.lifetime?.current?.packets);
    const entry: OffloadedSa = {
      key: sa.key, spi: sa.spi, src: sa.src, dst: sa.dst, dir: o.dir, mode, bytes, packets,
      countersFromDriver: mode === 'packet',
      state: 'offloaded',
    };
    if (!d.present) {
      entry.state = 'device-gone';
      entry.note = `ifindex ${o.ifindex} names no link in this network namespace`;
    } else if (eth.has(o.ifindex) && !d.capable) {
      entry.state = 'software-fallback';
      entry.note = `${d.ifname ?? `ifindex ${o.ifindex}`} no longer has esp-hw-offload active: the kernel encrypts this SA's packets in software`;
    } else if (mode === 'packet') {
      entry.note = 'SA counters come from the driver and may lag (packet offload)';
    }
    d.sas.push(entry);
    d.counts[o.dir === 'in' ? 'in' : 'out']++;
    d.counts[mode]++;
    d.saTotals.bytes += bytes;
    d.saTotals.packets += packets;
  }

  for (const p of inp.policies) {
    if (!p.offload) continue;
    device(p.offload.ifindex).policies.push(p.key);
  }

  for (const d of devices.values()) {
    if (d.counts.packet > 0) d.notes.push('SA counters come from the driver and may lag (packet offload)');
    if (d.sas.some((s) => s.state === 'software-fallback')) d.notes.push('esp-hw-offload is off: SAs offloaded here fall back to software');
    if (d.policies.length > 0 && d.counts.packet === 0) d.notes.push('XFRM policies ask for packet offload on this device, but no SA here is packet-offloaded');
    if (d.espHwOffload && d.espHwOffload.requested !== d.espHwOffload.active) {
      d.notes.push(`esp-hw-offload requested ${d.espHwOffload.requested ? 'on' : 'off'} but ${d.espHwOffload.active ? 'on' : 'off'}`);
    }
    d.sas.sort((a, b) => a.key.localeCompare(b.key));
  }

  const capableDevices = inp.ethtool.filter((e) => e.ipsec.capable).map((e) => ({ ifindex: e.ifindex, ifname: links.get(e.ifindex)?.name ?? e.ifname }));
  const info: OffloadInfo = {
    key: 'offload',
    capableDevices,
    offloadedSas: offloaded,
    packetOffloadSas: packet,
    softwareSas: inp.sas.length - offloaded,
    fallback: OFFLOAD_FALLBACK_NOTE,
  };
  const st = inp.ethtoolState;
  if (st && st.state !== 'ok' && st.state !== 'stale') info.capabilityUnknown = `ethtool source ${st.state}${st.reason ? `: ${st.reason}` : ''}`;
  if (capableDevices.length === 0) info.note = NO_CAPABLE_DEVICE;
  return { devices: [...devices.values()].sort((a, b) => a.ifindex - b.ifindex), info };
}

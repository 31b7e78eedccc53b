'use client';
// XFRM offload: which devices can take SAs (esp-hw-offload active), and the SAs grouped by the device
// they are offloaded to, with the flags an operator must not miss: packet-offload counters come from
// the driver and may lag; an offload that fell back to software (or whose device is gone).
import Link from 'next/link';
import type { OnWire } from '@/server/wire/entities';
import type { OffloadDevice, OffloadedSa } from '@/server/wire/ethtool';
import { useEntities } from '../live/keys';
import { Panel, PanelBody, PanelState } from '../ui/Panel';
import { DataTable, columnsOf } from '../ui/DataTable';
import { Badge } from '../ui/Badge';
import { formatBytes, formatCount, formatSpi } from '../format';

type Dev = OnWire<OffloadDevice>;
type OSa = OnWire<OffloadedSa>;

const STATE_WORDS: Record<OSa['state'], string> = {
  offloaded: 'offloaded',
  'software-fallback': 'fell back to software',
  'device-gone': 'device gone',
};

export function OffloadStateBadge({ sa }: { sa: OSa }) {
  return (
    <Badge tone={sa.state === 'offloaded' ? 'accent' : 'bad'} title={sa.note} testId={`offload-state-${sa.key}`}>
      {STATE_WORDS[sa.state] ?? sa.state}
    </Badge>
  );
}

const saColumns = columnsOf<OSa>([
  {
    id: 'spi',
    header: 'SPI',
    cell: (s) => (
      <Link href={`/sas?sa=${encodeURIComponent(s.key)}`} className="font-mono text-blue-700 underline-offset-2 hover:underline dark:text-blue-400">
        {formatSpi(s.spi)}
      </Link>
    ),
    sortValue: (s) => s.spi >>> 0,
  },
  { id: 'src', header: 'Source → destination', cell: (s) => <span className="font-mono text-xs">{s.src} → {s.dst}</span>, sortValue: (s) => s.src },
  { id: 'dir', header: 'Dir', cell: (s) => s.dir, sortValue: (s) => s.dir },
  { id: 'mode', header: 'Mode', cell: (s) => s.mode, sortValue: (s) => s.mode },
  { id: 'bytes', header: 'Bytes', cell: (s) => formatBytes(s.bytes), sortValue: (s) => BigInt(s.bytes), align: 'right' },
  { id: 'packets', header: 'Packets', cell: (s) => `${formatCount(s.packets)} pkt`, sortValue: (s) => BigInt(s.packets), align: 'right' },
  {
    id: 'state',
    header: 'State',
    cell: (s) => (
      <span className="flex flex-wrap gap-1">
        <OffloadStateBadge sa={s} />
        {s.countersFromDriver && (
          <Badge tone="warn" title="Packet offload: the kernel reads SA counters from the driver (xdo_dev_state_update_stats)">
            counters from driver, may lag
          </Badge>
        )}
      </span>
    ),
    sortValue: (s) => s.state,
  },
  // The packet-offload note repeats the badge; other notes say why an SA is not offloaded.
  { id: 'note', header: 'Note', cell: (s) => <span className="text-xs text-slate-600 dark:text-slate-400">{s.state === 'offloaded' && s.countersFromDriver ? '' : s.note ?? ''}</span> },
]);

/** One offload device and its SAs. `embedded`: inside the device detail (no panel frame). */
export function OffloadGroup({ dev, embedded }: { dev: Dev; embedded?: boolean }) {
  const name = dev.ifname ?? `ifindex ${dev.ifindex}`;
  const fallback = dev.sas.filter((s) => s.state !== 'offloaded').length;
  const body = (
    <div data-testid={`offload-dev-${dev.ifindex}`}>
      <div className="flex flex-wrap items-center gap-2 px-4 py-2 text-sm">
        {embedded && <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Offloaded SAs</h3>}
        {!dev.present ? <Badge tone="bad">device not in this namespace</Badge> : dev.capable ? <Badge tone="accent">esp-hw-offload active</Badge> : <Badge tone="bad">esp-hw-offload not active</Badge>}
        {dev.kind && <span className="text-xs text-slate-500">kind {dev.kind}</span>}
        {dev.operState && <span className="text-xs text-slate-500">{dev.operState}</span>}
        <span className="text-xs">
          {dev.sas.length} SA{dev.sas.length === 1 ? '' : 's'} · in {dev.counts.in} / out {dev.counts.out} · crypto {dev.counts.crypto} / packet {dev.counts.packet}
        </span>
        {fallback > 0 && <Badge tone="bad">{fallback} not offloaded</Badge>}
      </div>
      <dl className="grid gap-x-6 px-4 pb-2 text-xs sm:grid-cols-2">
        <div className="flex gap-2">
          <dt className="text-slate-500">SA counters (sum)</dt>
          <dd className="tabular">
            {formatBytes(dev.saTotals.bytes)} · {formatCount(dev.saTotals.packets)} pkt
          </dd>
        </div>
        <div className="flex gap-2">
          <dt className="text-slate-500">NIC counters</dt>
          <dd className="tabular">
            {dev.nic
              ? `RX ${formatBytes(dev.nic.rxBytes)} (${formatCount(dev.nic.rxPackets)} pkt) · TX ${formatBytes(dev.nic.txBytes)} (${formatCount(dev.nic.txPackets)} pkt) · dropped ${formatCount(dev.nic.rxDropped)} / ${formatCount(dev.nic.txDropped)} pkt`
              : '—'}
          </dd>
        </div>
        {dev.driverStats && dev.driverStats.ipsec.length + dev.driverStats.psp.length > 0 && (
          <div className="flex gap-2 sm:col-span-2">
            <dt className="text-slate-500">driver IPsec/PSP counters</dt>
            <dd>
              <span className="font-mono">{[...dev.driverStats.ipsec, ...dev.driverStats.psp].join(', ')}</span> — {dev.driverStats.note}
            </dd>
          </div>
        )}
        {dev.policies.length > 0 && (
          <div className="flex gap-2 sm:col-span-2">
            <dt className="text-slate-500">policies with offload</dt>
            <dd className="font-mono">{dev.policies.join(', ')}</dd>
          </div>
        )}
      </dl>
      {dev.notes.length > 0 && (
        <ul className="space-y-0.5 px-4 pb-2 text-xs text-amber-800 dark:text-amber-300">
          {dev.notes.map((n, i) => (
            <li key={i}>{n}</li>
          ))}
        </ul>
      )}
      <PanelBody empty={dev.sas.length === 0 && `No SAs offloaded to ${name}.`}>
        <DataTable label={`SAs offloaded to ${name}`} rows={dev.sas} columns={saColumns} rowKey={(s) => s.key} initialSort={{ id: 'spi' }} rowTestId={(s) => `offload-sa-${s.key}`} />
      </PanelBody>
    </div>
  );
  if (embedded) return body;
  return (
    <Panel title={`Offload device ${name}`} id={`offload-${dev.ifindex}`}>
      {body}
    </Panel>
  );
}

/** The offload summary: capable devices (or "no offload-capable device"), counts, and how fallback shows. */
export function OffloadSummary() {
  const info = useEntities('offload-info');
  const i = info?.rows.get('offload');
  return (
    <Panel title="IPsec offload" id="offload-summary">
      <PanelBody loading={!info && 'Loading the offload view…'} empty={!i && 'No offload view from the server yet.'} data={i}>
        {(i) => (
          <div className="space-y-2 px-4 py-3 text-sm" data-testid="offload-summary">
            <div className="flex flex-wrap items-center gap-2">
              {i.capableDevices.length === 0 ? (
                <Badge tone="muted" testId="no-offload-device">
                  no offload-capable device
                </Badge>
              ) : (
                <>
                  <span className="text-slate-500">Offload-capable:</span>
                  {i.capableDevices.map((d) => (
                    <Badge key={d.ifindex} tone="accent">
                      {d.ifname}
                    </Badge>
                  ))}
                </>
              )}
              <span className="ml-auto tabular text-xs">
                {i.offloadedSas} offloaded SA{i.offloadedSas === 1 ? '' : 's'} ({i.packetOffloadSas} packet offload) · {i.softwareSas} in software
              </span>
            </div>
            {i.note && i.capableDevices.length > 0 && <p className="text-slate-600 dark:text-slate-400">{i.note}</p>}
            {i.capabilityUnknown && (
              <p role="status" className="text-amber-800 dark:text-amber-300">
                Capability unknown: {i.capabilityUnknown}
              </p>
            )}
            {i.packetOffloadSas > 0 && (
              <p className="text-amber-800 dark:text-amber-300">Packet offload: SA counters come from the driver and may lag.</p>
            )}
            <p className="text-xs text-slate-500">
              <span className="font-medium">If an offload request fails:</span> {i.fallback}
            </p>
          </div>
        )}
      </PanelBody>
    </Panel>
  );
}

/** Every offload device with SAs (or an offload request), one panel each; `exclude`: the one the device detail shows. */
export function OffloadGroups({ exclude }: { exclude?: number }) {
  const off = useEntities('offload-dev');
  const all = off ? [...off.rows.values()].sort((a, b) => a.ifindex - b.ifindex) : [];
  const devs = all.filter((d) => d.ifindex !== exclude);
  if (!off) return <PanelState kind="loading">Loading offload devices…</PanelState>;
  if (devs.length === 0 && all.length > 0) return null;
  if (devs.length === 0)
    return (
      <Panel title="SAs by offload device" id="offload-groups">
        <PanelState kind="empty">No SA is offloaded to a device: the kernel’s software crypto does all IPsec work.</PanelState>
      </Panel>
    );
  return (
    <>
      {devs.map((d) => (
        <OffloadGroup key={d.key} dev={d} />
      ))}
    </>
  );
}

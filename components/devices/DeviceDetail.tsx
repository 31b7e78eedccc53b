'use client';
// One device: identity, counters with rates, ethtool features (requested vs active, the kernel's own
// names), the driver's IPsec/PSP statistics and, when it carries offloaded SAs, its offload group.
import { useMemo } from 'react';
import type { Link as LinkEntity, OnWire } from '@/server/wire/entities';
import type { EthtoolFeature } from '@/server/wire/ethtool';
import { useEntities } from '../live/keys';
import { rates } from '../live/rates';
import { Panel, PanelBody } from '../ui/Panel';
import { DataTable, columnsOf } from '../ui/DataTable';
import { Badge } from '../ui/Badge';
import { RelTime } from '../ui/RelTime';
import { Sparkline } from '../ui/Sparkline';
import { formatBytes, formatCount } from '../format';
import { linkIsUp, linkKind } from '../DevicesTable';
import { useSource } from '../SourceNotice';
import { OffloadGroup } from './OffloadPanels';

type Feature = OnWire<EthtoolFeature>;

/** Features an IPsec/PSP operator looks at first. */
const INTERESTING = /esp|psp|ipsec|tls|macsec|xfrm|hw-tc|rx-checksum|tx-checksum|gso|tso/;

function Row({ k, children }: { k: string; children: React.ReactNode }) {
  return (
    <div className="grid grid-cols-[10rem_1fr] gap-2 py-0.5 text-sm">
      <dt className="text-slate-500 dark:text-slate-400">{k}</dt>
      <dd className="font-mono text-xs leading-5">{children}</dd>
    </div>
  );
}

const yesNo = (v: boolean) => (v ? 'on' : 'off');

const featureColumns = columnsOf<Feature>([
  { id: 'name', header: 'Feature', cell: (f) => <span className="font-mono text-xs">{f.name}</span>, sortValue: (f) => f.name },
  { id: 'req', header: 'Requested', cell: (f) => yesNo(f.requested), sortValue: (f) => Number(f.requested) },
  {
    id: 'active',
    header: 'Active',
    cell: (f) => <span className={f.active ? 'font-medium text-emerald-700 dark:text-emerald-400' : 'text-slate-500'}>{yesNo(f.active)}</span>,
    sortValue: (f) => Number(f.active),
  },
  { id: 'chg', header: 'Changeable', cell: (f) => (f.nochange ? 'never' : f.changeable ? 'yes' : 'fixed'), sortValue: (f) => Number(f.changeable) },
  {
    id: 'note',
    header: 'Note',
    cell: (f) =>
      f.requested && !f.active ? (
        <Badge tone="warn">requested, not active</Badge>
      ) : !f.requested && f.active ? (
        <Badge tone="info">active, not requested</Badge>
      ) : null,
    sortValue: (f) => Number(f.requested !== f.active),
  },
]);

export function DeviceDetail({ link, features, setFeatures, onClose }: { link: OnWire<LinkEntity>; features: 'all' | 'ipsec'; setFeatures: (v: 'all' | 'ipsec') => void; onClose: () => void }) {
  const key = String(link.index);
  const eth = useEntities('ethtool-dev');
  const off = useEntities('offload-dev');
  const links = useEntities('link');
  const ethSrc = useSource('ethtool');
  const e = eth?.rows.get(key);
  const group = off?.rows.get(key);
  const shown = useMemo(() => {
    const all = e?.features ?? [];
    return features === 'all' ? all : all.filter((f) => INTERESTING.test(f.name) || f.requested !== f.active);
  }, [e, features]);
  const nameOf = (i: number | undefined) => (i === undefined ? undefined : links?.rows.get(String(i))?.name ?? `ifindex ${i}`);
  const s = link.stats;

  return (
    <Panel
      title={`Device ${link.name}`}
      id="device-detail"
      actions={
        <button type="button" onClick={onClose} className="rounded border border-slate-300 px-2 py-0.5 text-xs dark:border-slate-700" aria-label={`Close details of ${link.name}`}>
          Close
        </button>
      }
    >
      <div className="grid gap-4 p-4 lg:grid-cols-2" data-testid="device-detail">
        <dl>
          <Row k="ifindex / name">
            {link.index} / {link.name}
          </Row>
          <Row k="kind">
            {linkKind(link)}
            {link.kind && link.type !== link.kind ? ` (type ${link.type})` : ''}
          </Row>
          {link.xfrmIfId !== undefined && <Row k="xfrm if_id">{link.xfrmIfId}</Row>}
          {link.ovpnMode && <Row k="ovpn mode">{link.ovpnMode}</Row>}
          <Row k="state">
            <span className={linkIsUp(link) ? 'text-emerald-700 dark:text-emerald-400' : ''}>{link.operState}</span>
            {link.flags.includes('UP') ? '' : ' (admin down)'}
          </Row>
          <Row k="flags">{link.flags.join(' ') || '—'}</Row>
          <Row k="MTU">{link.mtu !== undefined ? `${link.mtu} B` : '—'}</Row>
          {link.address && <Row k="address">{link.address}</Row>}
          {link.link !== undefined && <Row k="lower device">{nameOf(link.link)}</Row>}
          {link.master !== undefined && <Row k="master">{nameOf(link.master)}</Row>}
        </dl>
        <dl>
          {!s ? (
            <p className="text-sm text-slate-500">No counters for this device.</p>
          ) : (
            <>
              <Row k="RX">
                {formatBytes(s.rxBytes)} · {formatCount(s.rxPackets)} pkt · {formatBytes(Math.round(rates.linkRx.rate(key)))}/s
              </Row>
              <Row k="">
                <Sparkline values={rates.linkRx.series(key)} label={`${link.name} receive rate, bytes per second`} />
              </Row>
              <Row k="TX">
                {formatBytes(s.txBytes)} · {formatCount(s.txPackets)} pkt · {formatBytes(Math.round(rates.linkTx.rate(key)))}/s
              </Row>
              <Row k="">
                <Sparkline values={rates.linkTx.series(key)} label={`${link.name} transmit rate, bytes per second`} />
              </Row>
              <Row k="errors RX / TX">
                {formatCount(s.rxErrors)} / {formatCount(s.txErrors)} pkt
              </Row>
              <Row k="dropped RX / TX">
                {formatCount(s.rxDropped)} / {formatCount(s.txDropped)} pkt
              </Row>
            </>
          )}
        </dl>
      </div>

      <section aria-labelledby="dev-features-title" className="border-t border-slate-200 dark:border-slate-800">
        <div className="flex flex-wrap items-center gap-3 px-4 py-2">
          <h3 id="dev-features-title" className="text-xs font-semibold uppercase tracking-wide text-slate-500">
            ethtool features{e ? ` (${shown.length} of ${e.features.length})` : ''}
          </h3>
          {e && !e.error && (
            <>
              {e.ipsec.espHwOffload ? (
                e.ipsec.capable ? <Badge tone="accent">esp-hw-offload active</Badge> : <Badge tone="muted">esp-hw-offload off</Badge>
              ) : (
                <Badge tone="muted">no esp-hw-offload feature</Badge>
              )}
              {e.ipsec.espTxCsum && <Badge tone={e.ipsec.espTxCsum.active ? 'accent' : 'muted'}>esp-tx-csum-hw-offload {yesNo(e.ipsec.espTxCsum.active)}</Badge>}
              <span className="text-xs text-slate-500">
                read <RelTime ms={e.updatedAt} />
              </span>
            </>
          )}
          <fieldset className="ml-auto flex items-center gap-3 text-xs">
            <legend className="sr-only">Which features to show</legend>
            <label className="flex items-center gap-1">
              <input type="radio" name="features" checked={features === 'ipsec'} onChange={() => setFeatures('ipsec')} /> offload-related and changed
            </label>
            <label className="flex items-center gap-1">
              <input type="radio" name="features" checked={features === 'all'} onChange={() => setFeatures('all')} /> all
            </label>
          </fieldset>
        </div>
        <PanelBody
          loading={!eth && 'Loading ethtool features…'}
          error={!e ? ethSrc && ethSrc.state !== 'ok' && `ethtool features unavailable: ${ethSrc.reason ?? ethSrc.state}` : e.error && `Features of ${link.name} unreadable: ${e.error}`}
          empty={!e ? `No ethtool view of ${link.name} yet.` : shown.length === 0 && `No offload-related features on ${link.name}; choose “all” to see every feature.`}
        >
          <DataTable label={`ethtool features of ${link.name}`} rows={shown} columns={featureColumns} rowKey={(f) => f.name} initialSort={{ id: 'name' }} rowTestId={(f) => `feature-${f.name}`} />
        </PanelBody>
      </section>

      {e && !e.error && (
        <section aria-labelledby="dev-stats-title" className="border-t border-slate-200 px-4 py-2 dark:border-slate-800">
          <h3 id="dev-stats-title" className="text-xs font-semibold uppercase tracking-wide text-slate-500">
            NIC IPsec / PSP counters
          </h3>
          {e.driverStats.ipsec.length + e.driverStats.psp.length === 0 ? (
            <p className="text-sm text-slate-500">
              The driver has no IPsec or PSP statistics ({e.driverStats.count} driver statistics in all).
            </p>
          ) : (
            <>
              <p className="text-xs text-slate-500">{e.driverStats.note}</p>
              <ul className="mt-1 flex flex-wrap gap-1" aria-label="Driver IPsec and PSP statistic names">
                {[...e.driverStats.ipsec, ...e.driverStats.psp].map((n) => (
                  <li key={n} className="rounded bg-slate-100 px-1.5 font-mono text-xs dark:bg-slate-800">
                    {n}
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
      )}

      {group && (
        <section aria-label={`SAs offloaded to ${link.name}`} className="border-t border-slate-200 dark:border-slate-800">
          <OffloadGroup dev={group} embedded />
        </section>
      )}
    </Panel>
  );
}

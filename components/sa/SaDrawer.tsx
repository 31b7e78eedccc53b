'use client';
// Everything about one SA: identity, algorithms (never keys: name, length, fingerprint), lifetime and
// sequence-space bars, counters with a rate sparkline, offload, PF_KEY cross-check, rotations.
import { useEffect, useRef } from 'react';
import Link from 'next/link';
import { useEntities, useLiveStatus } from '../live/keys';
import { rates } from '../live/rates';
import { Sparkline, UsageBar } from '../ui/Sparkline';
import { RelTime } from '../ui/RelTime';
import { PanelBody } from '../ui/Panel';
import { U64_MAX, formatBytes, formatCount, formatSpi } from '../format';
import { CheckBadge } from '../pfkey/CheckBadge';
import { algorithmText, formatDuration, limitText, secondsLeft, sequenceUsedPercent, type Sa } from './sa-text';

function Row({ k, children }: { k: string; children: React.ReactNode }) {
  return (
    <div className="grid grid-cols-[9rem_1fr] gap-2 py-0.5 text-sm">
      <dt className="text-slate-500 dark:text-slate-400">{k}</dt>
      <dd className="break-all font-mono text-xs leading-5">{children}</dd>
    </div>
  );
}

function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <section className="space-y-1 border-t border-slate-200 pt-3 dark:border-slate-800">
      <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">{title}</h3>
      {children}
    </section>
  );
}

function limitBar(label: string, used: string, limit: string, fmt: (v: string) => string) {
  if (limit === U64_MAX || limit === '0') return null;
  return <UsageBar key={label} label={label} used={Number(used)} limit={Number(limit)} text={`${fmt(used)} of ${fmt(limit)}`} />;
}

export function SaDrawer({ sa, saKey, onClose }: { sa: Sa | undefined; saKey: string; onClose: () => void }) {
  const closeBtn = useRef<HTMLButtonElement>(null);
  const { now } = useLiveStatus();
  const links = useEntities('link');
  const checks = useEntities('pfkey-check');
  const events = useEntities('event');
  useEffect(() => closeBtn.current?.focus(), [saKey]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const nowMs = now ?? Date.now();
  const check = checks?.rows.get(saKey);
  const offloadDevs = useEntities('offload-dev');
  const offloaded = sa?.offload ? offloadDevs?.rows.get(String(sa.offload.ifindex))?.sas.find((o) => o.key === sa.key) : undefined;
  const related = events ? [...events.rows.values()].filter((e) => e.subject?.kind === 'sa' && e.subject.key === saKey).slice(-10).reverse() : [];
  const cfg = sa?.lifetime.config;
  const cur = sa?.lifetime.current;
  const seqPct = sa ? sequenceUsedPercent(sa) : undefined;
  const addedAgo = cur && Number(cur.addTime) ? nowMs / 1000 - Number(cur.addTime) : undefined;

  return (
    <aside
      role="dialog"
      aria-modal="false"
      aria-label={sa ? `SA ${formatSpi(sa.spi)} details` : 'SA details'}
      data-testid="sa-drawer"
      className="fixed inset-y-0 right-0 z-30 w-full max-w-xl overflow-y-auto border-l border-slate-200 bg-white p-4 shadow-xl dark:border-slate-800 dark:bg-slate-900"
    >
      <div className="mb-3 flex items-start justify-between gap-2">
        <div>
          <h2 className="font-mono text-lg font-semibold">{sa ? `${sa.proto} ${formatSpi(sa.spi)}` : 'SA gone'}</h2>
          {sa && (
            <p className="font-mono text-xs text-slate-500">
              {sa.src} → {sa.dst} · {String(sa.mode)} · reqid {sa.reqid}
              {sa.dir ? ` · dir ${sa.dir}` : ''}
            </p>
          )}
        </div>
        <button ref={closeBtn} type="button" onClick={onClose} className="rounded border border-slate-300 px-2 py-1 text-sm dark:border-slate-700" aria-label="Close details">
          Close
        </button>
      </div>
      <PanelBody empty={!sa && 'This SA is no longer in the kernel (deleted or expired). Its history stays in the event log.'} data={sa}>
        {(sa) => (
          <div className="space-y-3">
            <Section title="Counters">
              <Row k="bytes">{formatBytes(cur!.bytes)} ({formatCount(cur!.bytes)})</Row>
              <Row k="packets">{formatCount(cur!.packets)}</Row>
              <Row k="rate">
                <span className="mr-2">{formatBytes(Math.round(rates.saBytes.rate(sa.key)))}/s</span>
                <Sparkline values={rates.saBytes.series(sa.key)} label="bytes per second, recent" />
              </Row>
              <Row k="added">{addedAgo !== undefined ? <RelTime ms={Number(cur!.addTime) * 1000} /> : '—'}</Row>
              <Row k="last used">{Number(cur!.useTime) ? <RelTime ms={Number(cur!.useTime) * 1000} /> : 'never'}</Row>
              <Row k="replay / integrity">
                window {sa.stats.replayWindow}, replay {sa.stats.replay}, integrity failures {sa.stats.integrityFailed}
              </Row>
            </Section>
            <Section title="Lifetime">
              <div className="space-y-2">
                {limitBar('bytes to soft limit', cur!.bytes, cfg!.softByteLimit, formatBytes)}
                {limitBar('bytes to hard limit', cur!.bytes, cfg!.hardByteLimit, formatBytes)}
                {limitBar('packets to soft limit', cur!.packets, cfg!.softPacketLimit, formatCount)}
                {limitBar('packets to hard limit', cur!.packets, cfg!.hardPacketLimit, formatCount)}
                {addedAgo !== undefined && Number(cfg!.softAddExpiresSeconds) > 0 && (
                  <UsageBar label="time to soft expiry (rekey)" used={addedAgo} limit={Number(cfg!.softAddExpiresSeconds)} text={formatDuration(secondsLeft(sa, 'soft', nowMs))} />
                )}
                {addedAgo !== undefined && Number(cfg!.hardAddExpiresSeconds) > 0 && (
                  <UsageBar label="time to hard expiry" used={addedAgo} limit={Number(cfg!.hardAddExpiresSeconds)} text={formatDuration(secondsLeft(sa, 'hard', nowMs))} />
                )}
                {seqPct !== undefined && <UsageBar label={`sequence space used (${sa.antiReplay?.esn ? '64-bit ESN' : '32-bit'})`} used={seqPct} limit={100} text={`${seqPct.toFixed(4)} %`} />}
              </div>
              <Row k="limits">
                soft {limitText(cfg!.softByteLimit)} B / {limitText(cfg!.softPacketLimit)} pkt / add {cfg!.softAddExpiresSeconds} s / use {cfg!.softUseExpiresSeconds} s
              </Row>
              <Row k="">
                hard {limitText(cfg!.hardByteLimit)} B / {limitText(cfg!.hardPacketLimit)} pkt / add {cfg!.hardAddExpiresSeconds} s / use {cfg!.hardUseExpiresSeconds} s
              </Row>
            </Section>
            <Section title="Algorithms (keys never leave the server)">
              <Row k="summary">{algorithmText(sa)}</Row>
              {(['aead', 'enc', 'auth', 'comp'] as const).map((k) =>
                sa[k] ? (
                  <Row key={k} k={k}>
                    {sa[k]!.name} · {sa[k]!.keyBits}-bit key
                    {sa[k]!.icvBits ? ` · ICV ${sa[k]!.icvBits}` : ''}
                    {sa[k]!.truncBits ? ` · trunc ${sa[k]!.truncBits}` : ''}
                    {sa[k]!.fingerprint ? ` · fingerprint ${sa[k]!.fingerprint}` : ''}
                  </Row>
                ) : null,
              )}
            </Section>
            <Section title="Identity and selector">
              <Row k="family / proto">{sa.family} / {String(sa.proto)}</Row>
              <Row k="flags">{sa.flags.join(' ') || '—'}{sa.extraFlags?.length ? ` · extra ${sa.extraFlags.join(' ')}` : ''}</Row>
              <Row k="replay window">{sa.replayWindow}{sa.antiReplay?.replayWindow ? ` (ESN ${sa.antiReplay.replayWindow})` : ''}</Row>
              <Row k="selector">
                {sa.selector.src} → {sa.selector.dst} {String(sa.selector.proto)}
                {sa.selector.sportMask ? ` sport ${sa.selector.sport}` : ''}
                {sa.selector.dportMask ? ` dport ${sa.selector.dport}` : ''}
              </Row>
              {sa.mark && <Row k="mark">0x{sa.mark.value.toString(16)}/0x{sa.mark.mask.toString(16)}</Row>}
              {sa.setMark && <Row k="output-mark">0x{sa.setMark.value.toString(16)}/0x{sa.setMark.mask.toString(16)}</Row>}
              {sa.ifId !== undefined && <Row k="if_id">{sa.ifId}</Row>}
              {sa.encap && <Row k="encap">{String(sa.encap.type)} sport {sa.encap.sport} dport {sa.encap.dport} addr {sa.encap.oa}</Row>}
              {sa.tfcpad !== undefined && <Row k="tfcpad">{sa.tfcpad}</Row>}
              {sa.coaddr && <Row k="coaddr">{sa.coaddr}</Row>}
              {sa.securityContext && <Row k="security ctx">{sa.securityContext.context}</Row>}
              {sa.natKeepaliveInterval !== undefined && <Row k="NAT keepalive">{sa.natKeepaliveInterval} s</Row>}
              {sa.mtimerThresh !== undefined && <Row k="mtimer thresh">{sa.mtimerThresh} s</Row>}
              {sa.iptfs && <Row k="IP-TFS">{JSON.stringify(sa.iptfs)}</Row>}
            </Section>
            <Section title="Offload">
              {sa.offload ? (
                <>
                  <Row k="device">{links?.rows.get(String(sa.offload.ifindex))?.name ?? `ifindex ${sa.offload.ifindex}`}</Row>
                  <Row k="mode / dir">{sa.offload.type} / {sa.offload.dir}</Row>
                  {sa.offload.type === 'packet' && <p className="text-xs text-amber-700 dark:text-amber-400">Packet offload: counters come from the driver and may lag.</p>}
                  {offloaded && offloaded.state !== 'offloaded' && (
                    <p className="text-xs font-semibold text-red-700 dark:text-red-400">
                      {offloaded.state === 'software-fallback' ? 'Fell back to software' : 'Offload device gone'}: {offloaded.note}
                    </p>
                  )}
                </>
              ) : (
                <p className="text-sm text-slate-500">Software: the kernel's crypto does the work.</p>
              )}
            </Section>
            <Section title="PF_KEY cross-check">
              {!check ? (
                <p className="text-sm text-slate-500">No PF_KEY view of this SA (PF_KEY not available, or not compared yet).</p>
              ) : (
                <>
                  <Row k="status">
                    <CheckBadge status={check.status} differences={check.differences.length} />{' '}
                    <Link href={`/pfkey?check=${encodeURIComponent(check.key)}`} className="font-sans text-blue-700 underline underline-offset-2 dark:text-blue-400">
                      PF_KEY view
                    </Link>
                  </Row>
                  {check.reason && <Row k="reason">{check.reason}</Row>}
                  {check.differences?.map((d, i) => (
                    <Row key={i} k={d.field}>
                      XFRM {d.xfrm} ≠ PF_KEY {d.pfkey}
                    </Row>
                  ))}
                </>
              )}
            </Section>
            <Section title="Recent events">
              {related.length === 0 ? (
                <p className="text-sm text-slate-500">None since this page was opened.</p>
              ) : (
                <ol className="space-y-0.5 text-xs">
                  {related.map((e) => (
                    <li key={e.id}>
                      <RelTime ms={e.time} /> <span className="font-mono">{e.type}</span> {e.summary}
                    </li>
                  ))}
                </ol>
              )}
            </Section>
            {sa.unknown && sa.unknown.length > 0 && (
              <Section title="Attributes this version does not know">
                {sa.unknown.map((u, i) => (
                  <Row key={i} k={`attribute ${u.type}`}>
                    {u.length} bytes{u.nested ? ' (nested)' : ''} — contents withheld (may hold key material)
                  </Row>
                ))}
              </Section>
            )}
          </div>
        )}
      </PanelBody>
    </aside>
  );
}

'use client';
// The devices page: every link (kind, state, counters with rates, IPsec offload capability), one device's
// detail (?dev=<ifindex>), the offload summary and the SAs grouped by offload device.
import { useEntities } from '../live/keys';
import { useUrlState } from '../ui/useUrlState';
import { DevicesTable } from '../DevicesTable';
import { SourceNotice, useSource } from '../SourceNotice';
import { DeviceDetail } from './DeviceDetail';
import { OffloadGroups, OffloadSummary } from './OffloadPanels';

export function DevicesView() {
  const [url, setUrl] = useUrlState();
  const links = useEntities('link');
  const ethSrc = useSource('ethtool');
  const dev = url.get('dev') ?? undefined;
  const features = url.get('features') === 'all' ? 'all' : 'ipsec';
  const link = dev ? links?.rows.get(dev) : undefined;
  return (
    <div className="space-y-4">
      <SourceNotice source={ethSrc} what="Device features (ethtool)" />
      <OffloadSummary />
      <DevicesTable selectedKey={dev} onOpen={(l) => setUrl({ dev: String(l.index) })} />
      {dev && links && !link && (
        <p role="status" className="rounded border border-slate-200 bg-white px-4 py-3 text-sm dark:border-slate-800 dark:bg-slate-900">
          Device ifindex {dev} is no longer in this namespace.{' '}
          <button type="button" className="underline" onClick={() => setUrl({ dev: undefined })}>
            Close
          </button>
        </p>
      )}
      {link && <DeviceDetail link={link} features={features} setFeatures={(v) => setUrl({ features: v === 'all' ? 'all' : undefined })} onClose={() => setUrl({ dev: undefined, features: undefined })} />}
      <OffloadGroups exclude={link ? link.index : undefined} />
    </div>
  );
}

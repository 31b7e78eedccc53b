import { SourceStatusList } from '@/components/SourceStatusList';
import { DevicesTable } from '@/components/DevicesTable';
import { PoliciesTable } from '@/components/PoliciesTable';
import { EventLog } from '@/components/EventLog';

export default function Overview() {
  return (
    <>
      <h1 className="sr-only">Overview</h1>
      <div className="grid gap-4 lg:grid-cols-2">
        <SourceStatusList />
        <EventLog limit={12} />
      </div>
      <PoliciesTable />
      <DevicesTable />
    </>
  );
}

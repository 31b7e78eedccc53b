import { SourceStatusList } from '@/components/SourceStatusList';
import { PoliciesTable } from '@/components/PoliciesTable';
import { EventLog } from '@/components/EventLog';
import { AlarmList, Counts, RecentRotations } from '@/components/Overview';

export default function Overview() {
  return (
    <>
      <h1 className="sr-only">Overview</h1>
      <Counts />
      <div className="grid gap-4 lg:grid-cols-2">
        <AlarmList />
        <SourceStatusList />
        <RecentRotations />
        <EventLog limit={12} />
      </div>
      <PoliciesTable />
    </>
  );
}

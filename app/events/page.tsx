import { EventLog } from '@/components/EventLog';

export default function EventsPage() {
  return (
    <>
      <h1 className="text-xl font-semibold">Events</h1>
      <EventLog limit={500} filterable />
    </>
  );
}

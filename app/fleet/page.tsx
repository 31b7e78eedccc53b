import { FleetView } from '@/components/fleet/FleetView';

export default function FleetPage() {
  return (
    <>
      <h1 className="text-xl font-semibold">Fleet</h1>
      <FleetView />
    </>
  );
}

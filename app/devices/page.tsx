import { DevicesTable } from '@/components/DevicesTable';

export default function DevicesPage() {
  return (
    <>
      <h1 className="text-xl font-semibold">Devices</h1>
      <DevicesTable />
    </>
  );
}

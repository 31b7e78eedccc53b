import { Suspense } from 'react';
import { DevicesView } from '@/components/devices/DevicesView';

export default function DevicesPage() {
  return (
    <>
      <h1 className="text-xl font-semibold">Devices and offload</h1>
      <Suspense>
        <DevicesView />
      </Suspense>
    </>
  );
}

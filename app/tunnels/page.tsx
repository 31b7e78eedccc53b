import { Suspense } from 'react';
import { TunnelsView } from '@/components/tunnels/TunnelsView';

export default function TunnelsPage() {
  return (
    <>
      <h1 className="text-xl font-semibold">Tunnels and rotations</h1>
      <Suspense>
        <TunnelsView />
      </Suspense>
    </>
  );
}

import { Suspense } from 'react';
import { PfkeyView } from '@/components/pfkey/PfkeyView';

export default function PfkeyPage() {
  return (
    <>
      <h1 className="text-xl font-semibold">PF_KEY v2</h1>
      <Suspense>
        <PfkeyView />
      </Suspense>
    </>
  );
}

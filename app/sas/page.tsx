import { Suspense } from 'react';
import { SaTable } from '@/components/sa/SaTable';

export default function SasPage() {
  return (
    <>
      <h1 className="text-xl font-semibold">Security associations</h1>
      <Suspense>
        <SaTable />
      </Suspense>
    </>
  );
}

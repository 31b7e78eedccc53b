import { Suspense } from 'react';
import { SearchView } from '@/components/fleet/SearchView';

export default function SearchPage() {
  return (
    <>
      <h1 className="text-xl font-semibold">Search</h1>
      <Suspense>
        <SearchView />
      </Suspense>
    </>
  );
}

import { PoliciesTable } from '@/components/PoliciesTable';

export default function PoliciesPage() {
  return (
    <>
      <h1 className="text-xl font-semibold">Policies</h1>
      <PoliciesTable />
    </>
  );
}

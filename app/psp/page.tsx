import { PspView } from '@/components/psp/PspView';

export default function PspPage() {
  return (
    <>
      <h1 className="text-xl font-semibold">PSP</h1>
      <PspView />
    </>
  );
}

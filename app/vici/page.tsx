import { ViciView } from '@/components/vici/ViciView';

export default function ViciPage() {
  return (
    <>
      <h1 className="text-xl font-semibold">strongSwan (VICI)</h1>
      <ViciView />
    </>
  );
}

import { CryptoView } from '@/components/crypto/CryptoView';

export default function CryptoPage() {
  return (
    <>
      <h1 className="text-xl font-semibold">Kernel crypto</h1>
      <CryptoView />
    </>
  );
}

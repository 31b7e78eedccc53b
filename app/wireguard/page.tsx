import { WireguardView } from '@/components/wireguard/WireguardView';

export default function WireguardPage() {
  return (
    <>
      <h1 className="text-xl font-semibold">WireGuard</h1>
      <WireguardView />
    </>
  );
}

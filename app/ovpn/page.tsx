import { OvpnView } from '@/components/ovpn/OvpnView';

export default function OvpnPage() {
  return (
    <>
      <h1 className="text-xl font-semibold">OpenVPN (data-channel offload)</h1>
      <OvpnView />
    </>
  );
}

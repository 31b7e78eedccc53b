import { RemoteUsers } from '@/components/vici/RemoteUsers';

export default function ViciUsersPage() {
  return (
    <>
      <h1 className="text-xl font-semibold">Remote-access users</h1>
      <RemoteUsers />
    </>
  );
}

import type { Metadata } from 'next';
import { Wall } from '@/components/wall/Wall';

export const metadata: Metadata = { title: 'sascope wall' };

export default function WallPage() {
  return <Wall />;
}

// The PF_KEY ⇄ XFRM cross-check result as a word in a badge (never colour alone).
import type { PfkeyCheckStatus } from '@/server/wire/pfkey';
import { Badge, type Tone } from '../ui/Badge';

export const CHECK_WORDS: Record<PfkeyCheckStatus, string> = {
  agree: 'agrees',
  mismatch: 'mismatch',
  'not-representable': 'not representable',
  missing: 'missing',
};

const CHECK_TONES: Record<PfkeyCheckStatus, Tone> = { agree: 'ok', mismatch: 'bad', 'not-representable': 'muted', missing: 'warn' };

export function CheckBadge({ status, differences, title, testId }: { status: PfkeyCheckStatus; differences?: number; title?: string; testId?: string }) {
  return (
    <Badge tone={CHECK_TONES[status] ?? 'muted'} title={title} testId={testId}>
      {status === 'mismatch' ? '≠ ' : ''}
      {CHECK_WORDS[status] ?? status}
      {status === 'mismatch' && differences ? ` (${differences})` : ''}
    </Badge>
  );
}

/** "reqid: XFRM 1 ≠ PF_KEY 2; …" — for a tooltip or a one-line cell. */
export function differencesText(d: Array<{ field: string; xfrm: string; pfkey: string }>): string {
  return d.map((x) => `${x.field}: XFRM ${x.xfrm} ≠ PF_KEY ${x.pfkey}`).join('; ');
}

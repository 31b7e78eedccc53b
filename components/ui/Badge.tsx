import type { ReactNode } from 'react';

/** A short state word in a tinted box. The word carries the meaning; the colour only repeats it. */
export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'muted' | 'accent';

const TONES: Record<Tone, string> = {
  ok: 'bg-emerald-100 text-emerald-900 dark:bg-emerald-900/40 dark:text-emerald-200',
  warn: 'bg-amber-100 text-amber-900 dark:bg-amber-900/40 dark:text-amber-200',
  bad: 'bg-red-100 text-red-900 ring-1 ring-red-300 dark:bg-red-900/40 dark:text-red-200 dark:ring-red-800',
  info: 'bg-sky-100 text-sky-900 dark:bg-sky-900/40 dark:text-sky-200',
  muted: 'bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300',
  accent: 'bg-violet-100 text-violet-900 dark:bg-violet-900/40 dark:text-violet-200',
};

export function Badge({ tone, children, title, testId }: { tone: Tone; children: ReactNode; title?: string; testId?: string }) {
  return (
    <span title={title} data-testid={testId} className={`inline-block whitespace-nowrap rounded px-1.5 py-0.5 text-xs font-medium ${TONES[tone]}`}>
      {children}
    </span>
  );
}

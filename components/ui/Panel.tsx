import type { ReactNode } from 'react';

export function Panel({ title, actions, children, id }: { title: string; actions?: ReactNode; children: ReactNode; id?: string }) {
  return (
    <section aria-labelledby={id ? `${id}-title` : undefined} className="rounded-lg border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900">
      <header className="flex items-center justify-between gap-2 border-b border-slate-200 px-4 py-2 dark:border-slate-800">
        <h2 id={id ? `${id}-title` : undefined} className="text-sm font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-300">
          {title}
        </h2>
        {actions}
      </header>
      <div className="p-0">{children}</div>
    </section>
  );
}

/** Loading, empty and error states, said in words. */
export function PanelState({ kind, children }: { kind: 'loading' | 'empty' | 'error'; children: ReactNode }) {
  const tone = kind === 'error' ? 'text-red-700 dark:text-red-400' : 'text-slate-500 dark:text-slate-400';
  return (
    <div role={kind === 'error' ? 'alert' : 'status'} aria-busy={kind === 'loading'} className={`px-4 py-6 text-sm ${tone}`}>
      {kind === 'loading' && <span className="mr-2 inline-block h-3 w-3 animate-spin rounded-full border-2 border-slate-400 border-t-transparent align-[-2px]" />}
      {children}
    </div>
  );
}

/**
 * A panel's body in the state of its data, the first that holds: `loading` (its words while the data has
 * not arrived), `error` (the source failed), `empty` (nothing to show), else the content. A state that
 * does not hold is absent or false. The content is either ready, or a function of `data` for content that
 * reads the data (rendered only once it is there).
 */
export function PanelBody<T>({ loading, error, empty, data, children }: {
  loading?: ReactNode;
  error?: ReactNode;
  empty?: ReactNode;
  data?: T | null;
  children: ReactNode | ((data: T) => ReactNode);
}) {
  if (loading) return <PanelState kind="loading">{loading}</PanelState>;
  if (error) return <PanelState kind="error">{error}</PanelState>;
  if (empty) return <PanelState kind="empty">{empty}</PanelState>;
  if (typeof children !== 'function') return <>{children}</>;
  return data === undefined || data === null ? null : <>{children(data)}</>;
}

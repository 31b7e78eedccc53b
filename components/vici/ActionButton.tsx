'use client';
// An operator action on charon: a button that opens a confirmation naming exactly what will happen; only
// the confirmation posts. A viewer sees the button disabled with the reason; the server's refusal (403, 409
// while another action runs on the same SA) is shown in words.
import { useState } from 'react';
import { createPortal } from 'react-dom';
import { useMutation, useQuery } from '@tanstack/react-query';
import { ActionError, asApiError, postApi } from '../ui/api';
import type { ActionRequest } from './vici-rows';

const SMALL_BUTTON =
  'rounded border border-slate-300 px-2 py-0.5 text-xs font-medium hover:bg-slate-100 disabled:cursor-not-allowed disabled:opacity-50 dark:border-slate-700 dark:hover:bg-slate-800';

/** The caller's role (GET /api/v1/whoami); undefined while asked. */
export function useRole(): 'viewer' | 'operator' | undefined {
  const q = useQuery({
    queryKey: ['whoami'],
    staleTime: 60_000,
    queryFn: async () => {
      const token = new URLSearchParams(window.location.search).get('token');
      const res = await fetch('/api/v1/whoami', { credentials: 'same-origin', headers: token ? { authorization: `Bearer ${token}` } : {} });
      return res.ok ? ((await res.json()) as { role: 'viewer' | 'operator' }).role : 'viewer';
    },
  });
  return q.data;
}

export function ActionButton({ label, request, testId }: { label: string; request: ActionRequest; testId: string }) {
  const role = useRole();
  const [open, setOpen] = useState(false);
  const act = useMutation({ mutationFn: () => postApi(request.path), onSuccess: () => setOpen(false) });
  const viewer = role === 'viewer';
  return (
    <>
      <button
        type="button"
        className={SMALL_BUTTON}
        disabled={role === undefined || viewer || act.isPending}
        title={viewer ? 'Operators only: this console was opened with a viewer token' : request.title}
        onClick={() => {
          act.reset();
          setOpen(true);
        }}
        data-testid={testId}
      >
        {label}
      </button>
      {/* In document.body, not in the table cell: a live row that updates or moves (a re-read every few seconds,
          re-sorting) would take the dialog's DOM along, and its buttons were never still enough to click (lab-ui). */}
      {open && createPortal(
        <div className="fixed inset-0 z-50 flex items-center justify-center bg-slate-900/40 p-4">
          <div role="dialog" aria-modal="true" aria-labelledby={`${testId}-title`} className="w-full max-w-lg space-y-3 rounded-lg bg-white p-4 shadow-lg dark:bg-slate-900" data-testid="vici-confirm">
            <h2 id={`${testId}-title`} className="text-base font-semibold">
              {request.title}?
            </h2>
            <p className="text-sm" data-testid="vici-confirm-words">
              {request.words}
            </p>
            <ActionError err={asApiError(act.error)} testId="vici-action-error" />
            <div className="flex justify-end gap-2">
              <button type="button" className={SMALL_BUTTON} onClick={() => setOpen(false)} autoFocus>
                Cancel
              </button>
              <button type="button" className={`${SMALL_BUTTON} bg-red-700 text-white hover:bg-red-800 dark:bg-red-600`} disabled={act.isPending} onClick={() => act.mutate()} data-testid="vici-confirm-go">
                {act.isPending ? 'Asking charon…' : label}
              </button>
            </div>
          </div>
        </div>,
        document.body,
      )}
    </>
  );
}

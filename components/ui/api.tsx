// POST requests from the console to the server's API (operator actions): the session cookie, or the
// ?token= of the page URL; a JSON error body becomes an ApiError carrying the server's message.
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** POST to the server's API with the session cookie; a JSON error body becomes an ApiError with its message. */
export async function postApi<T>(path: string, body?: unknown): Promise<T> {
  const token = new URLSearchParams(window.location.search).get('token');
  const res = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, e?.code ?? `http-${res.status}`, e?.message ?? (text.trim() || `${res.status} ${res.statusText}`));
  }
  return json as T;
}

/** A mutation's error as an ApiError (a network failure has status 0). */
export function asApiError(e: unknown): ApiError | undefined {
  if (!e) return undefined;
  return e instanceof ApiError ? e : new ApiError(0, 'network', e instanceof Error ? e.message : String(e));
}

/** The look of an operator action's button. */
export const ACTION_BUTTON =
  'rounded bg-blue-700 px-3 py-1 text-sm font-medium text-white hover:bg-blue-800 disabled:cursor-not-allowed disabled:bg-slate-400 dark:bg-blue-600 dark:hover:bg-blue-500 dark:disabled:bg-slate-700 dark:disabled:text-slate-300';

/** The server's refusal of an action, in words (403 not allowed, 409 refused, else the status). */
export function ActionError({ err, testId }: { err: ApiError | undefined; testId: string }) {
  if (!err) return null;
  return (
    <p role="alert" className="text-red-700 dark:text-red-400" data-testid={testId}>
      {err.status === 403 ? 'Not allowed: ' : err.status === 409 ? 'Refused: ' : err.status ? `Error ${err.status}: ` : 'Could not reach the server: '}
      {err.message}
    </p>
  );
}

/** Why an action failed or cannot run, from its state row. */
export function StateReason({ state, reason, testId }: { state: string; reason: string | undefined; testId: string }) {
  if (!reason || (state !== 'failed' && state !== 'unavailable')) return null;
  return (
    <p className="text-amber-800 dark:text-amber-300" data-testid={testId}>
      {state === 'failed' ? 'Failed: ' : 'Not available: '}
      {reason}
    </p>
  );
}

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

// GET from the server's history API with the session cookie, or the ?token= of the page URL (as postApi).
export async function getApi<J>(path: string, q: Record<string, string | number | undefined>): Promise<J> {
  const token = new URLSearchParams(window.location.search).get('token');
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) qs.set(k, String(v));
  const res = await fetch(`${path}?${qs}`, { credentials: 'same-origin', headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${res.statusText}`);
  return (await res.json()) as J;
}

// The host filter of every page (?host=, fleet console only), applied in one place: useEntities hands each
// view a table holding only that host's rows. Pure logic, tested without a browser.

/** The host a console row comes from; undefined for single-host rows and the console's own. */
export function hostOf(row: object): string | undefined {
  return 'host' in row && typeof row.host === 'string' ? row.host : undefined;
}

/**
 * One host's rows, keyed as in the console ("<host>/<key>"). get/has also take the agent's own key, so a
 * view that looks a row up by a local key (the source 'xfrm-sa', a link's ifindex) finds that host's row.
 */
export class HostRows<V> extends Map<string, V> {
  constructor(readonly host: string) {
    super();
  }
  override get(key: string): V | undefined {
    return super.get(key) ?? super.get(`${this.host}/${key}`);
  }
  override has(key: string): boolean {
    return super.has(key) || super.has(`${this.host}/${key}`);
  }
}

/** The rows of `host`, and the console's own rows (they carry no host). */
export function onHost<V extends object>(t: { rows: Map<string, V>; version: number }, host: string): { rows: Map<string, V>; version: number } {
  const rows = new HostRows<V>(host);
  for (const [k, v] of t.rows) {
    const h = hostOf(v);
    if (h === undefined || h === host) rows.set(k, v);
  }
  return { rows, version: t.version };
}

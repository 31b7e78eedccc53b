// The fleet console's view of its hosts (`sascope serve --fleet`): one `host` row per agent, and how a
// row from a host is named in the console. Shared by server and browser. The design: docs/fleet.md.

/**
 * up: heartbeats arrive; stale: none for fleet.staleSeconds; unreachable: none for fleet.unreachableSeconds;
 * mismatch: the agent speaks a protocol version this console does not know (its rows are not applied).
 */
export const HOST_STATES = ['up', 'stale', 'unreachable', 'mismatch'] as const;
export type HostState = (typeof HOST_STATES)[number];

/** One agent as the console sees it. Key: the host name. */
export interface FleetHost {
  key: string;
  host: string;
  state: HostState;
  /** The newest heartbeat or published change (ms since epoch; 0: none yet). */
  lastSeen: number;
  /** When `state` last changed. */
  since: number;
  /** The agent's protocol version (FLEET_PROTO in server/fleet/protocol.ts). */
  proto: number;
  agentVersion: string;
  /** The agent's boot id: a new one is a restarted agent (its rows are taken anew). */
  boot: string;
  /** The agent's change counter the console is current at. */
  seq: number;
  counts: { sa: number; tunnel: number; alarm: number; policy: number };
  /** Ids of the agent's sources that are not ok (its last heartbeat). */
  sourcesNotOk: string[];
  /** Why the state is what it is, in words (mismatch, waiting for a snapshot …). */
  reason?: string;
  /** Messages from this host dropped as malformed or oversized. */
  dropped: number;
}

/** A field every row of the console carries: the host it comes from (absent in a single-host serve). */
export interface OnHost {
  host?: string;
}

/**
 * The key of a host's row in the console: "<host>/<its key on the agent>". References inside a row (a
 * tunnel's `sas`, an alarm's `ref`, a rotation's `tunnel` …) keep the agent's keys: resolve them with
 * keyOnHost(row, ref). Single-host rows (no `host`) keep their keys as they are.
 */
export function hostKey(host: string, key: string): string {
  return `${host}/${key}`;
}

/** A key a row refers to, as the model holding the row names it. */
export function keyOnHost(row: OnHost, key: string): string {
  return row.host === undefined ? key : hostKey(row.host, key);
}

/**
 * A reference "<kind>:<key>" in a row (an alarm's or event's `ref`), as the model holding the row names it:
 * "tunnel:<host>/<key>" for a host's row. "host:<name>" refs are the console's own (a host row's key is its name).
 */
export function refOnHost(row: OnHost, ref: string): string {
  const i = ref.indexOf(':');
  return row.host === undefined || i < 0 || ref.startsWith('host:') ? ref : `${ref.slice(0, i + 1)}${hostKey(row.host, ref.slice(i + 1))}`;
}

/** The host in front of a console's tunnel or source key (hostKey), if any: a tunnel key starts "<family>:", a source id has no '/', a host name has no ':' or '/'. */
export function hostOfKey(key: string): string | undefined {
  const slash = key.indexOf('/');
  const colon = key.indexOf(':');
  return slash > 0 && (colon < 0 || slash < colon) ? key.slice(0, slash) : undefined;
}

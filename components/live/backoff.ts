// How long the console waits before reconnecting its WebSocket. Full jitter: a delay drawn uniformly
// below an exponential bound (doubling per failed attempt, capped), so after a server restart the
// clients come back spread over the whole window instead of all in the same millisecond.
export const RECONNECT_BASE_MS = 500;
export const RECONNECT_CAP_MS = 10_000;

/** The bound on the delay before reconnect attempt `attempt` (0: the first after a close). */
export function reconnectBound(attempt: number): number {
  return Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** Math.min(attempt, 30));
}

/** The delay before reconnect attempt `attempt`, in [0, reconnectBound(attempt)); `random` is in [0, 1). */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * reconnectBound(attempt));
}

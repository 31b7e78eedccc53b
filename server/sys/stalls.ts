// The event loop is the one thread every kernel event waits on: a stretch of synchronous work (a big dump
// decoded, a snapshot serialized) delays them all. Stalls over a threshold are logged with their length,
// so a slow event on the dashboard can be told from a slow kernel.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from '../log.ts';

/** Watch the event loop; log a warning for each check interval whose longest stall passed thresholdMs. */
export function watchStalls(log: Logger, thresholdMs = 500, everyMs = 2000): () => void {
  const h = monitorEventLoopDelay({ resolution: 20 });
  h.enable();
  const timer = setInterval(() => {
    const maxMs = h.max / 1e6;
    if (maxMs >= thresholdMs) log.warn({ stallMs: Math.round(maxMs) }, `event loop blocked for ${Math.round(maxMs)} ms: kernel events and clients waited that long`);
    h.reset();
  }, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    h.disable();
  };
}

'use client';
// One WebSocket for the whole app. Messages are applied once per animation frame (so 1,000 events/s
// cost one render a frame), written into TanStack Query's cache, and the connection's health is a
// query of its own. Reconnects with jittered backoff (backoff.ts) and resumes from the last sequence number.
import { useEffect } from 'react';
import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import type { EntityKind, ServerMessage } from '@/server/wire/protocol';
import { LiveStore, type Observer } from './store';
import { rates } from './rates';
import { reconnectDelay } from './backoff';
import { liveKey, entitiesKey, type LiveStatus, type EntityTable } from './keys';

function wsUrl(since: number): string {
  const { protocol, host } = window.location;
  const q = new URLSearchParams(window.location.search);
  const token = q.get('token');
  const params = new URLSearchParams();
  if (since >= 0) params.set('since', String(since));
  params.set('parts', '1'); // a big snapshot in pieces: the first rows show while the rest arrives
  if (token) params.set('token', token);
  const qs = params.toString();
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}/ws${qs ? `?${qs}` : ''}`;
}

function publish(qc: QueryClient, store: LiveStore, kinds: Iterable<EntityKind>, versions: Map<EntityKind, number>): void {
  for (const k of kinds) {
    const v = (versions.get(k) ?? 0) + 1;
    versions.set(k, v);
    qc.setQueryData<EntityTable<EntityKind>>(entitiesKey(k), { rows: store.get(k), version: v });
  }
}

/**
 * Counter samples for rates and sparklines, taken as values arrive. A snapshot's SA rows are not sampled
 * one by one (100k of them cost half a second): an SA's first change brings the value it had since the
 * snapshot along with the new one.
 */
const sampleCounters: Observer = (kind, key, value, change) => {
  const v = value as Record<string, any> | undefined;
  if (kind === 'sa') {
    if (!v) return void (rates.saBytes.forget(key), rates.saPackets.forget(key));
    if (change?.fromSnapshot && !rates.saBytes.has(key)) return;
    const b = change?.before as Record<string, any> | undefined;
    const cur = b?.lifetime?.current;
    const t = Date.now();
    rates.saBytes.record(key, Number(v.lifetime?.current?.bytes ?? 0), t, cur ? { v: Number(cur.bytes ?? 0), t: change!.since } : undefined);
    rates.saPackets.record(key, Number(v.lifetime?.current?.packets ?? 0), t, cur ? { v: Number(cur.packets ?? 0), t: change!.since } : undefined);
  } else if (kind === 'link' && v?.stats) {
    rates.linkRx.record(key, Number(v.stats.rxBytes));
    rates.linkTx.record(key, Number(v.stats.txBytes));
  } else if (kind === 'ovpn-peer' && v) {
    rates.peerRx.record(key, Number(v.vpn?.rxBytes ?? 0));
    rates.peerTx.record(key, Number(v.vpn?.txBytes ?? 0));
  } else if (kind === 'wg-peer') {
    if (!v) return void (rates.wgRx.forget(key), rates.wgTx.forget(key));
    rates.wgRx.record(key, Number(v.rxBytes));
    rates.wgTx.record(key, Number(v.txBytes));
  }
};

export function LiveConnection() {
  const qc = useQueryClient();
  useEffect(() => {
    const store = new LiveStore(sampleCounters);
    const versions = new Map<EntityKind, number>();
    let status: LiveStatus = { state: 'connecting', connected: false, seq: -1, reconnects: 0 };
    const setStatus = (patch: Partial<LiveStatus>) => {
      status = { ...status, ...patch };
      qc.setQueryData(liveKey, status);
    };
    setStatus({ now: Date.now() });
    let ws: WebSocket | undefined;
    let queue: ServerMessage[] = [];
    let frame = 0;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0; // reconnect attempts since the last open
    let closed = false;

    const flush = () => {
      frame = 0;
      const msgs = queue;
      queue = [];
      const changed = new Set<EntityKind>();
      let sawData = false;
      for (const m of msgs) {
        if (m.type === 'error') {
          console.warn(`sascope: server says ${m.code}: ${m.message}`);
          continue;
        }
        const t1 = performance.now();
        const r = store.apply(m);
        if (m.type === 'snapshot') performance.measure('sascope:snapshot-apply', { start: t1 });
        if (!r) continue;
        sawData = true;
        r.changed.forEach((k) => changed.add(k));
        if (r.gap) {
          // Lost a delta: ask for what is missing (or a snapshot) and drop the rest of this batch.
          ws?.send(JSON.stringify({ type: 'resume', seq: store.seq }));
          break;
        }
        if (m.type === 'snapshot') setStatus({ server: m.server });
      }
      if (msgs.some((m) => m.type === 'snapshot' || m.type === 'snapshot-part')) setStatus({ receiving: store.partsLeft > 0 ? store.totals : undefined });
      const t2 = performance.now();
      publish(qc, store, changed, versions);
      if (msgs.some((m) => m.type === 'snapshot')) performance.measure('sascope:snapshot-render', { start: t2 });
      const now = Date.now();
      setStatus({ seq: store.seq, lastMessageAt: now, ...(sawData && changed.size ? { lastChangeAt: now } : {}) });
    };

    const connect = () => {
      if (closed) return;
      setStatus({ state: status.everConnected ? 'reconnecting' : 'connecting' });
      ws = new WebSocket(wsUrl(store.seq));
      ws.onopen = () => {
        attempt = 0;
        setStatus({ state: 'open', connected: true, everConnected: true, connectedAt: Date.now(), disconnectedAt: undefined });
      };
      ws.onmessage = (ev) => {
        let m: ServerMessage;
        const t0 = performance.now();
        try {
          m = JSON.parse(String(ev.data)) as ServerMessage;
        } catch {
          return;
        }
        // Snapshots are rare and can be big: their cost is visible in the page's User Timing (the UI bench reads it).
        if (m.type === 'snapshot') performance.measure('sascope:snapshot-parse', { start: t0 });
        queue.push(m);
        if (m.type === 'snapshot' || m.type === 'snapshot-part') {
          // Rare and what the first paint waits for: applied now, not at the next animation frame
          // (a page still busy loading can hold that frame back for a second).
          if (frame) cancelAnimationFrame(frame);
          flush();
          return;
        }
        if (!frame) frame = requestAnimationFrame(flush);
      };
      ws.onclose = (ev) => {
        ws = undefined;
        if (closed) return;
        setStatus({
          state: 'reconnecting',
          connected: false,
          disconnectedAt: status.disconnectedAt ?? Date.now(),
          reconnects: status.reconnects + 1,
          lastCloseReason: ev.reason || (ev.code === 1006 ? 'connection lost' : `closed (${ev.code})`),
        });
        retry = setTimeout(connect, reconnectDelay(attempt++));
      };
    };
    connect();
    // Re-render freshness ("3 s ago") without data: a cheap tick.
    const tick = setInterval(() => setStatus({ now: Date.now() }), 1000);
    return () => {
      closed = true;
      clearInterval(tick);
      if (retry) clearTimeout(retry);
      if (frame) cancelAnimationFrame(frame);
      ws?.close();
    };
  }, [qc]);
  return null;
}

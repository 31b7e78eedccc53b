// A fake agent for console tests: publishes what `sascope agent` publishes (docs/fleet.md, through
// server/fleet/protocol.ts) from rows the test makes up — a snapshot, the host record, heartbeats, deltas —
// and lets a test break the rules on purpose (a hole, another protocol version, junk on a subject).
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import {
  ALIVE_BUCKET, BUCKET_OPTIONS, FLEET_PROTO, HEADER, HOSTS_BUCKET, STREAM, chunkHeader, deltaMessages, deltaMsgId, hostSubject, newBootId, snapHeader, snapMsgId, snapshotChunks,
  streamConfig, type FleetDelta, type HostRecord,
} from '../server/fleet/protocol.ts';
import type { EntityKind } from '../server/wire/protocol.ts';

export class FakeAgent {
  boot = newBootId();
  seq = 0;
  proto = FLEET_PROTO;
  readonly rows = new Map<EntityKind, Map<string, Record<string, unknown>>>();
  private constructor(readonly host: string, readonly nc: NatsConnection, private readonly js: JetStreamClient, private readonly hosts: KV, private readonly alive: KV) {}

  static async start(url: string, host: string): Promise<FakeAgent> {
    const nc = await connect({ servers: url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add(streamConfig()).catch(() => jsm.streams.update(streamConfig().name, streamConfig()));
    const js = jetstream(nc);
    const kvm = new Kvm(js);
    return new FakeAgent(host, nc, js, await kvm.create(HOSTS_BUCKET, BUCKET_OPTIONS), await kvm.create(ALIVE_BUCKET, BUCKET_OPTIONS));
  }

  private table(kind: EntityKind): Map<string, Record<string, unknown>> {
    let t = this.rows.get(kind);
    if (!t) this.rows.set(kind, (t = new Map()));
    return t;
  }

  /** A new boot: seq from 1, nothing held. */
  restart(): void {
    this.boot = newBootId();
    this.seq = 0;
    this.rows.clear();
  }

  /** Change rows locally (counted as the agent's model would) and publish them as one delta batch. */
  async change(changes: Array<{ kind: EntityKind; key: string; value?: Record<string, unknown> }>, opts: { publish?: boolean } = {}): Promise<void> {
    const deltas: FleetDelta[] = changes.map((c) => {
      const seq = ++this.seq;
      if (c.value) {
        const value = { ...c.value, key: c.key };
        this.table(c.kind).set(c.key, value);
        return { seq, kind: c.kind, op: 'upsert', key: c.key, value };
      }
      this.table(c.kind).delete(c.key);
      return { seq, kind: c.kind, op: 'remove', key: c.key };
    });
    if (opts.publish === false) return; // lost: a hole
    const { messages } = deltaMessages({ host: this.host, boot: this.boot, time: Date.now() }, deltas, { from: deltas[0]!.seq, through: deltas[deltas.length - 1]!.seq });
    for (const m of messages) {
      const payload = this.proto === FLEET_PROTO ? m.payload : Buffer.from(m.payload.toString().replace(`"proto":${FLEET_PROTO}`, `"proto":${this.proto}`));
      await this.js.publish(hostSubject(this.host, 'delta'), payload, { msgID: deltaMsgId(this.host, this.boot, m.through), headers: this.headers() });
    }
  }

  private headers() {
    const h = headers();
    h.set(HEADER.proto, String(this.proto));
    return h;
  }

  /**
   * The snapshot in chunks, then the host record pointing at it. `damaged`: its only chunk goes out as junk
   * (headers right), kept for repairSnapshot() — a read that fails until the stream holds it whole.
   */
  async snapshot(chunkBytes?: number, opts: { damaged?: boolean } = {}): Promise<HostRecord> {
    const head = { proto: this.proto, host: this.host, boot: this.boot, seq: this.seq, time: Date.now(), server: { version: 'fake', hostname: this.host, netns: 'self' } };
    const { chunks, bytes } = snapshotChunks(head, (kind) => [...(this.rows.get(kind)?.values() ?? [])], chunkBytes);
    let first = 0;
    for (const [i, c] of chunks.entries()) {
      const h = this.headers();
      h.set(HEADER.snap, snapHeader(this.boot, this.seq));
      h.set(HEADER.chunk, chunkHeader(i, chunks.length));
      if (opts.damaged && chunks.length !== 1) throw new Error('a damaged snapshot is one chunk');
      const ack = await this.js.publish(hostSubject(this.host, 'snap'), opts.damaged ? Buffer.from('{"damaged') : c, { msgID: snapMsgId(this.host, this.boot, this.seq, i), headers: h });
      if (i === 0) first = ack.seq;
      if (opts.damaged) this.damaged = { seq: ack.seq, data: c, headers: h };
    }
    const rec: HostRecord = { proto: this.proto, host: this.host, boot: this.boot, agentVersion: 'fake', snap: { seq: this.seq, firstStreamSeq: first, chunks: chunks.length, bytes }, time: Date.now() };
    await this.hosts.put(this.host, JSON.stringify(rec));
    return rec;
  }

  async heartbeat(notOk: string[] = []): Promise<void> {
    await this.alive.put(this.host, JSON.stringify({ proto: this.proto, host: this.host, boot: this.boot, seq: this.seq, time: Date.now(), sources: { ok: 3, notOk } }));
  }

  private damaged?: { seq: number; data: Uint8Array; headers: ReturnType<typeof headers> };

  /** The damaged chunk taken off the stream and published whole (the next message on the snap subject). */
  async repairSnapshot(): Promise<void> {
    const d = this.damaged!;
    await (await jetstreamManager(this.nc)).streams.deleteMessage(STREAM, d.seq);
    // A fresh header set: publishing with msgID wrote Nats-Msg-Id into the first one, and the stream would drop this as its duplicate.
    const h = headers();
    for (const [k, v] of d.headers) if (k !== 'Nats-Msg-Id') for (const x of v) h.append(k, x);
    await this.js.publish(hostSubject(this.host, 'snap'), d.data, { headers: h });
  }

  /** Junk on a subject of this host's (or any), past the protocol. */
  async publishRaw(subject: string, data: Uint8Array): Promise<void> {
    await this.js.publish(subject, data);
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}

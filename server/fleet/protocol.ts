// The fleet protocol over NATS JetStream (docs/fleet.md): the one place with subject, stream, bucket and
// header names, the protocol version, the host-name rule, message ids, the schemas of what an agent
// publishes and the snapshot's chunking. The agent (agent.ts) and the console (console.ts) both import it.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ENTITY_KINDS, type EntityKind } from '../wire/protocol.ts';
import type { ViciActionName, ViciActionTarget } from '../wire/vici.ts';

/** On everything an agent publishes (payload field `proto`, header Sascope-Proto). A console accepts the versions it knows. */
export const FLEET_PROTO = 1;
export const KNOWN_PROTOS: readonly number[] = [1];

/**
 * A host's name: a subject token, a KV key and part of every console key. No '.', which would split the
 * subject `sascope.v1.host.<host>.delta` into more tokens (and slip past per-host permissions), no '*', '>',
 * '/' or spaces.
 */
export const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
export function hostNameProblem(name: string): string | undefined {
  if (HOST_NAME.test(name)) return undefined;
  return `bad host name '${name.slice(0, 80)}': 1-63 of A-Z a-z 0-9 _ - (first a letter or digit; no dots: the name is one NATS subject token)`;
}

export const SUBJECT_ROOT = 'sascope.v1';
export const STREAM = 'SASCOPE';
/** Every host's stream subjects. */
export const STREAM_SUBJECTS = `${SUBJECT_ROOT}.host.*.>`;
export type HostSubjectKind = 'delta' | 'snap';
export function hostSubject(host: string, what: HostSubjectKind): string {
  return `${SUBJECT_ROOT}.host.${host}.${what}`;
}
/** The host a stream subject belongs to (undefined for anything else). */
export function hostOfSubject(subject: string): { host: string; what: HostSubjectKind } | undefined {
  const m = /^sascope\.v1\.host\.([^.]+)\.(delta|snap)$/.exec(subject);
  return m && HOST_NAME.test(m[1]!) ? { host: m[1]!, what: m[2] as HostSubjectKind } : undefined;
}
/** Operator actions, request/reply: `sascope.v1.cmd.<host>.<action>` (only the console's identity may publish there). */
export function commandSubject(host: string, action: string): string {
  return `${SUBJECT_ROOT}.cmd.${host}.${action}`;
}
/** The actions a console may ask of an agent: the operator actions of a single-host serve (vici-*: on charon, with a target). */
export const COMMAND_ACTIONS = ['crypto-probe', 'pfkey-register', 'vici-initiate', 'vici-terminate', 'vici-rekey'] as const;
export type CommandAction = (typeof COMMAND_ACTIONS)[number];
/** A console's command: an action without parameters, or one on charon with its target (subject vici-<action>). */
export type HostCommand = Exclude<CommandAction, `vici-${string}`> | { vici: ViciActionName; target: ViciActionTarget };
/** A command's subject token. */
export const commandName = (c: HostCommand): CommandAction => (typeof c === 'string' ? c : `vici-${c.vici}`);
/** The action a command subject names (undefined: not one we know). */
export function commandOfSubject(subject: string): CommandAction | undefined {
  const action = subject.slice(subject.lastIndexOf('.') + 1);
  return COMMAND_ACTIONS.find((a) => a === action);
}
/** The inbox prefix of an identity (NATS permissions give each its own: `_INBOX_<identity>.>`). */
export function inboxPrefix(identity: string): string {
  return `_INBOX_${identity}`;
}

/** KV buckets: the host record (where its newest snapshot is), and the heartbeat. Key = host name. */
export const HOSTS_BUCKET = 'sascope-hosts';
export const ALIVE_BUCKET = 'sascope-alive';

/** Stream limits (nanoseconds as the JetStream API takes them). */
const NS_PER_S = 1_000_000_000;
export const DUPLICATE_WINDOW_S = 120;
export const STREAM_MAX_AGE_S = 30 * 60;
/** The largest message on the stream; a server whose max_payload is smaller lowers what the agent sends. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
/** Snapshot chunks and delta messages stay under this (half the default max_payload: room for headers). */
export const CHUNK_BYTES = 512 * 1024;
/** A snapshot is rewritten at least this often even when nothing changed, so max age never drops the newest. */
export const SNAPSHOT_REFRESH_S = STREAM_MAX_AGE_S / 3;

/** The stream's configuration (created or updated idempotently by the console; by an agent if absent and allowed). */
export function streamConfig() {
  return {
    name: STREAM,
    subjects: [STREAM_SUBJECTS],
    storage: 'file' as const,
    retention: 'limits' as const,
    discard: 'old' as const,
    duplicate_window: DUPLICATE_WINDOW_S * NS_PER_S,
    max_age: STREAM_MAX_AGE_S * NS_PER_S,
    max_msg_size: MAX_MESSAGE_BYTES,
    num_replicas: 1,
  };
}
/** Both buckets keep the latest value per host only, on file. */
export const BUCKET_OPTIONS = { history: 1, storage: 'file' as const, maxValueSize: 64 * 1024 };

/** Headers: JetStream's own id, and ours. */
export const HEADER = { msgId: 'Nats-Msg-Id', proto: 'Sascope-Proto', snap: 'Sascope-Snap', chunk: 'Sascope-Chunk' } as const;

/** A boot: one run of an agent, a random 16-hex id. Its seqs count from 1. */
export function newBootId(): string {
  return randomBytes(8).toString('hex');
}
export const BOOT_ID = /^[0-9a-f]{16}$/;

/** Nats-Msg-Id of a delta message (deduplicated within the stream's window when published again). */
export function deltaMsgId(host: string, boot: string, through: number): string {
  return `${host}.${boot}.${through}`;
}
export function snapMsgId(host: string, boot: string, seq: number, chunk: number): string {
  return `${host}.snap.${boot}.${seq}.${chunk}`;
}
/** Sascope-Snap: which snapshot a chunk belongs to; Sascope-Chunk: `<i>/<n>`, i from 0. */
export function snapHeader(boot: string, seq: number): string {
  return `${boot}.${seq}`;
}
export function chunkHeader(i: number, n: number): string {
  return `${i}/${n}`;
}
export function parseChunkHeader(v: string | undefined): { i: number; n: number } | undefined {
  const m = /^(\d{1,6})\/(\d{1,6})$/.exec(v ?? '');
  if (!m) return undefined;
  const i = Number(m[1]);
  const n = Number(m[2]);
  return i < n ? { i, n } : undefined;
}

/** Kinds only a console makes (its `host` rows): never in what an agent publishes. */
const CONSOLE_ONLY_KINDS: ReadonlySet<string> = new Set(['host']);
/** The kinds an agent publishes. */
export const AGENT_KINDS: readonly EntityKind[] = ENTITY_KINDS.filter((k) => !CONSOLE_ONLY_KINDS.has(k));
const AgentKind = z.enum(ENTITY_KINDS).refine((k) => !CONSOLE_ONLY_KINDS.has(k), 'a kind only a console makes');

const Seq = z.number().int().nonnegative();
const Host = z.string().regex(HOST_NAME);
const Boot = z.string().regex(BOOT_ID);

/** One model change as the agent counted it (keys are the agent's local keys; the value is the wire row). */
export const FleetDelta = z.discriminatedUnion('op', [
  z.object({ seq: Seq, kind: AgentKind, op: z.literal('upsert'), key: z.string().max(4096), value: z.record(z.string(), z.unknown()) }).strict(),
  z.object({ seq: Seq, kind: AgentKind, op: z.literal('remove'), key: z.string().max(4096) }).strict(),
]);
export type FleetDelta = z.infer<typeof FleetDelta>;

/**
 * A message on `…host.<h>.delta`: the changes from..through (inclusive; the next message starts at through
 * + 1) of one boot, at most one per entity — its latest, with that change's seq — in seq order. A seq with
 * no delta was a change of an entity that changed again later in the range (the agent coalesces what
 * piles up while a publish waits for its ack: a counter refresh of 100k SAs is not 100k messages behind).
 */
export const DeltaBatch = z
  .object({ proto: z.number().int(), host: Host, boot: Boot, from: Seq, through: Seq, time: z.number(), deltas: z.array(FleetDelta) })
  .strict()
  .refine((b) => b.from <= b.through && b.deltas.length > 0 && b.deltas[0]!.seq >= b.from && b.deltas[b.deltas.length - 1]!.seq <= b.through && b.deltas.every((d, i) => i === 0 || d.seq > b.deltas[i - 1]!.seq), 'deltas must lie within from..through, in increasing seq order');
export type DeltaBatch = z.infer<typeof DeltaBatch>;

/** The server block of a snapshot (as the hub's). */
export const AgentServer = z.object({ version: z.string(), hostname: z.string(), netns: z.string() }).strict();

/** A row as the model keeps it: an object with its key (checked without walking its fields: 100k SAs). */
const KeyedRow = z.custom<Record<string, unknown> & { key: string }>((v) => typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { key?: unknown }).key === 'string', 'a row: an object with a string key');

/** The reassembled snapshot document (chunks joined as bytes, then parsed): every kind's rows at `seq`. */
export const SnapshotDocument = z
  .object({ proto: z.number().int(), host: Host, boot: Boot, seq: Seq, time: z.number(), server: AgentServer, entities: z.partialRecord(AgentKind, z.array(KeyedRow)) })
  .strict();
export type SnapshotDocument = z.infer<typeof SnapshotDocument>;

/** KV sascope-hosts/<host>: where the newest complete snapshot is, written after its last chunk was stored. */
export const HostRecord = z
  .object({
    proto: z.number().int(),
    host: Host,
    boot: Boot,
    agentVersion: z.string().max(64),
    /** The snapshot: current at seq; its chunks are the first `chunks` messages on the snap subject from stream sequence firstStreamSeq. */
    snap: z.object({ seq: Seq, firstStreamSeq: z.number().int().positive(), chunks: z.number().int().positive(), bytes: z.number().int().nonnegative() }).strict(),
    time: z.number(),
  })
  .strict();
export type HostRecord = z.infer<typeof HostRecord>;

/** KV sascope-alive/<host>: the heartbeat, every fleet.heartbeatSeconds. */
export const AliveRecord = z
  .object({
    proto: z.number().int(),
    host: Host,
    boot: Boot,
    /** The agent's newest seq (published or not). */
    seq: Seq,
    time: z.number(),
    /** Sources: how many are ok, and the ids of those that are not. */
    sources: z.object({ ok: z.number().int().nonnegative(), notOk: z.array(z.string().max(64)).max(256) }).strict(),
  })
  .strict();
export type AliveRecord = z.infer<typeof AliveRecord>;

/** What a vici-* command acts on (ViciActionTarget): a connection (and one child), or an IKE or CHILD SA by charon's unique id. */
const SaId = z.number().int().min(1).max(0xffffffff);
const ViciTarget = z.union([
  z.object({ conn: z.string().min(1).max(256), child: z.string().min(1).max(256).optional() }).strict(),
  z.object({ ikeId: SaId }).strict(),
  z.object({ childId: SaId }).strict(),
]);
/** A command's request body: the protocol version, who asked (the operator token's name: the agent's log, a vici action's row) and a vici-* command's target. */
export const CommandRequest = z.object({ proto: z.number().int(), by: z.string().max(64), target: ViciTarget.optional() }).strict();
export type CommandRequest = z.infer<typeof CommandRequest>;

/** Why a command did not start: the action is already running, the request was not one, or the action is unknown. */
export const COMMAND_REFUSALS = ['busy', 'bad-request', 'unknown-action', 'failed'] as const;
/** The agent's answer: started with the action's row as it stands, or not, with the reason in words. */
export const CommandReply = z.discriminatedUnion('started', [
  z.object({ proto: z.number().int(), host: Host, action: z.string().max(64), started: z.literal(true), row: z.unknown() }).strict(),
  z.object({ proto: z.number().int(), host: Host, action: z.string().max(64), started: z.literal(false), refusal: z.enum(COMMAND_REFUSALS), message: z.string().max(1000) }).strict(),
]);
export type CommandReply = z.infer<typeof CommandReply>;

/** A record's proto before the rest is checked: a console tells "another version" from "malformed". */
export function protoOf(v: unknown): number | undefined {
  return typeof v === 'object' && v !== null && 'proto' in v && typeof v.proto === 'number' ? v.proto : undefined;
}

/**
 * JSON text written piece by piece into byte chunks of at most `chunkBytes` each: a 100k-SA snapshot
 * (~95 MB) never exists as one string. A chunk may end inside a row (or inside a UTF-8 sequence): the
 * reader joins the bytes before parsing. Text is gathered in a string and encoded 64 KiB at a time.
 */
export class ChunkWriter {
  readonly chunks: Buffer[] = [];
  private cur: Buffer;
  private used = 0;
  private text = '';
  bytes = 0;
  constructor(private readonly chunkBytes = CHUNK_BYTES) {
    this.cur = Buffer.allocUnsafe(chunkBytes);
  }
  write(text: string): void {
    this.text += text;
    if (this.text.length >= 65_536) this.flush();
  }
  private flush(): void {
    const b = Buffer.from(this.text, 'utf8');
    this.text = '';
    this.bytes += b.length;
    for (let off = 0; off < b.length; ) {
      const n = b.copy(this.cur, this.used, off);
      off += n;
      this.used += n;
      if (this.used === this.chunkBytes) {
        this.chunks.push(this.cur);
        this.cur = Buffer.allocUnsafe(this.chunkBytes);
        this.used = 0;
      }
    }
  }
  end(): Buffer[] {
    this.flush();
    if (this.used > 0 || this.chunks.length === 0) this.chunks.push(Buffer.from(this.cur.subarray(0, this.used)));
    this.used = 0;
    return this.chunks;
  }
}

/** Rows serialised between two yields of writeSnapshot (the agent lets the event loop run there). */
export const SNAPSHOT_ROWS_PER_TURN = 2000;

/**
 * A snapshot document into a ChunkWriter: the head's fields, then each kind's rows one by one, yielding
 * every SNAPSHOT_ROWS_PER_TURN rows. The row lists are taken when it starts; rows are the model's wire
 * objects, replaced and never mutated, so the document is the model at `head.seq` however long it takes.
 */
export function* writeSnapshot(w: ChunkWriter, head: Omit<SnapshotDocument, 'entities'>, rows: (kind: EntityKind) => readonly unknown[]): Generator<void, void, void> {
  const lists = AGENT_KINDS.map((kind) => [kind, rows(kind)] as const).filter(([, list]) => list.length > 0);
  w.write(`${JSON.stringify(head).slice(0, -1)},"entities":{`);
  for (const [k, [kind, list]] of lists.entries()) {
    w.write(`\n${k === 0 ? '' : ','}${JSON.stringify(kind)}:[`);
    for (let i = 0; i < list.length; i++) {
      w.write(i === 0 ? `\n${JSON.stringify(list[i])}` : `\n,${JSON.stringify(list[i])}`);
      if (i % SNAPSHOT_ROWS_PER_TURN === SNAPSHOT_ROWS_PER_TURN - 1) yield;
    }
    w.write('\n]');
  }
  w.write('\n}}');
}

/** A snapshot document in chunks, at once. */
export function snapshotChunks(head: Omit<SnapshotDocument, 'entities'>, rows: (kind: EntityKind) => readonly unknown[], chunkBytes = CHUNK_BYTES): { chunks: Buffer[]; bytes: number } {
  const w = new ChunkWriter(chunkBytes);
  for (const _ of writeSnapshot(w, head, rows));
  const chunks = w.end();
  return { chunks, bytes: w.bytes };
}

/** Chunks back into the document (throws on bad JSON or a document that does not match the schema). */
export function joinSnapshot(chunks: readonly Uint8Array[]): SnapshotDocument {
  return SnapshotDocument.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
}

/**
 * Chunks back into the document a line at a time, `rest()` awaited every SNAPSHOT_ROWS_PER_TURN rows: the
 * writer puts the head, each kind's opening and each row on a line of its own (JSON has no raw newline
 * inside a value), so a 100k-SA document (~95 MB, one JSON.parse of 3–7 s here) never holds the event loop
 * for more than a slice of rows. A document without newlines (an agent from before) is parsed whole. Throws
 * as joinSnapshot does, naming the line.
 */
export async function readSnapshot(chunks: readonly Uint8Array[], rest: () => Promise<void>): Promise<SnapshotDocument> {
  const all = Buffer.concat(chunks);
  if (all.indexOf(0x0a) < 0) return joinSnapshot([all]);
  const entities: Record<string, unknown[]> = {};
  let head: unknown;
  let list: unknown[] | undefined;
  let rows = 0;
  let closed = false;
  for (let off = 0, n = 1; off < all.length; n++) {
    const nl = all.indexOf(0x0a, off);
    const end = nl < 0 ? all.length : nl;
    const line = all.toString('utf8', off, end);
    off = end + 1;
    const body = line.startsWith(',') ? line.slice(1) : line;
    const bad = (what: string) => new Error(`snapshot line ${n}: ${what}: ${line.slice(0, 80)}`);
    if (closed) throw bad('text after the document\'s end');
    if (n === 1) head = JSON.parse(`${line}}}`); // `{<head's fields>,"entities":{`
    else if (body.startsWith('{')) {
      if (!list) throw bad('a row outside a kind');
      list.push(KeyedRow.parse(JSON.parse(body)));
      if (++rows % SNAPSHOT_ROWS_PER_TURN === 0) await rest();
    } else if (body.endsWith(':[')) entities[AgentKind.parse(JSON.parse(body.slice(0, -2)))] = list = [];
    else if (body === ']' && list) list = undefined;
    else if (body === '}}' && !list) closed = true;
    else throw bad('not a line of a snapshot document');
  }
  if (!closed) throw new Error('snapshot: the document does not end');
  return { ...SnapshotDocument.parse({ ...(head as object), entities: {} }), entities };
}

/**
 * Deltas (in increasing seq order) in messages of at most maxBytes each, covering from..through with no gap:
 * each message runs from the one before's through + 1 to its last delta's seq (the last one to `through`).
 * Returns the JSON payloads. A single delta bigger than maxBytes cannot be sent as a delta: `tooBig` says
 * so (the agent then publishes a snapshot instead, which has no size limit).
 */
export function deltaMessages(head: { host: string; boot: string; time: number }, deltas: ReadonlyArray<{ seq: number }>, range: { from: number; through: number }, maxBytes = CHUNK_BYTES): { messages: Array<{ from: number; through: number; payload: Buffer }>; tooBig: boolean } {
  const prefix = (from: number, through: number) => `{"proto":${FLEET_PROTO},"host":${JSON.stringify(head.host)},"boot":"${head.boot}","from":${from},"through":${through},"time":${head.time},"deltas":[`;
  const room = maxBytes - Buffer.byteLength(prefix(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)) - 2;
  const messages: Array<{ from: number; through: number; payload: Buffer }> = [];
  let parts: string[] = [];
  let size = 0;
  let from = range.from;
  const close = (through: number) => {
    messages.push({ from, through, payload: Buffer.from(`${prefix(from, through)}${parts.join(',')}]}`, 'utf8') });
    from = through + 1;
    parts = [];
    size = 0;
  };
  let last = range.from - 1;
  for (const d of deltas) {
    const text = JSON.stringify(d);
    const len = Buffer.byteLength(text) + 1;
    if (len > room) return { messages: [], tooBig: true };
    if (parts.length > 0 && size + len > room) close(last);
    parts.push(text);
    size += len;
    last = d.seq;
  }
  if (parts.length > 0) close(range.through);
  return { messages, tooBig: false };
}

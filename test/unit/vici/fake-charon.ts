// A fake charon on a unix socket for the VICI client and source tests: it answers each packet a client
// sends through a handler that returns the packets to send back (in order; a number is a pause in ms, 'die'
// ends the connection there). Each connection's requests are recorded in the order they came.
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodePacket, encodePacket, SegmentReader, type EncodableSection, type ViciPacket } from '../../../server/families/vici/spec.ts';

export type Reply = Buffer | number | 'die';
export type Handler = (p: ViciPacket, conn: number) => Reply[];

export const response = (m: EncodableSection = {}): Buffer => encodePacket('CMD_RESPONSE', undefined, m);
export const event = (name: string, m: EncodableSection = {}): Buffer => encodePacket('EVENT', name, m);
export const confirm = (): Buffer => encodePacket('EVENT_CONFIRM');
export const unknownEvent = (): Buffer => encodePacket('EVENT_UNKNOWN');

export class FakeCharon {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'sascope-vici-'));
  readonly path = path.join(this.dir, 'charon.vici');
  readonly requests: Array<{ conn: number; packet: ViciPacket }> = [];
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private conns = 0;

  constructor(public handler: Handler) {}

  async listen(): Promise<this> {
    const server = net.createServer((s) => this.serve(s));
    await new Promise<void>((resolve) => server.listen(this.path, resolve));
    this.server = server;
    return this;
  }

  private serve(s: net.Socket): void {
    const conn = ++this.conns;
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
    const reader = new SegmentReader();
    let chain = Promise.resolve();
    s.on('data', (chunk) => {
      for (const seg of reader.push(chunk)) {
        const p = decodePacket(seg);
        this.requests.push({ conn, packet: p });
        const replies = this.handler(p, conn);
        chain = chain.then(async () => {
          for (const r of replies) {
            if (s.destroyed) return;
            if (r === 'die') return void s.destroy();
            if (typeof r === 'number') await new Promise((res) => setTimeout(res, r));
            else s.write(r);
          }
        });
      }
    });
  }

  /** An event on every open connection. */
  broadcast(packet: Buffer): void {
    for (const s of this.sockets) s.write(packet);
  }

  /** charon restarts: every connection ends, the socket stays. */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  /** charon stops: every connection ends, the socket goes (ENOENT for the next connect). */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A charon that answers version, registers every event except `lacks`, and lists what `state` holds. */
export function charonLike(state: { conns: EncodableSection[]; sas: EncodableSection[]; lacks?: string[] }): Handler {
  return (p) => {
    if (p.type === 'EVENT_REGISTER') return [state.lacks?.includes(p.name!) ? unknownEvent() : confirm()];
    if (p.type !== 'CMD_REQUEST') return [confirm()];
    switch (p.name) {
      case 'version':
        return [response({ daemon: 'charon', version: '5.9.8', sysname: 'Linux', release: '7.2.13+deb14-amd64', machine: 'x86_64' })];
      case 'list-conns':
        return [...state.conns.map((c) => event('list-conn', c)), response()];
      case 'list-sas': {
        const ike = typeof p.message?.ike === 'string' ? p.message.ike : undefined;
        return [...state.sas.filter((s) => !ike || ike in s).map((s) => event('list-sa', s)), response()];
      }
      default:
        return [encodePacket('CMD_UNKNOWN')];
    }
  };
}

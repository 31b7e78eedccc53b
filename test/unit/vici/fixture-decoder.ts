// The VICI fixture decoder: one framed packet in (length header included); its type, name and message, and
// the rows the product makes of it (connections, IKE and CHILD SAs; an event's facts) out, in wire form.
// Times charon gives relative to its reading come out relative to 0 (now = 0), so the expected JSON is fixed.
import { toWire } from '../../../server/model/model.ts';
import { decodeFramedPacket } from '../../../server/families/vici/spec.ts';
import { connectionsFrom, eventFacts, sasFrom } from '../../../server/families/vici/entities.ts';
import { VICI_EVENTS } from '../../../server/families/vici/source.ts';

export function decodeViciPacket(bytes: Buffer): unknown {
  const p = decodeFramedPacket(bytes, 'fixture');
  const out: Record<string, unknown> = { ...p };
  if (p.type === 'EVENT' && p.message) {
    if (p.name === 'list-conn') out.connections = connectionsFrom(p.message, 0);
    else if (p.name === 'list-sa') out.sas = sasFrom(p.message, 0);
    else if ((VICI_EVENTS as readonly string[]).includes(p.name ?? '')) out.facts = eventFacts(p.name!, p.message, 0);
  }
  return toWire(out);
}

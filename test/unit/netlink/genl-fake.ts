// A generic netlink layer on the fake transport (the genltest idea): nlctrl CTRL_CMD_GETFAMILY is
// answered by itself from a list of families (ENOENT for the rest, as a kernel without the module),
// every other request goes to the test's handler as { cmd, attrs, dump }. Helpers build replies,
// ACKs and notifications the way the kernel frames them.
import type { NetlinkMessage } from '../../../server/netlink/message.ts';
import { encodeMessage } from '../../../server/netlink/message.ts';
import { NLM_F_DUMP } from '../../../server/netlink/constants.ts';
import { AttrWriter } from '../../../server/netlink/attr.ts';
import { CTRL_CMD_GETFAMILY, GENL_ID_CTRL, encodeGenl, parseGenl } from '../../../server/genl/genl.ts';
import { decodeAttrs } from '../../../server/netlink/spec.ts';
import { ctrlAttrs } from '../../../server/genl/genl.ts';
import { Errno } from '../../../server/sys/errno.ts';
import { fakeTransport, multipart, nlError, type FakeTransport } from './fake.ts';

export interface FakeFamily {
  name: string;
  id: number;
  version?: number;
  /** Command numbers the kernel family offers (nlctrl's op list). */
  ops: number[];
  groups?: Record<string, number>;
}

export interface GenlRequest {
  msg: NetlinkMessage;
  familyId: number;
  cmd: number;
  attrs: Buffer;
  dump: boolean;
}

export type GenlHandler = (req: GenlRequest) => Buffer[] | Error;

/** CTRL_CMD_NEWFAMILY as nlctrl sends it. */
export function familyAttrs(f: FakeFamily): Buffer {
  const w = new AttrWriter()
    .u16(1, f.id)
    .string(2, f.name)
    .u32(3, f.version ?? 1)
    .u32(4, 0)
    .u32(5, 30)
    .nest(6, (ops) => f.ops.forEach((cmd, i) => ops.nest(i + 1, (o) => o.u32(1, cmd).u32(2, 0))));
  const groups = Object.entries(f.groups ?? {});
  if (groups.length) w.nest(7, (gs) => groups.forEach(([name, id], i) => gs.nest(i + 1, (g) => g.string(1, name).u32(2, id))));
  return w.encode();
}

export interface GenlFake extends FakeTransport {
  /** Requests to families other than nlctrl. */
  genlRequests: GenlRequest[];
}

export function genlFake(families: FakeFamily[], handler: GenlHandler): GenlFake {
  const genlRequests: GenlRequest[] = [];
  const t = fakeTransport((msg) => {
    if (msg.type === GENL_ID_CTRL) {
      const g = parseGenl(msg, 'nlctrl request');
      if (g.cmd !== CTRL_CMD_GETFAMILY) return [nlError(msg, Errno.EOPNOTSUPP)];
      const name = decodeAttrs(ctrlAttrs, g.attrs)['family-name'];
      const f = families.find((x) => x.name === name);
      if (!f) return [nlError(msg, Errno.ENOENT)];
      return [encodeMessage(GENL_ID_CTRL, 0, msg.seq, encodeGenl(1 /* CTRL_CMD_NEWFAMILY */, 2, familyAttrs(f)), msg.pid), nlError(msg, 0)];
    }
    const g = parseGenl(msg, 'request');
    const req = { msg, familyId: msg.type, cmd: g.cmd, attrs: g.attrs, dump: (msg.flags & NLM_F_DUMP) === NLM_F_DUMP };
    genlRequests.push(req);
    return handler(req);
  });
  return Object.assign(t, { genlRequests });
}

/** A do-request's answer: one reply message, then the ACK. */
export function genlDo(req: GenlRequest, cmd: number, attrs: Buffer): Buffer[] {
  return [encodeMessage(req.familyId, 0, req.msg.seq, encodeGenl(cmd, 1, attrs), req.msg.pid), nlError(req.msg, 0)];
}

/** A dump's answer: one NLM_F_MULTI part per attribute run, then NLMSG_DONE. */
export function genlDump(req: GenlRequest, cmd: number, parts: Buffer[]): Buffer[] {
  return multipart(req.msg, req.familyId, parts.map((a) => encodeGenl(cmd, 1, a)));
}

/** A multicast notification as the monitor would hand it over (seq 0, port 0). */
export function genlNotification(familyId: number, cmd: number, attrs: Buffer): NetlinkMessage {
  return { type: familyId, flags: 0, seq: 0, pid: 0, payload: encodeGenl(cmd, 1, attrs) };
}

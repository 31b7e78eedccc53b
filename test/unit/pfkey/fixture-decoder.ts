// The PF_KEY fixture decoder: one datagram in; its header (type by name), the decoded extensions and
// the entity the product makes of it (SA, policy or advertised algorithms) out, in wire form.
import { toWire } from '../../../server/model/model.ts';
import { decodeSadbMessage } from '../../../server/families/pfkey/message.ts';
import { algorithmsFromRegister, policyFromMessage, saFromMessage } from '../../../server/families/pfkey/sa.ts';
import { SADB, SADB_NAME } from '../../../server/families/pfkey/spec.ts';

export function decodePfkeyDatagram(bytes: Buffer): unknown {
  const m = decodeSadbMessage(bytes, 'fixture');
  const out: Record<string, unknown> = { type: SADB_NAME[m.header.type] ?? m.header.type, message: m };
  if (m.header.errno === 0) {
    if (m.ext.policy && m.ext.addressSrc) out.policy = policyFromMessage(m);
    else if (m.ext.sa && m.ext.addressSrc && m.ext.addressDst) out.sa = saFromMessage(m);
    else if (m.header.type === SADB.REGISTER) out.algorithms = algorithmsFromRegister(m);
  }
  return toWire(out);
}

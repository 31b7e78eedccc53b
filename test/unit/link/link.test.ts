// decodeLink (families/link/link.ts): what the IFLA_* table's types hold it to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLink } from '../../../server/families/link/link.ts';
import { ifinfomsg } from '../../../server/families/link/spec.ts';
import { AttrWriter } from '../../../server/netlink/attr.ts';
import { encodeStruct } from '../../../server/netlink/struct.ts';

const linkWith = (operstate: number) => ({
  type: 16, flags: 0, seq: 0, pid: 0,
  payload: Buffer.concat([encodeStruct(ifinfomsg, { type: 1, index: 3 }), new AttrWriter().string(3, 'eth0').u8(16, operstate).encode()]),
});

test('operState is a string: an IF_OPER_* name, or the digits of a number the table does not name', () => {
  assert.equal(decodeLink(linkWith(6)).operState, 'up');
  assert.equal(decodeLink(linkWith(9)).operState, '9');
});

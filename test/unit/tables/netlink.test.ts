// The constants below the families against their C definitions: server/netlink/constants.ts against
// <linux/netlink.h> of the lab's 7.2 source tree, server/genl/genl.ts against <linux/genetlink.h> (the
// nlctrl attribute numbers; nlctrl's YAML spec is held in genl.test.ts), server/sys/libc.ts against the
// C library's headers. Each constant is named as its C macro, so the compiler gives the value to compare.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as netlink from '../../../server/netlink/constants.ts';
import * as genl from '../../../server/genl/genl.ts';
import * as libc from '../../../server/sys/libc.ts';
import type { AttrSet } from '../../../server/netlink/spec.ts';
import { assertAttrsMatchEnum, headerConstants, linuxSource, structLayouts, uapiHeader } from './kernel.ts';

/** The module's exported numeric constants named like C macros. */
const macros = (m: object, skip: string[] = []) =>
  Object.entries(m).filter(([n, v]) => /^[A-Z][A-Z0-9_]+$/.test(n) && typeof v === 'number' && !skip.includes(n)) as Array<[string, number]>;

const src = linuxSource('netlink tables');
if (src) {
  // GENL_CTRL_NOTIFY_GROUP is ours (the id genetlink.c gives nlctrl's group), not a macro.
  const modules: Array<[string, Array<[string, number]>]> = [
    ['server/netlink/constants.ts', macros(netlink)],
    ['server/genl/genl.ts', macros(genl, ['GENL_CTRL_NOTIFY_GROUP'])],
    ['server/sys/libc.ts', macros(libc)],
  ];
  // NLA_TYPE_MASK: ours is the 16-bit nla_type mask, C's the int ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER).
  const expr = (n: string) => (n === 'NLA_TYPE_MASK' ? '(NLA_TYPE_MASK) & 0xffff' : n);
  const all = modules.flatMap(([, c]) => c.map(([n]) => expr(n)));
  const c = structLayouts(src, ['sys/socket.h', 'sched.h', 'linux/netlink.h', 'linux/genetlink.h'], '', [], all);

  for (const [file, consts] of modules) {
    test(`${file}: every constant has its C macro's value`, () => {
      assert.ok(consts.length > 0);
      for (const [n, v] of consts) assert.equal(v, c.values.get(expr(n)), `${n} is ${v}, the C headers say ${c.values.get(expr(n))}`);
    });
  }

  const k = headerConstants(uapiHeader(src, 'linux/genetlink.h'));
  const sets: Array<[string, AttrSet, string]> = [
    ['ctrlAttrs', genl.ctrlAttrs, 'CTRL_ATTR_'],
    ['ctrlAttrs ops', genl.ctrlAttrs.attrs.get(6)!.nest!, 'CTRL_ATTR_OP_'],
    ['ctrlAttrs mcast-groups', genl.ctrlAttrs.attrs.get(7)!.nest!, 'CTRL_ATTR_MCAST_GRP_'],
  ];
  for (const [what, set, prefix] of sets) test(`${what}: numbers are ${prefix}*`, () => assertAttrsMatchEnum(set, prefix, k));
}

// errno in words: SyscallError and NetlinkError messages an operator can act on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errno, SyscallError, errnoHint, errnoName, errnoMessage } from '../../../server/sys/errno.ts';
import { NetlinkError } from '../../../server/netlink/errors.ts';
import { classifyFailure } from '../../../server/families/source.ts';

test('errno names and words', () => {
  assert.equal(errnoName(1), 'EPERM');
  assert.equal(errnoName(-105), 'ENOBUFS');
  assert.equal(errnoName(99999), 'errno 99999');
  assert.match(errnoMessage(2), /no such file/i);
  assert.equal(errnoMessage(99999), 'unknown error');
});

test('EPERM/EACCES → "needs CAP_NET_ADMIN"; hints depend on the call', () => {
  assert.equal(errnoHint(Errno.EPERM, 'bind'), 'needs CAP_NET_ADMIN');
  assert.equal(errnoHint(Errno.EACCES, 'send'), 'needs CAP_NET_ADMIN');
  assert.equal(errnoHint(Errno.EAFNOSUPPORT, 'socket'), 'address family not in this kernel');
  assert.equal(errnoHint(Errno.EAFNOSUPPORT, 'bind'), undefined);
  assert.equal(errnoHint(Errno.ENOBUFS, 'recv'), 'receive buffer overflowed, events were lost');
});

test('SyscallError: "source: call: CODE (words)[: detail]"', () => {
  const e = new SyscallError('xfrm', 'dump SAs', Errno.EPERM);
  assert.equal(e.message, 'xfrm: dump SAs: EPERM (needs CAP_NET_ADMIN)');
  assert.equal(e.code, 'EPERM');
  assert.equal(e.errno, 1);
  assert.equal(e.name, 'SyscallError');
  assert.match(new SyscallError('pfkey', 'recv', Errno.EMSGSIZE, 'datagram of 9000 bytes truncated').message, /^pfkey: recv: EMSGSIZE \(.+\): datagram of 9000 bytes truncated$/);
});

test('classifyFailure maps errno to source states', () => {
  assert.equal(classifyFailure(new SyscallError('x', 'socket', Errno.EPERM)).state, 'no-permission');
  assert.equal(classifyFailure(new SyscallError('x', 'socket', Errno.EAFNOSUPPORT)).state, 'not-available');
  assert.equal(classifyFailure(new NetlinkError('x', 'resolve family', Errno.ENOENT)).state, 'not-available');
  assert.equal(classifyFailure(new Error('boom')).state, 'error');
  assert.equal(classifyFailure('odd').reason, 'odd');
});

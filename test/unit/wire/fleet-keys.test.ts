// How the fleet console names a host's rows and what they refer to (server/wire/fleet.ts): the tunnel page,
// the alarm links and the console's history all resolve agent keys with these.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostKey, hostOfKey, keyOnHost, refOnHost } from '../../../server/wire/fleet.ts';
import { alarmTunnelHref } from '../../../components/tunnels/href.ts';

const T = 'xfrm:esp:10.0.0.1>10.0.0.2:reqid=1';

test("a host's keys and refs as the console names them; single-host rows keep theirs", () => {
  assert.equal(keyOnHost({ host: 'gw1' }, T), `gw1/${T}`);
  assert.equal(keyOnHost({}, T), T);
  assert.equal(refOnHost({ host: 'gw1' }, `tunnel:${T}`), `tunnel:gw1/${T}`);
  assert.equal(refOnHost({ host: 'gw1' }, 'host:gw1'), 'host:gw1', "the console's own host refs");
  assert.equal(refOnHost({}, `tunnel:${T}`), `tunnel:${T}`);
  assert.equal(alarmTunnelHref({ host: 'gw1', ref: `tunnel:${T}` }), `/tunnels/${encodeURIComponent(`gw1/${T}`)}`);
  assert.equal(alarmTunnelHref({ host: 'gw1', ref: 'host:gw1' }), undefined);
});

test('the host in front of a console key, and none in a local key (whose selector may hold a "/")', () => {
  assert.equal(hostOfKey(hostKey('gw-1', T)), 'gw-1');
  assert.equal(hostOfKey(hostKey('gw1', 'xfrm-sa')), 'gw1');
  assert.equal(hostOfKey(T), undefined);
  assert.equal(hostOfKey('xfrm:esp:10.0.0.0/8>10.1.0.0/16:reqid=2'), undefined);
  assert.equal(hostOfKey('xfrm-sa'), undefined);
});

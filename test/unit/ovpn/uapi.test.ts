// The ovpn tables checked against the 7.x uapi header <linux/ovpn.h> where the lab extracted it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CIPHER_ALG, DEL_PEER_REASON, KEY_SLOT, OVPN_CMD, keyconfAttrs, ovpnAttrs, ovpnFamily, peerAttrs } from '../../../server/families/ovpn/spec.ts';
import { cName, uapiConstants } from '../tables/kernel.ts';
import { paths } from '../../lab/lib/config.ts';

const enums = uapiConstants('linux/ovpn.h')?.value;

test('ovpn tables match <linux/ovpn.h>', { skip: enums || process.env.CI ? false : `no uapi headers in ${paths.source}` }, () => {
  // In CI the lab's 7.x headers are provisioned by setup.sh --test: missing is a failure there, not a skip.
  assert.ok(enums, `no uapi headers in ${paths.source} (npm run lab -- provision extracts them)`);
  const e = enums;
  for (const [set, prefix] of [[peerAttrs, 'OVPN_A_PEER_'], [keyconfAttrs, 'OVPN_A_KEYCONF_'], [ovpnAttrs, 'OVPN_A_']] as const) {
    for (const [n, spec] of set.attrs) assert.equal(e.get(prefix + cName(spec.name)), n, `${set.name}.${spec.name}`);
    assert.equal(set.attrs.size, e.get(`${prefix}MAX`), `${set.name} declares every attribute of the header`);
  }
  for (const [k, v] of Object.entries(OVPN_CMD)) assert.equal(e.get(`OVPN_CMD_${k}`), v, `OVPN_CMD_${k}`);
  for (const [name, cmd] of Object.entries(ovpnFamily.requests)) assert.equal(e.get(`OVPN_CMD_${cName(name)}`), cmd);
  for (const [cmd, name] of Object.entries(ovpnFamily.notifications)) assert.equal(e.get(`OVPN_CMD_${cName(name)}`), Number(cmd));
  for (const [v, name] of Object.entries(CIPHER_ALG)) assert.equal(e.get(`OVPN_CIPHER_ALG_${cName(name)}`), Number(v));
  for (const [v, name] of Object.entries(DEL_PEER_REASON)) assert.equal(e.get(`OVPN_DEL_PEER_REASON_${cName(name)}`), Number(v));
  for (const [v, name] of Object.entries(KEY_SLOT)) assert.equal(e.get(`OVPN_KEY_SLOT_${cName(name)}`), Number(v));
});

// The psp tables checked against the 7.x uapi header <linux/psp.h> where the lab extracted it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PSP_CMD, PSP_VERSION, devAttrs, pspFamily, statsAttrs } from '../../../server/families/psp/spec.ts';
import { cName, uapiConstants } from '../tables/kernel.ts';
import { paths } from '../../lab/lib/config.ts';

const enums = uapiConstants('linux/psp.h')?.value;

test('psp tables match <linux/psp.h>', { skip: enums || process.env.CI ? false : `no uapi headers in ${paths.source}` }, () => {
  // In CI the lab's 7.x headers are provisioned by setup.sh --test: missing is a failure there, not a skip.
  assert.ok(enums, `no uapi headers in ${paths.source} (npm run lab -- provision extracts them)`);
  const e = enums;
  for (const [set, prefix] of [[devAttrs, 'PSP_A_DEV_'], [statsAttrs, 'PSP_A_STATS_']] as const) {
    for (const [n, spec] of set.attrs) assert.equal(e.get(prefix + cName(spec.name)), n, `${set.name}.${spec.name}`);
    assert.equal(set.attrs.size, e.get(`${prefix}MAX`), `${set.name} declares every attribute of the header`);
  }
  for (const [k, v] of Object.entries(PSP_CMD)) assert.equal(e.get(`PSP_CMD_${k}`), v, `PSP_CMD_${k}`);
  for (const [name, cmd] of Object.entries(pspFamily.requests)) assert.equal(e.get(`PSP_CMD_${cName(name)}`), cmd);
  for (const [cmd, name] of Object.entries(pspFamily.notifications)) assert.equal(e.get(`PSP_CMD_${cName(name)}`), Number(cmd));
  for (const [bit, name] of PSP_VERSION) assert.equal(1 << e.get(`PSP_VERSION_${cName(name)}`)!, bit, name);
  // The forbidden association commands exist in the header and have no entry in sascope's request table.
  const requested = new Set(Object.values(pspFamily.requests));
  for (const c of ['PSP_CMD_RX_ASSOC', 'PSP_CMD_TX_ASSOC']) assert.ok(!requested.has(e.get(c)!), `${c} is never requested`);
});

// Test helper: PF_KEY messages a key manager would send (SADB_ADD, SADB_DELETE, SADB_X_SPDADD), built
// with the product's own encoder (server/families/pfkey/message.ts). Used by the lab tests and
// test/tools/capture-pfkey.ts; product code never adds SAs.
import { encodeSadbMessage, type SadbExtensions } from '../../server/families/pfkey/message.ts';
import { SADB, SATYPE } from '../../server/families/pfkey/spec.ts';
import { AF_INET, AF_INET6 } from '../../server/sys/libc.ts';

export interface AddSaOptions {
  satype?: number;
  spi: number;
  src: string;
  dst: string;
  /** SADB_*ALG_* ids. */
  auth?: number;
  encrypt?: number;
  authKey?: Buffer;
  encryptKey?: Buffer;
  /** IPSEC_MODE_* (1 transport, 2 tunnel). */
  mode?: number;
  reqid?: number;
  replay?: number;
  hard?: { allocations?: number; bytes?: bigint; addtime?: bigint; usetime?: bigint };
  soft?: { allocations?: number; bytes?: bigint; addtime?: bigint; usetime?: bigint };
  natT?: { type: number; sport: number; dport: number };
  seq?: number;
  pid?: number;
  type?: number;
}

const family = (a: string) => (a.includes(':') ? AF_INET6 : AF_INET);
const lt = (l: AddSaOptions['hard']) => ({ allocations: l?.allocations ?? 0, bytes: l?.bytes ?? 0n, addtime: l?.addtime ?? 0n, usetime: l?.usetime ?? 0n });

/** SADB_ADD <base, SA, (lifetime HS), address SD, key AE, x_sa2, (nat-t)> */
export function buildAddSa(o: AddSaOptions): Buffer {
  const f = family(o.src);
  const prefix = f === AF_INET ? 32 : 128;
  const ext: SadbExtensions = {
    sa: { spi: o.spi, replay: o.replay ?? 32, state: 1, auth: o.auth ?? 0, encrypt: o.encrypt ?? 0, flags: 0 },
    addressSrc: { family: f, address: o.src, port: 0, proto: 255, prefixlen: prefix },
    addressDst: { family: f, address: o.dst, port: 0, proto: 255, prefixlen: prefix },
    sa2: { mode: o.mode ?? 1, sequence: 0, reqid: o.reqid ?? 0 },
  };
  if (o.hard) ext.lifetimeHard = lt(o.hard);
  if (o.soft) ext.lifetimeSoft = lt(o.soft);
  if (o.authKey) ext.keyAuth = { bits: o.authKey.length * 8, key: o.authKey };
  if (o.encryptKey) ext.keyEncrypt = { bits: o.encryptKey.length * 8, key: o.encryptKey };
  if (o.natT) {
    ext.natTType = { type: o.natT.type };
    ext.natTSport = { port: o.natT.sport };
    ext.natTDport = { port: o.natT.dport };
  }
  return encodeSadbMessage({ type: o.type ?? SADB.ADD, satype: o.satype ?? SATYPE.ESP, seq: o.seq ?? 1, pid: o.pid ?? process.pid }, ext);
}

/** SADB_DELETE <base, SA(*), address SD> */
export function buildDeleteSa(o: { satype?: number; spi: number; src: string; dst: string; seq?: number; pid?: number }): Buffer {
  const f = family(o.src);
  const prefix = f === AF_INET ? 32 : 128;
  return encodeSadbMessage(
    { type: SADB.DELETE, satype: o.satype ?? SATYPE.ESP, seq: o.seq ?? 2, pid: o.pid ?? process.pid },
    {
      sa: { spi: o.spi, replay: 0, state: 0, auth: 0, encrypt: 0, flags: 0 },
      addressSrc: { family: f, address: o.src, port: 0, proto: 255, prefixlen: prefix },
      addressDst: { family: f, address: o.dst, port: 0, proto: 255, prefixlen: prefix },
    },
  );
}

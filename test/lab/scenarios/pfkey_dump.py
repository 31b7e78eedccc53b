#!/usr/bin/python3
"""PF_KEY v2 SADB_DUMP / SADB_X_SPDDUMP with a raw socket (independent of sascope).

  pfkey_dump.py sa|sp   -> JSON list of {type, errno, seq, pid, len, sa:{spi, state, encrypt, auth},
                           lifetimeCurrent:{allocations, bytes}, exts:[ext types]}
Socket: socket(AF_KEY=15, SOCK_RAW, PF_KEY_V2=2) (autoloads af_key). Replies until sadb_msg_seq == 0;
ENOENT = empty.
"""
import errno
import json
import os
import socket
import struct
import sys

AF_KEY, PF_KEY_V2 = 15, 2
SADB_DUMP, SADB_X_SPDDUMP = 10, 18
SADB_SATYPE_UNSPEC = 0
# struct sadb_msg: version, type, errno, satype, len (u64 units), reserved, seq, pid
MSG = struct.Struct("=BBBBHHII")
EXT = struct.Struct("=HH")  # sadb_ext: len (u64 units), type
SADB_EXT_SA, SADB_EXT_LIFETIME_CURRENT = 1, 2
SA = struct.Struct("=HHIBBBBI")  # sadb_sa: len, exttype, spi(be), replay, state, auth, encrypt, flags
LIFETIME = struct.Struct("=HHIQQQ")  # sadb_lifetime: len, exttype, allocations, bytes, addtime, usetime


def dump(kind):
    s = socket.socket(AF_KEY, socket.SOCK_RAW, PF_KEY_V2)
    s.settimeout(5)
    seq = 1
    mtype = SADB_DUMP if kind == "sa" else SADB_X_SPDDUMP
    s.send(MSG.pack(PF_KEY_V2, mtype, 0, SADB_SATYPE_UNSPEC, MSG.size // 8, 0, seq, os.getpid()))
    out = []
    while True:
        buf = s.recv(65536)
        ver, typ, err, satype, ln, _, mseq, pid = MSG.unpack_from(buf)
        if err == errno.ENOENT:
            break
        if typ != mtype:
            continue  # someone else's broadcast
        rec = {"type": typ, "satype": satype, "errno": err, "seq": mseq, "pid": pid, "len": ln * 8, "exts": []}
        off = MSG.size
        while off + EXT.size <= ln * 8:
            elen, etype = EXT.unpack_from(buf, off)
            if elen == 0:
                break
            rec["exts"].append(etype)
            if etype == SADB_EXT_SA:
                _, _, spi, replay, state, auth, enc, flags = SA.unpack_from(buf, off)
                rec["sa"] = {"spi": "0x%08x" % socket.ntohl(spi), "replay": replay, "state": state,
                             "auth": auth, "encrypt": enc, "flags": flags}
            elif etype == SADB_EXT_LIFETIME_CURRENT:
                _, _, alloc, nbytes, add, use = LIFETIME.unpack_from(buf, off)
                rec["lifetimeCurrent"] = {"allocations": alloc, "bytes": nbytes, "addtime": add, "usetime": use}
            off += elen * 8
        out.append(rec)
        if err or mseq == 0:
            break
    s.close()
    return out


if __name__ == "__main__":
    print(json.dumps(dump(sys.argv[1] if len(sys.argv) > 1 else "sa")))

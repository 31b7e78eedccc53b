#!/usr/bin/python3
"""AF_ALG from userspace, independent of sascope: hash, skcipher and aead through the kernel.

  af_alg.py hash ALG HEXDATA                 digest of data with e.g. sha256 -> hex
  af_alg.py hmac ALG HEXKEY HEXDATA          keyed hash, e.g. hmac(sha256) -> hex
  af_alg.py skcipher ALG HEXKEY HEXIV HEXDATA   encrypt, e.g. cbc(aes) -> hex
  af_alg.py check                            JSON: which algif_* types bind, /proc/sys/crypto state
"""
import json
import os
import socket
import sys


def op(kind, alg, key=None, **kw):
    s = socket.socket(socket.AF_ALG, socket.SOCK_SEQPACKET, 0)
    s.bind((kind, alg))
    if key is not None:
        s.setsockopt(socket.SOL_ALG, socket.ALG_SET_KEY, key)
    c, _ = s.accept()
    return s, c


def digest(alg, data, key=None):
    s, c = op("hash", alg, key)
    with s, c:
        c.sendall(data)
        return c.recv(64)


def skcipher(alg, key, iv, data):
    s, c = op("skcipher", alg, key)
    with s, c:
        c.sendmsg_afalg([data], op=socket.ALG_OP_ENCRYPT, iv=iv)
        return c.recv(len(data))


def check():
    out = {}
    # Debian's 7.2 has no DRBG (no "stdrng"), only jitterentropy_rng; the custom kernel has DRBG
    for kind, algs in (("hash", ["sha256"]), ("skcipher", ["cbc(aes)"]), ("aead", ["gcm(aes)"]),
                       ("rng", ["stdrng", "jitterentropy_rng"])):
        errors = []
        for alg in algs:
            try:
                s = socket.socket(socket.AF_ALG, socket.SOCK_SEQPACKET, 0)
                s.bind((kind, alg))
                s.close()
                out[kind] = True
                out[kind + "Alg"] = alg
                break
            except OSError as e:
                errors.append(f"{alg}: {type(e).__name__}: {e}")
        else:
            out[kind] = "; ".join(errors)
    # 7.2 has no /proc/sys/crypto (nor af_alg_restrict); report either way
    out["procSysCrypto"] = sorted(os.listdir("/proc/sys/crypto")) if os.path.isdir("/proc/sys/crypto") else None
    return out


def main(a):
    if len(a) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = a[1]
    if cmd == "hash":
        print(digest(a[2], bytes.fromhex(a[3])).hex())
    elif cmd == "hmac":
        print(digest(a[2], bytes.fromhex(a[4]), bytes.fromhex(a[3])).hex())
    elif cmd == "skcipher":
        print(skcipher(a[2], bytes.fromhex(a[3]), bytes.fromhex(a[4]), bytes.fromhex(a[5])).hex())
    elif cmd == "check":
        print(json.dumps(check()))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

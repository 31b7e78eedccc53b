#!/usr/bin/python3
"""ovpn lab helper, driven through the kernel's own YNL library (tools/net/ynl from the cached
linux-7.2 source, $SASCOPE_LAB_SRC; never copied into the repo).

  ovpn_helper.py link IFNAME p2p|mp            create an ovpn device (rtnetlink, IFLA_OVPN_MODE)
  ovpn_helper.py hold CONFIG.json READY_FILE   add peers + keys and stay alive: ovpn peer-new takes
                                               the fd of a UDP socket owned by the caller, and the
                                               kernel deletes the peer when that process exits
  ovpn_helper.py peers IFNAME                  peer-get dump as JSON
  ovpn_helper.py keys IFNAME PEER_ID           key-get of both slots as JSON

CONFIG: {"ifname": "ovpn0", "local": "10.0.0.1", "port": 1194,
         "peers": [{"id": 1, "remote": "10.0.0.2", "remotePort": 1194, "vpnIpv4": "10.8.0.2",
                    "keys": [{"slot": "primary", "keyId": 1, "alg": "aes-gcm",
                              "encKey": hex, "encNonce": hex8, "decKey": hex, "decNonce": hex8}]}]}
Run it inside the netns that should own the socket and the device.
"""
import ipaddress
import json
import os
import signal
import socket
import sys

SRC = os.environ.get("SASCOPE_LAB_SRC", "")
sys.path.insert(0, os.path.join(SRC, "tools/net/ynl/pyynl"))
from lib import YnlFamily, Netlink  # noqa: E402  (the kernel's ynl)

SPECS = os.path.join(SRC, "Documentation/netlink/specs")


def family(name):
    # schema='' skips jsonschema validation (python3-jsonschema is not needed)
    return YnlFamily(os.path.join(SPECS, f"{name}.yaml"), schema="")


def ip4(s):
    return int(ipaddress.IPv4Address(s))


def ifindex(name):
    return socket.if_nametoindex(name)


def cmd_link(ifname, mode):
    rt = family("rt-link")
    rt.do("newlink", {"ifname": ifname, "linkinfo": {"kind": "ovpn", "data": {"mode": mode}}},
          flags=[Netlink.NLM_F_CREATE, Netlink.NLM_F_EXCL])
    print(json.dumps({"ifname": ifname, "ifindex": ifindex(ifname), "mode": mode}))


def cmd_hold(config_path, ready_file):
    cfg = json.load(open(config_path))
    ovpn = family("ovpn")
    idx = ifindex(cfg["ifname"])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((cfg.get("local", "0.0.0.0"), cfg.get("port", 1194)))
    for p in cfg["peers"]:
        peer = {
            "id": p["id"],
            "remote-ipv4": ip4(p["remote"]),
            "remote-port": p.get("remotePort", 1194),
            "socket": sock.fileno(),
            "keepalive-interval": p.get("keepaliveInterval", 10),
            "keepalive-timeout": p.get("keepaliveTimeout", 60),
        }
        if "vpnIpv4" in p:
            peer["vpn-ipv4"] = ip4(p["vpnIpv4"])
        if "local" in cfg:
            peer["local-ipv4"] = ip4(cfg["local"])
        ovpn.do("peer-new", {"ifindex": idx, "peer": peer})
        for k in p.get("keys", []):
            ovpn.do("key-new", {"ifindex": idx, "keyconf": {
                "peer-id": p["id"], "slot": k["slot"], "key-id": k["keyId"],
                "cipher-alg": k.get("alg", "aes-gcm"),
                "encrypt-dir": {"cipher-key": bytes.fromhex(k["encKey"]), "nonce-tail": bytes.fromhex(k["encNonce"])},
                "decrypt-dir": {"cipher-key": bytes.fromhex(k["decKey"]), "nonce-tail": bytes.fromhex(k["decNonce"])},
            }})
    with open(ready_file + ".tmp", "w") as f:
        json.dump({"pid": os.getpid(), "ifindex": idx, "peers": [p["id"] for p in cfg["peers"]]}, f)
    os.rename(ready_file + ".tmp", ready_file)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


def jsonable(v):
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [jsonable(x) for x in v]
    return v


def cmd_peers(ifname):
    ovpn = family("ovpn")
    out = ovpn.dump("peer-get", {"ifindex": ifindex(ifname)})
    peers = [jsonable(m.get("peer", m)) for m in out]
    for p in peers:
        for k in ("remote-ipv4", "local-ipv4", "vpn-ipv4"):
            if isinstance(p.get(k), int):
                p[k] = str(ipaddress.IPv4Address(p[k]))
    print(json.dumps(peers))


def cmd_keys(ifname, peer_id):
    ovpn = family("ovpn")
    keys = []
    for slot in ("primary", "secondary"):
        try:
            r = ovpn.do("key-get", {"ifindex": ifindex(ifname), "keyconf": {"peer-id": int(peer_id), "slot": slot}})
            keys.append(jsonable(r.get("keyconf", r)))
        except Exception as e:  # an empty slot is ENOENT
            keys.append({"slot": slot, "error": str(e)})
    print(json.dumps(keys))


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    {"link": cmd_link, "hold": cmd_hold, "peers": cmd_peers, "keys": cmd_keys}[cmd](*args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

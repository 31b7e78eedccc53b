#!/usr/bin/python3
# Test-only control channel into a lab VM for the host-side UI test (test/lab/ui/run.ts):
# POST / with {"cmd": "...", "timeout": s} runs the command with bash as root and answers
# {"code": n, "out": "..."}. It exists only inside the throw-away VM, on its user-mode NIC.
import http.server
import json
import subprocess
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("content-length", 0))
        body = json.loads(self.rfile.read(n) or b"{}")
        try:
            p = subprocess.run(["bash", "-c", body["cmd"]], capture_output=True, text=True, timeout=body.get("timeout", 120))
            res = {"code": p.returncode, "out": p.stdout + p.stderr}
        except subprocess.TimeoutExpired:
            res = {"code": 124, "out": "timed out"}
        out = json.dumps(res).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), Handler).serve_forever()

# SPDX-License-Identifier: Apache-2.0
# hitsite.py PORT HITS [FAILING]: an HTTP site on 127.0.0.1:PORT that
# writes "TIME PATH" to HITS for each request, and while the file FAILING
# exists answers 503 after 0.4 s (a site down and slow) instead of 200.
import http.server
import os
import sys
import time

log = open(sys.argv[2], "a", buffering=1)
failing = sys.argv[3] if len(sys.argv) > 3 else None


class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        log.write(f"{time.time():.3f} {self.path}\n")
        down = failing is not None and os.path.exists(failing)
        if down:
            time.sleep(0.4)
        self.send_response(503 if down else 200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *a):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()

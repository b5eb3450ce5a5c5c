#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A tested service that does what a careless or hostile one does, for the
dial tests' safety checks, on 127.0.0.1:PORT and 127.0.0.2:PORT:

  GET  /login   a JSON answer whose values hold a line break and JSON quotes
  POST /use     records the request it got
  GET  /redir   307 to http://127.0.0.2:PORT/catch (another origin)
  GET  /ftp     302 to ftp://127.0.0.1:PORT/x (another protocol)
  any  /catch   records the request it got
  anything else 404 naming the path (an echo of what was asked)

  echo.py PORT LOG: each recorded request is a JSON line of LOG."""
import http.server
import json
import socketserver
import sys
import threading

PORT, LOG = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, code, body, headers=()):
        data = body.encode()
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode(errors="replace") if n else ""
        with lock, open(LOG, "a") as f:
            f.write(json.dumps({"host": self.server.server_address[0], "path": self.path,
                                "headers": dict(self.headers), "body": body}) + "\n")

    def route(self):
        if self.path == "/login":
            self.send(200, json.dumps({"token": "abc\r\nX-Injected: yes", "name": 'x","admin":true,"y":"'}))
        elif self.path in ("/use", "/catch"):
            self.record()
            self.send(200, '{"ok":true}')
        elif self.path == "/redir":
            self.send(307, "{}", [("Location", "http://127.0.0.2:%d/catch" % PORT)])
        elif self.path == "/ftp":
            self.send(302, "{}", [("Location", "ftp://127.0.0.1:%d/x" % PORT)])
        else:
            self.send(404, json.dumps({"error": "no endpoint " + self.path}))

    do_GET = do_POST = do_PUT = route


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


for host in ("127.0.0.1", "127.0.0.2"):
    threading.Thread(target=Server((host, PORT), Handler).serve_forever, daemon=True).start()
threading.Event().wait()

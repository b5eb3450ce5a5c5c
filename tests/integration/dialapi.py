#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A data-exchange API for the dial test tests, on 127.0.0.1:PORT.

POST /login {"user":"probe","password":PASSWORD}: {"code":0,"data":{"token":…}}
  (a new token each time), or 401 {"code":401}.
GET /items with "Authorization: Bearer TOKEN" (a token /login gave):
  {"code":0,"token":TOKEN,"items":[…]}, or 401.
GET /slow?ms=N: answers after N milliseconds.
Every request is logged to LOG as a JSON line (method, path, headers, body)
so the test can check what the dial tests sent.

usage: dialapi.py PORT PASSWORD LOG
"""
import http.server
import json
import secrets
import sys
import threading
import time
import urllib.parse

port, password, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
tokens = set()
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Request-Id", secrets.token_hex(4))
        self.end_headers()
        self.wfile.write(data)

    def log(self, body):
        with lock, open(log_path, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                "body": body}) + "\n")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        self.log(body)
        if self.path != "/login":
            return self.answer(404, {"code": 404})
        try:
            req = json.loads(body)
        except ValueError:
            return self.answer(400, {"code": 400})
        if req.get("user") != "probe" or req.get("password") != password:
            return self.answer(401, {"code": 401, "msg": "bad credentials"})
        token = secrets.token_hex(8)
        with lock:
            tokens.add(token)
        self.answer(200, {"code": 0, "data": {"token": token}})

    def do_GET(self):
        self.log(None)
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/slow":
            time.sleep(int(urllib.parse.parse_qs(url.query).get("ms", ["0"])[0]) / 1000)
            return self.answer(200, {"code": 0, "slow": True})
        if url.path == "/items":
            auth = self.headers.get("Authorization", "")
            with lock:
                ok = auth.startswith("Bearer ") and auth[7:] in tokens
            if not ok:
                return self.answer(401, {"code": 401})
            return self.answer(200, {"code": 0, "token": auth[7:],
                                     "items": [{"id": 1, "name": "营业执照"}, {"id": 2, "name": "许可证"}]})
        self.answer(404, {"code": 404})

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()

#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A notification receiver for the tests, on 127.0.0.1:PORT.

POST /hook: a generic webhook. Answers 500 while the file MODE holds
"fail", 200 otherwise; logs every request as a JSON line to LOG with the
answer given. POST /robot/send?access_token=..&timestamp=..&sign=..: a
DingTalk robot that checks the signature against SECRET (Base64 of
HMAC-SHA256 over "timestamp\\nsecret") and answers DingTalk's way.
POST /wecom?key=..: a WeCom robot that refuses markdown over 2048 bytes.
POST /feishu: a Feishu bot that checks the body's timestamp and sign
(HMAC-SHA256 keyed with "timestamp\\nsecret" over nothing).

usage: receiver.py PORT LOG MODE SECRET
"""
import base64
import hashlib
import hmac
import http.server
import json
import sys
import urllib.parse

port, log_path, mode_path, secret = sys.argv[1:5]


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        entry = {"path": url.path, "id": self.headers.get("X-Vigil-Notification"), "body": body}
        if url.path == "/hook":
            with open(mode_path) as f:
                ok = f.read().strip() != "fail"
            entry["code"] = 200 if ok else 500
            self.answer(entry["code"], {})
        elif url.path == "/wecom":
            content = body.get("markdown", {}).get("content", "")
            good = body.get("msgtype") == "markdown" and 0 < len(content.encode()) <= 2048
            entry["code"] = 0 if good else 40058
            self.answer(200, {"errcode": entry["code"], "errmsg": "ok" if good else "content exceed max length"})
        elif url.path == "/feishu":
            key = f"{body.get('timestamp', '')}\n{secret}".encode()
            want = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
            good = body.get("sign") == want and body.get("msg_type") == "text"
            entry["code"] = 0 if good else 19021
            self.answer(200, {"code": entry["code"], "msg": "success" if good else "sign match fail"})
        else:
            q = urllib.parse.parse_qs(url.query)
            ts = q.get("timestamp", [""])[0]
            want = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(),
                                             hashlib.sha256).digest()).decode()
            good = q.get("sign", [""])[0] == want
            entry["code"] = 0 if good else 310000
            self.answer(200, {"errcode": entry["code"], "errmsg": "ok" if good else "sign not match"})
        with open(log_path, "a") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()

#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""An SMTP server for the tests, on 127.0.0.1:PORT, a thread per session.

Offers STARTTLS (with CERT and KEY) and, only once the session is encrypted,
AUTH PLAIN and LOGIN for USER:PASSWORD; refuses MAIL before both. Each
message accepted is logged to LOG as a JSON line: sender, recipients, the
user, whether TLS was on, and the message.

usage: smtpd.py PORT LOG CERT KEY USER PASSWORD
"""
import base64
import json
import socket
import ssl
import sys
import threading

port, log_path, cert, key, user, password = sys.argv[1:7]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)


class Session:
    def __init__(self, conn):
        self.conn, self.tls, self.user, self.mail, self.rcpts = conn, False, None, None, []
        self.rfile = conn.makefile("rb")

    def say(self, line):
        self.conn.sendall(line.encode() + b"\r\n")

    def line(self):
        raw = self.rfile.readline(65536)
        if not raw:
            raise EOFError
        return raw.decode("utf-8", "replace").rstrip("\r\n")

    def ehlo(self):
        self.say("250-localhost")
        self.say("250-AUTH PLAIN LOGIN" if self.tls else "250-STARTTLS")
        self.say("250 8BITMIME")

    def starttls(self):
        self.say("220 go ahead")
        self.conn = ctx.wrap_socket(self.conn, server_side=True)
        self.rfile = self.conn.makefile("rb")
        self.tls = True

    def auth(self, args):
        if not self.tls:
            return self.say("538 encryption required")
        if args[0].upper() == "PLAIN":
            blob = args[1] if len(args) > 1 else (self.say("334 ") or self.line())
            _, u, p = base64.b64decode(blob).decode().split("\0")
        else:
            self.say("334 VXNlcm5hbWU6")
            u = base64.b64decode(self.line()).decode()
            self.say("334 UGFzc3dvcmQ6")
            p = base64.b64decode(self.line()).decode()
        if (u, p) != (user, password):
            return self.say("535 authentication failed")
        self.user = u
        self.say("235 ok")

    def data(self):
        self.say("354 end with .")
        lines = []
        while (l := self.line()) != ".":
            lines.append(l[1:] if l.startswith("..") else l)
        with log_lock, open(log_path, "a") as f:
            f.write(json.dumps({"from": self.mail, "rcpts": self.rcpts, "user": self.user, "tls": self.tls,
                                "message": "\r\n".join(lines)}) + "\n")
        self.mail, self.rcpts = None, []
        self.say("250 queued")

    def run(self):
        self.say("220 localhost ESMTP test")
        while True:
            words = self.line().split(" ")
            verb = words[0].upper()
            if verb in ("EHLO", "HELO"):
                self.ehlo()
            elif verb == "STARTTLS" and not self.tls:
                self.starttls()
            elif verb == "AUTH":
                self.auth(words[1:])
            elif verb == "MAIL":
                if not self.tls or not self.user:
                    self.say("530 must issue STARTTLS and AUTH first")
                else:
                    self.mail = words[1].split(":", 1)[1]
                    self.say("250 ok")
            elif verb == "RCPT" and self.mail:
                self.rcpts.append(words[1].split(":", 1)[1])
                self.say("250 ok")
            elif verb == "DATA" and self.rcpts:
                self.data()
            elif verb == "QUIT":
                self.say("221 bye")
                return
            elif verb in ("RSET", "NOOP"):
                self.say("250 ok")
            else:
                self.say("503 bad sequence")


log_lock = threading.Lock()


def serve(c):
    try:
        Session(c).run()
    except (EOFError, OSError, ValueError, IndexError):
        pass
    finally:
        c.close()


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(port)))
s.listen(8)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()

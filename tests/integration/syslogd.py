#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A syslog receiver for the tests, on 127.0.0.1:PORT: what a SIEM is to a forwarder.

Takes one connection at a time (TCP, or TLS with --cert/--key and, with
--client-ca, a client certificate asked for), reads octet-counted (RFC 6587
3.4.1) or LF-framed messages strictly (--framing), checks each RFC 5424
header, and appends each message as a JSON line to OUT: {"id": the
[vigil@...] id, "host", "app", "pri", "sd", "msg"}, flushed at once. A frame
it cannot read ends the run with a line {"error": ...}. With --udp it reads
datagrams, a message each. Prints "connected" and "closed" lines to stdout.

usage: syslogd.py PORT OUT [--framing octet-counted|lf] [--cert C --key K [--client-ca CA]] [--udp] [--raw]
                  [--relp [--refuse-once TEXT]]
"""
import argparse
import json
import re
import socket
import ssl
import sys

HEADER = re.compile(rb'<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\[.*?(?<!\\)\]|-)(?: (.*))?\Z', re.S)
ID = re.compile(rb'\[[^ \]]+ id="([^"]+)"')

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("out")
ap.add_argument("--framing", default="octet-counted")
ap.add_argument("--cert")
ap.add_argument("--key")
ap.add_argument("--client-ca")
ap.add_argument("--udp", action="store_true")
ap.add_argument("--raw", action="store_true", help="keep each message as it came, in \"raw\" (no RFC 5424)")
ap.add_argument("--relp", action="store_true", help="speak RELP: answer each syslog frame 200 OK")
ap.add_argument("--refuse-once", help="with --relp: the first message holding this text is answered 500")
args = ap.parse_args()
out = open(args.out, "a")


def record(msg):
    if args.raw:
        out.write(json.dumps({"raw": msg.decode("utf-8", "replace")}, ensure_ascii=False) + "\n")
        out.flush()
        return True
    m = HEADER.match(msg)
    if not m:
        entry = {"error": "not RFC 5424", "raw": msg.decode("utf-8", "replace")}
    else:
        sd = m.group(7)
        i = ID.search(sd)
        entry = {"id": i.group(1).decode() if i else None, "pri": int(m.group(1)), "ts": m.group(2).decode(),
                 "host": m.group(3).decode(), "app": m.group(4).decode(), "procid": m.group(5).decode(),
                 "msgid": m.group(6).decode(),
                 "sd": sd.decode("utf-8", "replace"), "msg": (m.group(8) or b"").decode("utf-8", "replace")}
    out.write(json.dumps(entry, ensure_ascii=False) + "\n")
    out.flush()
    return "error" not in entry


RELP_FRAME = re.compile(rb"(\d{1,9}) ([a-z]+) (\d{1,9})[ \n]")
refused = False


def relp(conn):
    """A RELP session: open answered, each syslog frame recorded and answered 200 (or, once a run, 500), close ended."""
    global refused
    buf = b""
    while True:
        m = RELP_FRAME.match(buf)
        if not m:
            if len(buf) > 40:
                raise ValueError(f"not a RELP frame: {buf[:80]!r}")
            data = conn.recv(65536)
            if not data:
                return
            buf += data
            continue
        txnr, cmd, n = m.group(1), m.group(2), int(m.group(3))
        start = m.end() if n else m.end() - 1
        while len(buf) < start + n + 1:
            data = conn.recv(65536)
            if not data:
                return
            buf += data
        if buf[start + n:start + n + 1] != b"\n":
            raise ValueError(f"a RELP frame without its trailer: {buf[:80]!r}")
        body, buf = buf[start:start + n], buf[start + n + 1:]
        answer = b"200 OK"
        if cmd == b"open":
            answer = b"200 OK\nrelp_version=0\nrelp_software=syslogd.py\ncommands=syslog"
        elif cmd == b"syslog":
            if args.refuse_once and args.refuse_once.encode() in body and not refused:
                refused, answer = True, b"500 refused for the test"
            elif not record(body):
                sys.exit(1)
        elif cmd == b"close":
            conn.sendall(txnr + b" rsp 0\n")
            return
        conn.sendall(txnr + b" rsp " + str(len(answer)).encode() + b" " + answer + b"\n")


def frames(conn):
    """Each message of the connection until it ends; raises ValueError on a bad frame."""
    buf = b""
    while True:
        data = conn.recv(65536)
        if not data:
            if buf:
                raise ValueError(f"the connection ended inside a frame: {buf[:80]!r}")
            return
        buf += data
        while buf:
            if args.framing == "lf":
                end = buf.find(b"\n")
                if end < 0:
                    break
                yield buf[:end]
                buf = buf[end + 1:]
                continue
            sp = buf.find(b" ")
            if sp < 0:
                if len(buf) > 10:
                    raise ValueError(f"no length: {buf[:80]!r}")
                break
            if not buf[:sp].isdigit() or buf[:1] == b"0":
                raise ValueError(f"bad length: {buf[:80]!r}")
            n = int(buf[:sp])
            if len(buf) < sp + 1 + n:
                break
            yield buf[sp + 1:sp + 1 + n]
            buf = buf[sp + 1 + n:]


if args.udp:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", args.port))
    print("listening", flush=True)
    while True:
        record(s.recv(65536))

ctx = None
if args.cert:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(args.client_ca)
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", args.port))
ls.listen(4)
print("listening", flush=True)
while True:
    conn, _ = ls.accept()
    try:
        if ctx:
            conn = ctx.wrap_socket(conn, server_side=True)
        print("connected", flush=True)
        if args.relp:
            relp(conn)
        for msg in [] if args.relp else frames(conn):
            if not record(msg):
                sys.exit(1)
    except ValueError as e:
        out.write(json.dumps({"error": str(e)}) + "\n")
        out.flush()
        sys.exit(1)
    except (ssl.SSLError, OSError) as e:
        print(f"connection error: {e}", flush=True)
    conn.close()
    print("closed", flush=True)

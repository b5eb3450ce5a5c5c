#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Sends syslog messages to 127.0.0.1:PORT as a device would: what logger cannot (a hostname of its own, TLS,
octet counting and LF framing mixed on one connection, garbage, oversize lines).

usage: syslogsend.py udp|tcp|tls PORT [--ca CA] [--cert C --key K] [--framing octet|lf] [--raw] MESSAGE...
Each MESSAGE is sent as given; with --count N each is sent N times with " #i" appended.
"""
import argparse
import socket
import ssl
import sys

ap = argparse.ArgumentParser()
ap.add_argument("transport", choices=["udp", "tcp", "tls"])
ap.add_argument("port", type=int)
ap.add_argument("messages", nargs="+")
ap.add_argument("--ca")
ap.add_argument("--cert")
ap.add_argument("--key")
ap.add_argument("--framing", default="octet", choices=["octet", "lf"])
ap.add_argument("--count", type=int, default=1)
args = ap.parse_args()


def frames():
    for m in args.messages:
        for i in range(args.count):
            text = (m if args.count == 1 else "%s #%d" % (m, i)).encode()
            yield text


if args.transport == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for f in frames():
        s.sendto(f, ("127.0.0.1", args.port))
    sys.exit(0)
s = socket.create_connection(("127.0.0.1", args.port), timeout=10)
if args.transport == "tls":
    ctx = ssl.create_default_context(cafile=args.ca)
    if args.cert:
        ctx.load_cert_chain(args.cert, args.key)
    s = ctx.wrap_socket(s, server_hostname="localhost")
out = bytearray()
for f in frames():
    out += (b"%d " % len(f) + f) if args.framing == "octet" else f + b"\n"
s.sendall(bytes(out))
if args.transport == "tls":
    s.unwrap()
s.close()

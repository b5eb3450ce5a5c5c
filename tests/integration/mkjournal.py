#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""mkjournal.py START COUNT [--expect FILE]: journal export format on stdout,
for systemd-journal-remote --output=X.journal -. Entries cycle through
priorities 0..7, units a.service/b.service and identifiers; every tenth
MESSAGE holds a newline (a binary field). --expect appends one line per
entry: its MESSAGE with newlines as '\\n'."""
import struct
import sys

start, count = int(sys.argv[1]), int(sys.argv[2])
expect = open(sys.argv[4], "a") if len(sys.argv) > 4 and sys.argv[3] == "--expect" else None
out = sys.stdout.buffer
boot = "0123456789abcdef0123456789abcdef"
for n in range(start, start + count):
    msg = f"jline {n} unit {'ab'[n % 2]} prio {n % 8}"
    if n % 10 == 0:
        msg += "\nsecond line"
    fields = [
        ("__REALTIME_TIMESTAMP", str(1795248000000000 + n)),
        ("__MONOTONIC_TIMESTAMP", str(1000 + n)),
        ("_BOOT_ID", boot),
        ("_HOSTNAME", "jhost"),
        ("PRIORITY", str(n % 8)),
        ("_SYSTEMD_UNIT", f"{'ab'[n % 2]}.service"),
        ("SYSLOG_IDENTIFIER", f"ident{n % 3}"),
        ("MESSAGE", msg),
    ]
    for k, v in fields:
        b = v.encode()
        if b"\n" in b:
            out.write(k.encode() + b"\n" + struct.pack("<Q", len(b)) + b + b"\n")
        else:
            out.write(k.encode() + b"=" + b + b"\n")
    out.write(b"\n")
    if expect:
        expect.write(msg.replace("\n", "\\n") + "\n")

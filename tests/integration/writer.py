#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes numbered ~200-byte log lines to a file, rotating it on the way.

  writer.py PATH TOTAL [--rotate-every N] [--mode rename|copytruncate|copy-over|both]
            [--rate LINES_PER_S] [--expect FILE]

Rotation is done the way logrotate does it: rename-and-create moves PATH to
PATH.K and starts a new file; copytruncate copies PATH to PATH.K and
truncates PATH in place; copy-over copies PATH onto PATH.1 (its contents
replaced, the same file each time) and truncates PATH, as by hand. Every
line written goes to --expect as well."""
import argparse
import os
import random
import shutil
import time

PAD = "x" * 150


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("total", type=int)
    ap.add_argument("--rotate-every", type=int, default=0)
    ap.add_argument("--mode", default="both")
    ap.add_argument("--rate", type=int, default=0)
    ap.add_argument("--expect")
    ap.add_argument("--start", type=int, default=1)
    ap.add_argument("--random", action="store_true", help="make lines compress like real logs, not 40x")
    a = ap.parse_args()
    exp = open(a.expect, "a") if a.expect else None
    f = open(a.path, "a")
    rotations = 0
    t0 = time.monotonic()
    for n in range(a.start, a.start + a.total):
        pad = PAD if not a.random else "%032x %s" % (random.getrandbits(128), PAD[:110])
        line = f"line {n} 2026-11-21T08:00:00Z INFO app[42]: request served {pad}\n"
        f.write(line)
        if exp:
            exp.write(line)
        if a.rate and n % 100 == 0:
            f.flush()
            ahead = (n - a.start) / a.rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
        if a.rotate_every and (n - a.start + 1) % a.rotate_every == 0 and n != a.start + a.total - 1:
            f.flush()
            rotations += 1
            mode = a.mode if a.mode != "both" else ("rename" if rotations % 2 else "copytruncate")
            dst = f"{a.path}.{rotations}"
            if mode == "rename":
                f.close()
                os.rename(a.path, dst)
                f = open(a.path, "a")
            else:
                # copy-over: by hand, "cp PATH PATH.1 && : > PATH", onto the same file each time
                shutil.copyfile(a.path, f"{a.path}.1" if mode == "copy-over" else dst)
                f.truncate(0)
                f.seek(0)
    f.close()
    if exp:
        exp.close()


main()

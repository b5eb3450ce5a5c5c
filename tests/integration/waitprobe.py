#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs a command, then polls GET /api/v1/probes until the probe has the
wanted status; prints the milliseconds from just before the command to the
first answer that shows it. Exits 1 if it does not show within the limit
(asks once with a limit of 0).

usage: waitprobe.py URL TOKEN HOST PROBE STATUS LIMIT_S -- COMMAND...
"""
import json
import subprocess
import sys
import time
import urllib.request

last_answer = None


def status(url, token, host, name):
    req = urllib.request.Request(f"{url}/api/v1/probes?host={host}",
                                 headers={"Authorization": f"Bearer {token}"})
    global last_answer
    with urllib.request.urlopen(req, timeout=5) as r:
        last_answer = json.load(r)
        for item in last_answer["items"]:
            if item["name"] == name:
                return item["status"], item["message"]
    return None, None


def main():
    url, token, host, name, want, limit = sys.argv[1:7]
    cmd = sys.argv[8:]
    t0 = time.monotonic()
    subprocess.run(cmd, check=True)
    while True:
        seen = status(url, token, host, name)
        if seen[0] == want:
            print(f"{(time.monotonic() - t0) * 1000:.0f} ms: {seen[1]}")
            return 0
        if time.monotonic() - t0 >= float(limit):
            break
        time.sleep(0.01)
    print(f"{name} still {seen} after {limit} s, wanted {want}", file=sys.stderr)
    print(last_answer, file=sys.stderr)
    return 1


sys.exit(main())

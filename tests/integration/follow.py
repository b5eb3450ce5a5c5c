#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Follows GET /api/v1/logs by its cursor, as the security center's puller
does, through collectors that come and go: it asks the first of the
URL=TOKEN pairs that answers, carrying the one cursor from any to the next
(the store is shared), and writes each item's message to OUT as it comes.
Stops after WANT items or SECONDS; exits 1 if it got fewer.

  follow.py OUT WANT SECONDS URL=TOKEN [URL=TOKEN ...] [-- key=value ...]
"""
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def main():
    out, want, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    rest = sys.argv[4:]
    params = {}
    if "--" in rest:
        params = dict(a.split("=", 1) for a in rest[rest.index("--") + 1:])
        rest = rest[:rest.index("--")]
    peers = [tuple(p.split("=", 1)) for p in rest]
    cursor, got, switches, k = None, 0, 0, 0
    deadline = time.monotonic() + seconds
    with open(out, "w", encoding="utf-8") as f:
        while got < want and time.monotonic() < deadline:
            url, token = peers[k % len(peers)]
            q = dict(params, limit="2000")
            if cursor:
                q["cursor"] = cursor
            req = urllib.request.Request(url + "/api/v1/logs?" + urllib.parse.urlencode(q),
                                         headers={"Authorization": "Bearer " + token})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    body = json.load(r)
            except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
                if isinstance(e, urllib.error.HTTPError) and e.code not in (502, 503):
                    raise
                k += 1
                switches += 1
                time.sleep(0.2)
                continue
            for item in body["items"]:
                f.write(item["message"] + "\n")
            got += len(body["items"])
            f.flush()
            if not body["items"]:
                time.sleep(0.2)
            cursor = body["next_cursor"]
    print(f"followed {got} items, switched collector {switches} times, last cursor {cursor}")
    sys.exit(0 if got >= want else 1)


main()

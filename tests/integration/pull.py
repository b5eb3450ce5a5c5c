#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Pulls every log through GET /api/v1/logs, following next_cursor, and
either prints the messages, counts them, or checks them against the lines
of expected files: every line exactly once, nothing else. With --escape-nl
a message's newlines compare as the two characters \\n."""
import collections
import json
import sys
import urllib.parse
import urllib.request


def pull(url, token, params, limit):
    cursor = None
    for _ in range(1000000):
        q = dict(params, limit=str(limit))
        if cursor:
            q["cursor"] = cursor
        req = urllib.request.Request(url + "/api/v1/logs?" + urllib.parse.urlencode(q),
                                     headers={"Authorization": "Bearer " + token})
        with urllib.request.urlopen(req, timeout=60) as r:
            body = json.load(r)
        assert "next_cursor" in body, "next_cursor missing"
        for item in body["items"]:
            yield item
        if not body["items"] and body["next_cursor"] == cursor:
            return
        cursor = body["next_cursor"]


def main():
    url, token, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    mode, params, limit, expect, escape = "print", {}, 5000, [], False
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--count":
            mode = "count"
        elif a == "--expect":
            mode = "expect"
            expect.append(args[i + 1])
            i += 1
        elif a == "--limit":
            limit = int(args[i + 1])
            i += 1
        elif a == "--ids":
            mode = "ids"
        elif a == "--escape-nl":
            escape = True
        else:
            k, v = a.split("=", 1)
            params[k] = v
        i += 1
    items = list(pull(url, token, params, limit))
    if mode == "count":
        print(len(items))
    elif mode == "ids":
        for it in items:
            print(it["id"], it["message"])
    elif mode == "print":
        for it in items:
            print(it["message"])
    else:
        want = collections.Counter()
        for path in expect:
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                want.update(line.rstrip("\n") for line in f)
        got = collections.Counter(it["message"].replace("\n", "\\n") if escape else it["message"]
                                  for it in items)
        missing = want - got
        extra = got - want
        dups = sum(n - 1 for n in got.values() if n > 1)
        print(f"expected {sum(want.values())} stored {len(items)} missing {sum(missing.values())} "
              f"unexpected {sum(extra.values())} duplicates {dups}")
        for m in list(missing)[:5]:
            print("  missing:", m)
        for m in list(extra)[:5]:
            print("  unexpected:", m)
        sys.exit(0 if not missing and not extra else 1)


main()

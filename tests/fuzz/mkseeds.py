#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes seed inputs for fuzz-batch into corpus/batch (a control byte, then
a decompressed payload: the harness frames and compresses it), for
fuzz-defs into corpus/defs, for fuzz-query into corpus/query and for
fuzz-parse into corpus/parse (a byte picking the parser, then the line). The seeds
named regress-* reproduce defects the fuzzer found; they stay."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
LOCAL, CUT = 1, 2


def entry(*fields):
    out = b""
    for k, v in fields:
        v = v.encode() if isinstance(v, str) else v
        if b"\n" in v:
            out += k.encode() + b"\n" + len(v).to_bytes(8, "little") + v + b"\n"
        else:
            out += k.encode() + b"=" + v + b"\n"
    return out + b"\n"


TS = ("__REALTIME_TIMESTAMP", "1795248000000000")
OWN = [TS, ("_HOSTNAME", "web-1")]
SEEDS = {
    "log": (0, entry(TS, ("_HOSTNAME", "web-1"), ("VIGIL_SOURCE", "app"), ("VIGIL_PATH", "/var/log/app.log"),
                     ("PRIORITY", "3"), ("MESSAGE", "ERROR db down"))
           + entry(TS, ("_SYSTEMD_UNIT", "nginx.service"), ("MESSAGE", "a\nb"))),
    "probe": (0, entry(*OWN, ("VIGIL_KIND", "probe"), ("PROBE_NAME", "sshd"), ("PROBE_TYPE", "tcp"),
                       ("PROBE_STATUS", "ok"), ("PROBE_LATENCY_US", "1200"), ("MESSAGE", "connected"))),
    "metric": (0, entry(*OWN, ("VIGIL_KIND", "metric"), ("METRIC_SET", "filesystem"), ("METRIC_MOUNT", "/"),
                        ("METRIC_USED_PCT", "71.5"), ("METRIC_FREE_BYTES", "1000000"))),
    "inventory": (0, entry(*OWN, ("VIGIL_KIND", "inventory"), ("HOST_OS", "Debian 12"), ("HOST_CPUS", "4"),
                           ("HOST_ADDRESSES", "10.0.0.1 fe80::1"), ("HOST_LABELS", "dept=data zone=a"))),
    "dialtest-local": (LOCAL, entry(*OWN, ("VIGIL_KIND", "probe"), ("PROBE_NAME", "dialtest:api"),
                                    ("PROBE_TYPE", "dialtest"), ("PROBE_STATUS", "ok"), ("DIALTEST_ID", "7"),
                                    ("DIALTEST_OUTCOME", "ok"), ("DIALTEST_RESULT", '{"outcome":"ok"}'))
                       + entry(*OWN, ("VIGIL_KIND", "metric"), ("METRIC_SET", "dialtest"),
                               ("METRIC_TEST", "api"), ("METRIC_TOTAL_MS", "12"))),
    "cut": (CUT, entry(TS, ("MESSAGE", "x"))),
    # An agent's metric set "dialtest\0x" became rows named dialtest.*,
    # which only the collector's own dial tests may write.
    "regress-metric-set-nul": (0, entry(*OWN, ("VIGIL_KIND", "metric"), ("METRIC_SET", b"dialtest\0x"),
                                        ("METRIC_TEST", "api"), ("METRIC_TOTAL_MS", "1"))),
    "regress-metric-set-dot": (0, entry(*OWN, ("VIGIL_KIND", "metric"), ("METRIC_SET", "dialtest.x"),
                                        ("METRIC_OK", "1"))),
    # An inventory without HOST_LABELS leaked an empty JSON object.
    "regress-inventory-no-labels": (0, entry(*OWN, ("VIGIL_KIND", "inventory"), ("HOST_OS", "Debian 12"))),
}


# fuzz-defs: a byte picking the parser (0 rule, 1 target, 2 silence, 3 dial test, 4 log metric), then the body.
DEFS = {
    "rule-log": (0, '{"type":"log","pattern":"Out of memory|OOM-killer","count":3,"window":"1m",'
                    '"severity":"critical","labels":{"team":"db"},"notify":"hook","summary":"{{host}}: {{value}}"}'),
    "rule-metric": (0, '{"type":"metric","metric":"filesystem.used_pct","above":90,"for":"5m","host":"web-*"}'),
    "rule-dialtest": (0, '{"type":"dialtest","dialtest":"api-*","condition":"latency","above":2000}'),
    "rule-bad": (0, '{"type":"log","pattern":"(","colour":"red","for":"soon"}'),
    "target-webhook": (1, '{"type":"webhook","url":"https://hooks.example/x?token=t","format":"feishu"}'),
    "target-email": (1, '{"type":"email","smtp":"smtp://127.0.0.1:25","from":"v@example","to":"ops@example"}'),
    "silence": (2, '{"matchers":{"host":"web-1","rule":"disk"},"comment":"maintenance","duration":"2h"}'),
    "silence-recurring": (2, '{"matchers":{"team":"db"},"comment":"backups","starts":"2026-12-01T01:00:00+08:00",'
                             '"ends":"2026-12-01T03:00:00+08:00","every":"1d","until":"2027-01-01T00:00:00Z"}'),
    "dialtest": (3, '{"name":"license-api","interval":"1m","timeout":"5s","retries":1,"labels":{"dept":"data"},'
                    '"secrets":{"pw":{"file":"/etc/vigil/secrets/pw"},"e":{"env":"VIGIL_SECRET_E"}},'
                    '"steps":[{"name":"login","method":"POST","url":"https://api.example/login",'
                    '"body":"{\\"password\\":\\"{{json:pw}}\\"}","headers":{"Content-Type":"application/json"},'
                    '"extract":[{"name":"token","from":"json","path":"data.token"}],'
                    '"assert":[{"type":"status","in":[200]},{"type":"json","path":"code","op":"==","value":0}]},'
                    '{"name":"query","url":"https://api.example/q?t={{token}}&x={{xv}}","bearer":"{{token}}",'
                    '"assert":[{"type":"body","contains":"ok"},{"type":"cert","min_days":30}]}]}'),
    "logmetric": (4, '{"query":"source:nginx status:>=500 -route:/health","value":"request_time",'
                     '"labels":["route","status_class"],"step":"1m"}'),
    "logmetric-bad": (4, '{"query":"(a OR","labels":"a b c d e","value":"x y","step":"0.5s"}'),
    # glibc's regcomp() took 8 GB and minutes for these log rule patterns.
    "regress-regex-plus-storm": (0, '{"type":"log","pattern":"Out o' + "+" * 40 + 'f memory"}'),
    "regress-regex-large-bound": (0, '{"type":"log","pattern":"[FFFF(FF]url{1615,0019322}&xtime0FFz"}'),
    # {,n} is glibc's {0,n}: its count was not seen (fuzz-defs, out of memory).
    "regress-regex-empty-lower-bound": (0, '{"type":"log","pattern":"FFl{,16485}FzF"}'),
}


# fuzz-query: a query, a NUL, a message.
QUERIES = {
    "words": ("error timeout", "ERROR payment timeout after 30s"),
    "chinese": ("登录失败 -测试 张三", "登录失败 用户=张三 来自 10.0.0.7"),
    "fields": ('status:>=500 priority:err unit:"sshd" OR (host:web-1 -source:/var/log/x)', "x"),
    "regex": ("/time ?out/i OR path:/^\\/api\\//", "upstream timed out"),
    "phrase": ('"connection reset" NOT (a OR b) AND c', "connection reset by peer c"),
    "broken": ('(a OR "b', "a"),
    "path": ("/api/v2/records", "GET /api/v2/records 200"),
}

# fuzz-parse: json, logfmt, nginx, apache, regex, cri, docker (the harness's order).
PARSES = {
    "json": (0, '{"level":"error","msg":"登录失败","req":{"path":"/a","h":{"ua":"x"}},"tags":[1,"b"],"n":null}'),
    "logfmt": (1, 'level=warn msg="upstream \\"slow\\"" status=502 cached'),
    "nginx": (2, '203.0.113.7 - alice [29/Nov/2026:08:00:00 +0800] "GET /a?b=1 HTTP/1.1" 502 157 "-" "curl/7.88"'),
    "apache": (3, '10.1.1.1 - - [10/Oct/2026:13:55:36 -0700] "POST /x HTTP/2" 503 12 84021 ab-12'),
    "regex": (4, "08:00:01 [error] user=alice took 840ms"),
    "cri": (5, "2026-11-29T08:00:00.123456789Z stderr P part of a line"),
    "docker": (6, '{"log":"登录失败 用户=张三\\n","stream":"stderr","time":"2026-11-29T08:00:02.5Z"}'),
}


def write(corpus, name, data):
    out = os.path.join(HERE, "corpus", corpus)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def main():
    for name, (control, payload) in SEEDS.items():
        write("batch", name, bytes([control]) + payload)
    for name, (parser, body) in DEFS.items():
        write("defs", name, bytes([parser]) + body.encode())
    for name, (query, message) in QUERIES.items():
        write("query", name, query.encode() + b"\0" + message.encode())
    for name, (pick, line) in PARSES.items():
        write("parse", name, bytes([pick]) + line.encode())
    # A stored sketch (search/sketch.c): version, min, max, sum, zeros, buckets, then zigzag deltas and counts.
    sketch = bytes([1]) + struct.pack("<ddd", 1.0, 9.0, 20.0) + bytes([0, 2, 2, 1, 20, 2])
    write("parse", "sketch", bytes([7]) + sketch)
    # Found by fuzz-parse: a bucket delta of 63 bits overflowed the index (signed overflow).
    def varint(v):
        out = b""
        while v >= 0x80:
            out += bytes([v & 0x7f | 0x80])
            v >>= 7
        return out + bytes([v])
    huge = bytes([1]) + struct.pack("<ddd", 1.0, 9.0, 20.0) + bytes([0, 2]) + varint(111) + varint(1) \
        + varint(2**64 - 35) + varint(1)
    write("parse", "regress-sketch-delta", bytes([7]) + huge)


main()

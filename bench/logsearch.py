#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""What bench/logsearch.sh runs: the log center's search, side by side with
grep on the raw file and zstdcat | grep on the file compressed with zstd -1.

logsearch.py B WORK N: N lines of the kind bench/genlines.py writes (one in
a hundred a Chinese line, one rare token near the end), each a record with
the fields a parser would add (STATUS, DUR_MS), sent in batches of 8,192 (the
agent's default) to two collectors: one with the token index, one with
[ingest] index=no. Then each query is run on both, following the cursor
until complete, and the same question is asked of grep and zstdcat | grep.
Prints the times, the matches (which must agree), the ingest CPU and the
stored size of both, and the ratios.
"""
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alerts import Collector  # noqa: E402

BATCH = 8192
NEEDLE = "needle-7f3a9c"
BASE_US = 1795305600000000  # 2026-11-21T00:00:00Z
STATUS = re.compile(r'" (\d{3}) (\d+) (\d+)ms ')


def make_lines(build_top, work, n):
    """The lines, and the records' export text in batch files; returns the raw file and the batch files."""
    raw = f"{work}/lines.log"
    subprocess.run([sys.executable, f"{build_top}/bench/genlines.py", raw, str(n)], check=True)
    with open(raw) as f:
        lines = f.read().splitlines()
    for i in range(50, n, 100):
        lines[i] = (f"{lines[i][:24]} WARN gw-{i % 8 + 1} 登录失败 用户=张{i % 97} 来自 10.{i % 250}.3.{i % 200 + 1}"
                    f" 数据交换平台 统一身份认证 \"POST /api/v1/login HTTP/1.1\" 401 96 {i % 900 + 5}ms seq={i}")
    lines[int(n * 0.99)] = lines[int(n * 0.99)].replace("seq=", f"{NEEDLE} seq=")
    with open(raw, "w") as f:
        f.write("\n".join(lines) + "\n")
    batches = []
    for b in range(0, n, BATCH):
        path = f"{work}/batch{b // BATCH}.txt"
        with open(path, "w") as f:
            for i in range(b, min(n, b + BATCH)):
                m = STATUS.search(lines[i])
                fields = f"STATUS={m.group(1)}\nDUR_MS={m.group(3)}\n" if m else ""
                f.write(f"__REALTIME_TIMESTAMP={BASE_US + i * 1000}\n_HOSTNAME=gw-{i % 8 + 1}\n"
                        f"SYSLOG_IDENTIFIER=gateway\n{fields}MESSAGE={lines[i]}\n\n")
        batches.append((path, min(n, b + BATCH) - b))
    return raw, batches


def ingest(build, c, batches):
    """Sends every batch; the collector's CPU seconds for them."""
    cpu0 = c.cpu_seconds()
    for seq, (path, count) in enumerate(batches, 1):
        out = subprocess.run([f"{build}/nngsend", f"tcp://127.0.0.1:{c.ingest}", path, "--frame",
                              "aaaabbbbccccddddeeeeffff00001111", str(seq), str(count)],
                             capture_output=True, text=True, check=True).stdout
        if not out.startswith("stored"):
            raise SystemExit(f"batch {seq}: {out}")
    return c.cpu_seconds() - cpu0


def du(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def get(c, path, **params):
    url = f"http://127.0.0.1:{c.http}{path}?" + urllib.parse.urlencode(params)
    return json.load(urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": f"Bearer {c.token}"}),
                                            timeout=600))


def search(c, q, limit=10000):
    """Every match of q, following the cursor until complete: (seconds, matches, blocks read, blocks skipped)."""
    t0, n, cursor, read, skipped = time.monotonic(), 0, None, 0, 0
    while True:
        params = {"q": q, "since": BASE_US // 1000000, "limit": limit, "kind": "log"}
        if cursor:
            params["cursor"] = cursor
        d = get(c, "/api/v1/logs", **params)
        n += len(d["items"])
        read += d["scanned"]["blocks"]
        skipped += d["scanned"]["skipped"]
        cursor = d["next_cursor"]
        if d["complete"]:
            return time.monotonic() - t0, n, read, skipped


def pull_page(c, cursor):
    """One page of a pull as a puller takes it (NDJSON, read as it comes, lines counted): (records, cursor, complete)."""
    params = {"limit": 100000, "since": BASE_US // 1000000, "kind": "log", "format": "ndjson"}
    if cursor:
        params["cursor"] = cursor
    url = f"http://127.0.0.1:{c.http}/api/v1/logs?" + urllib.parse.urlencode(params)
    n = 0
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": f"Bearer {c.token}"}),
                                timeout=600) as r:
        while chunk := r.read(1 << 20):
            n += chunk.count(b"\n")
        return n, r.headers["Vigil-Next-Cursor"], r.headers["Vigil-Complete"] == "true"


def count_per_minute(c):
    t0, total, cursor = time.monotonic(), 0, None
    while True:
        params = {"since": BASE_US // 1000000, "until": BASE_US // 1000000 + 3600, "step": "1m", "kind": "log"}
        if cursor:
            params["cursor"] = cursor
        d = get(c, "/api/v1/logs/count", **params)
        total += d["total"]
        cursor = d["next_cursor"]
        if d["complete"]:
            return time.monotonic() - t0, total


def shell(cmd):
    t0 = time.monotonic()
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True).stdout.strip()
    return time.monotonic() - t0, int(out or 0)


def main():
    build, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    print(f"generating {n} lines in batches of {BATCH}...", file=sys.stderr)
    raw, batches = make_lines(top, work, n)
    subprocess.run(["zstd", "-q", "-1", "-T1", "-f", raw, "-o", raw + ".zst"], check=True)
    subprocess.run(["cat", raw], stdout=subprocess.DEVNULL, check=True)
    cs = {}
    for name, extra in (("index", ""), ("noindex", "[ingest]\nindex=no\n")):
        os.makedirs(f"{work}/{name}", exist_ok=True)
        # The extra text follows [http]; a second [ingest] section adds to the first.
        c = Collector(build, f"{work}/{name}", "max_limit=100000\n" + extra)
        c.start()
        cpu = ingest(build, c, batches)
        m = c.metrics()
        cs[name] = (c, cpu, m.get("vigil_ingest_index_bytes_total", 0))
    for path, _ in batches:
        os.remove(path)
    for name in cs:
        cs[name][0].stop()
        cs[name] = (cs[name][0], cs[name][1], cs[name][2], du(f"{work}/{name}/data"))
        cs[name][0].start()
    grep = f"LC_ALL=C grep -c"
    queries = [
        ("a rare token (1 line)", NEEDLE, f"{grep} -w {NEEDLE} {raw}", f"zstdcat {raw}.zst | {grep} -w {NEEDLE}"),
        ("a Chinese word in 1 % of lines", "登录失败", f"{grep} 登录失败 {raw}", f"zstdcat {raw}.zst | {grep} 登录失败"),
        ("two words, one rare", f"{NEEDLE} GET", f"LC_ALL=C grep -w {NEEDLE} {raw} | {grep} -w GET",
         f"zstdcat {raw}.zst | LC_ALL=C grep -w {NEEDLE} | {grep} -w GET"),
        ("a regex", "/timeout|502 [0-9]+ 2[0-9]{3}ms/", f"grep -cE 'timeout|502 [0-9]+ 2[0-9]{{3}}ms' {raw}",
         f"zstdcat {raw}.zst | grep -cE 'timeout|502 [0-9]+ 2[0-9]{{3}}ms'"),
        ("a field compared: status:>=500", "status:>=500",
         f"awk 'match($0, /\" [0-9][0-9][0-9] /) && substr($0, RSTART + 2, 3) >= 500' {raw} | wc -l",
         f"zstdcat {raw}.zst | awk 'match($0, /\" [0-9][0-9][0-9] /) && substr($0, RSTART + 2, 3) >= 500' | wc -l"),
    ]
    print(f"{n} lines ({os.path.getsize(raw) / 1e6:.0f} MB raw), batches of {BATCH}; seconds (matches)")
    print(f"{'':34} {'vigil':>16} {'vigil, no index':>18} {'grep raw':>16} {'zstdcat|grep':>16}  vigil/grep")
    for label, q, g, z in queries:
        cpu0 = cs["index"][0].cpu_seconds()
        ti, ni, read, skipped = search(cs["index"][0], q)
        gbs = os.path.getsize(raw) / max(cs["index"][0].cpu_seconds() - cpu0, 0.001) / 1e9
        tn, nn, _, _ = search(cs["noindex"][0], q)
        tg, ng = shell(g)
        tz, nz = shell(z)
        print(f"  {label:32} {ti:8.3f} ({ni:>6}) {tn:9.3f} ({nn:>6}) {tg:8.3f} ({ng:>6}) {tz:8.3f} ({nz:>6})  {ti / tg:6.2f}"
              f"   blocks read {read}, skipped {skipped}; {gbs:.2f} GB of raw text a CPU-second")
    t0 = os.times()
    subprocess.run(["zstd", "-q", "-d", "-c", raw + ".zst"], stdout=subprocess.DEVNULL, check=True)
    t1 = os.times()
    zcpu = t1.children_user - t0.children_user + t1.children_system - t0.children_system
    print(f"  {'zstd -d of the raw file alone':32} {os.path.getsize(raw) / zcpu / 1e9:.2f} GB of raw text a CPU-second"
          " (the floor of a scan that reads every block)")
    tc, nc = count_per_minute(cs["index"][0])
    tg, _ = shell(f"cut -c1-16 {raw} | uniq -c | wc -l")
    print(f"  {'counts per minute, whole range':32} {tc:8.3f} ({nc:>6}) {'':18} {tg:8.3f} (cut|uniq -c)")
    c = cs["index"][0]
    cpu0, t0, total, cursor = c.cpu_seconds(), time.monotonic(), 0, None
    while True:
        got, cursor, complete = pull_page(c, cursor)
        total += got
        if complete and not got:
            break
    tp, cpu = time.monotonic() - t0, c.cpu_seconds() - cpu0
    tcat, _ = shell(f"cat {raw} | wc -l")
    print(f"  {'a full pull by cursor (NDJSON)':32} {tp:8.3f} ({total}) = {total / tp:,.0f} records/s, collector CPU"
          f" {cpu * 1e6 / total:.2f} µs a record   (cat | wc -l {tcat:.3f} s)")
    ci, cn = cs["index"], cs["noindex"]
    print(f"ingest CPU (collector), s per 1M lines: index {ci[1] * 1e6 / n:.2f}, no index {cn[1] * 1e6 / n:.2f}"
          f" ({(ci[1] / cn[1] - 1) * 100:+.0f} %)")
    print(f"stored bytes: index {ci[3]:,} (filters {int(ci[2]):,}), no index {cn[3]:,} ({(ci[3] / cn[3] - 1) * 100:+.1f} %);"
          f" zstd -1 of the raw file {os.path.getsize(raw + '.zst'):,}")
    for name in cs:
        cs[name][0].stop()


main()

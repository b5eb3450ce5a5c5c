#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""What bench/console.sh runs: the alert console and API with N open problems,
side by side with Debian's Prometheus Alertmanager holding the same N alerts.

console.py B WORK N MODULES: N probe states of 1000 hosts fail, so the
collector opens N alerts; GET /api/v1/alerts (the newest 1000 and the total)
is timed, then the page in Chromium (bench/console.mjs: login to 1000 rows
drawn, its JS heap, a bulk ack of 50); an agent ships LINES log lines and
the log page is timed to 1000 lines on screen. Alertmanager gets the same N alerts
through POST /api/v2/alerts; GET /api/v2/alerts (all of them: it has no
limit) and one host's are timed the same way (Debian's package ships no web
UI, so the pages have no peer here). Prints each figure for both, and their
ratio.
"""
import gzip
import json
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alerts import Collector, fill_probe_states, free_port, quantile  # noqa: E402

RUNS = 20
LINES = 20000


def timed_get(url, headers):
    times, size = [], 0
    for _ in range(RUNS):
        t0 = time.monotonic()
        body = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60).read()
        times.append(time.monotonic() - t0)
        size = len(body)
    return quantile(times, 0.5) * 1000, size, body


def vigil(build, work, n):
    hosts, probes = 1000, max(1, n // 1000)
    # The extra text follows the [http] section's listen=.
    c = Collector(build, work, f"console_dir={build}/console/dist\n[alerts]\ninterval=1s\n[hosts]\nsilent_after=1h\n"
                               "[rule \"down\"]\ntype=probe\nseverity=critical\nsummary={{probe}} down on {{host}}: {{value}}\n")
    subprocess.run([f"{build}/vigil-collector", "--config", c.conf, "--create-user", "bench", "--role", "operator"],
                   input="Bench-console-2026\n", text=True, check=True, capture_output=True)
    c.start()
    c.stop()
    fill_probe_states(work, hosts, probes, lambda h, p: "critical",
                      lambda h, p: f"connect to 10.0.{h // 250}.{h % 250}:{8000 + p}: Connection refused")
    c.start()
    auth = {"Authorization": f"Bearer {c.token}"}
    base = f"http://127.0.0.1:{c.http}"
    for _ in range(600):
        total = json.loads(urllib.request.urlopen(urllib.request.Request(base + "/api/v1/alerts", headers=auth)).read())["total"]
        if total >= hosts * probes:
            break
        time.sleep(0.1)
    ms, size, body = timed_get(base + "/api/v1/alerts", auth)
    items = len(json.loads(body)["items"])
    one_ms, _, _ = timed_get(base + "/api/v1/alerts?host=host-7", auth)
    ship_lines(build, work, c, base, auth)
    return c, base, {"total": total, "list_ms": ms, "list_bytes": size, "list_items": items, "host_ms": one_ms}


def ship_lines(build, work, c, base, auth):
    """LINES lines of ~200 bytes, shipped by a real agent tailing a file, for the log page's figures."""
    os.makedirs(f"{work}/logs", exist_ok=True)
    with open(f"{work}/logs/app.log", "w") as f:
        for i in range(LINES):
            f.write(f"2026-12-02T08:00:00+08:00 api-{i % 7} GET /exchange/v2/records/{i} status={200 if i % 50 else 502}"
                    f" dur_ms={i % 997} user=u{i % 113} 数据交换 request handled by worker {i % 16} {'x' * 60}\n")
    with open(f"{work}/agent.conf", "w") as f:
        f.write(f"[agent]\nstate_dir={work}/state\nid={'ab' * 16}\nhostname=bench-logs\ninventory=no\nheartbeat=0\n"
                f"[collector]\naddress=tcp://127.0.0.1:{c.ingest}\n[metrics]\nenabled=no\n"
                f"[tail \"app\"]\npath={work}/logs/*.log\n")
    agent = subprocess.Popen([f"{build}/vigil-agent", "--config", f"{work}/agent.conf"],
                             stderr=open(f"{work}/agent.log", "w"))
    try:
        for _ in range(600):
            r = json.loads(urllib.request.urlopen(urllib.request.Request(
                base + "/api/v1/logs/count?since=1h&step=1h&kind=log", headers=auth)).read())
            if r["total"] >= LINES:
                break
            time.sleep(0.1)
        else:
            raise SystemExit(f"the agent shipped {r['total']} of {LINES} lines")
    finally:
        agent.terminate()
        agent.wait(30)


def alertmanager(work, n):
    port = free_port()
    os.makedirs(f"{work}/am", exist_ok=True)
    with open(f"{work}/am.yml", "w") as f:
        f.write("route:\n  receiver: none\n  group_by: [alertname, host]\nreceivers:\n  - name: none\n")
    proc = subprocess.Popen(["prometheus-alertmanager", f"--config.file={work}/am.yml", f"--storage.path={work}/am",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stderr=open(f"{work}/am.log", "w"))
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/-/ready", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    alerts = [{"labels": {"alertname": "down", "host": f"host-{i // (n // 1000 or 1)}", "probe": f"svc-{i % (n // 1000 or 1)}",
                          "severity": "critical"},
               "annotations": {"summary": f"svc-{i % 10} down on host-{i // 10}: connect: Connection refused"},
               "startsAt": start, "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))}
              for i in range(n)]
    for i in range(0, n, 1000):
        urllib.request.urlopen(urllib.request.Request(base + "/api/v2/alerts", json.dumps(alerts[i:i + 1000]).encode(),
                                                      {"Content-Type": "application/json"}), timeout=60)
    ms, size, body = timed_get(base + "/api/v2/alerts", {})
    one_ms, _, _ = timed_get(base + "/api/v2/alerts?filter=host%3D%22host-7%22", {})
    return proc, base, {"total": len(json.loads(body)), "list_ms": ms, "list_bytes": size,
                        "list_items": len(json.loads(body)), "host_ms": one_ms}


def console_size(dist):
    """The console's files: their bytes, and gzip -9's (what a proxy compressing them would send)."""
    raw = gz = 0
    for root, _, files in os.walk(dist):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                data = f.read()
            raw += len(data)
            gz += len(gzip.compress(data, 9))
    return raw, gz


def main():
    build, work, n, modules = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    os.makedirs(f"{work}/vigil", exist_ok=True)
    c, vbase, v = vigil(build, f"{work}/vigil", n)
    am, _, a = alertmanager(work, n)
    try:
        out = subprocess.run(["node", os.path.join(os.path.dirname(os.path.abspath(__file__)), "console.mjs")],
                             env={**os.environ, "MODULES": modules, "VIGIL": vbase},
                             capture_output=True, text=True, timeout=600)
        sys.stderr.write(out.stderr)
        ui = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        c.stop()
        am.terminate()
        am.wait(30)
    print(f"{n} open problems (alerts)                         vigil        alertmanager 0.25   ratio")
    print(f"  held                                       {v['total']:>10}   {a['total']:>14}")
    print(f"  GET list: items answered                   {v['list_items']:>10}   {a['list_items']:>14}   (vigil: the newest 1000 and the total)")
    print(f"  GET list: bytes                            {v['list_bytes']:>10}   {a['list_bytes']:>14}   {v['list_bytes'] / a['list_bytes']:.2f}")
    print(f"  GET list: median of {RUNS}, ms                 {v['list_ms']:>10.1f}   {a['list_ms']:>14.1f}   {v['list_ms'] / a['list_ms']:.2f}")
    print(f"  GET one host's, median of {RUNS}, ms           {v['host_ms']:>10.1f}   {a['host_ms']:>14.1f}   {v['host_ms'] / a['host_ms']:.2f}")
    print(f"  page: open to 1000 rows drawn, ms          {ui['vigil']['load_ms']:>10.1f}   {'(no UI in Debian)':>17}")
    print(f"  page: JS heap after, MB                    {ui['vigil']['heap_mb']:>10.1f}")
    print(f"  page: a text filter redrawn, ms            {ui['vigil']['text_filter_ms']:>10.1f}")
    print(f"  page: a host filter (asked of the API), ms {ui['vigil']['host_filter_ms']:>10.1f}")
    print(f"  page: the 1001 hosts drawn, ms             {ui['vigil']['hosts_ms']:>10.1f}")
    raw, gz = console_size(os.path.join(build, "console", "dist"))
    print(f"  console JS+CSS+HTML: bytes, gzip -9        {raw:>10} {gz:>8}")
    print(f"  page: bulk ack of 50 selected, ms          {ui['vigil']['bulk_ms']:>10.1f}   {'(no ack)':>14}")
    print(f"{LINES} log lines stored (one agent)")
    print(f"  logs page: open to its first 200 lines, ms {ui['vigil']['logs_first_ms']:>10.1f}")
    print(f"  logs page: scrolled on to 1000 lines, ms   {ui['vigil']['logs_1000_ms']:>10.1f}")
    print(f"  logs page: JS heap with 1000 lines, MB     {ui['vigil']['logs_heap_mb']:>10.1f}")
    print(f"  logs page: a keyword search redrawn, ms    {ui['vigil']['logs_search_ms']:>10.1f}")


main()

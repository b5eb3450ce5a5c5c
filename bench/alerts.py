#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""What bench/alerts.sh runs: the alert path's two figures.

latency B WORK N: a collector with a webhook target; N times, a batch with a
  failing probe result is sent (nngsend, as an agent would) and the time to
  the webhook's arrival is taken; prints the median, p90, p99 and max.
evaluator B WORK HOSTS PROBES FAILING: meta.db is filled with HOSTS x PROBES
  probe states (FAILING of them critical) and the collector evaluates a probe
  rule every second; prints the time of one evaluation (from
  vigil_alert_evaluation_seconds_total) and the collector's CPU per second.
"""
import http.server
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Collector:
    def __init__(self, build, work, extra):
        self.build, self.work = build, work
        self.ingest, self.http = free_port(), free_port()
        self.conf = os.path.join(work, "collector.conf")
        with open(self.conf, "w") as f:
            f.write(f"[ingest]\nlisten=tcp://127.0.0.1:{self.ingest}\n[storage]\ndata_dir={work}/data\n"
                    f"[http]\nlisten=127.0.0.1:{self.http}\n{extra}\n")
        self.token = subprocess.run([f"{build}/vigil-collector", "--config", self.conf, "--create-token",
                                     f"bench-{time.time_ns()}", "--role", "admin"], check=True,
                                    capture_output=True, text=True).stdout.strip()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([f"{self.build}/vigil-collector", "--config", self.conf],
                                     stderr=open(os.path.join(self.work, "collector.log"), "a"))
        for _ in range(100):
            try:
                self.metrics()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the collector did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)

    def metrics(self):
        req = urllib.request.Request(f"http://127.0.0.1:{self.http}/metrics",
                                     headers={"Authorization": f"Bearer {self.token}"})
        out = {}
        for line in urllib.request.urlopen(req, timeout=10).read().decode().splitlines():
            if line and not line.startswith("#"):
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
        return out

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fill_probe_states(work, hosts, probes, status, message):
    """meta.db (made by a collector started once) gets HOSTS hosts with PROBES probe states each, as agents
    would leave them; status(h, p) and message(h, p) say each one's."""
    now = time.time_ns() // 1000
    db = sqlite3.connect(os.path.join(work, "data", "meta.db"))
    db.executemany("INSERT INTO hosts(id, hostname, first_seen, last_seen) VALUES (?,?,?,?)",
                   ((f"{h:032x}", f"host-{h}", now, now + 3600 * 10**6) for h in range(hosts)))
    db.executemany("INSERT INTO probe_state(agent, name, host, type, status, latency_us, message, ts, streak)"
                   " VALUES (?,?,?,?,?,?,?,?,?)",
                   ((f"{h:032x}", f"svc-{p}", f"host-{h}", "tcp", status(h, p), 1000, message(h, p), now, 5)
                    for h in range(hosts) for p in range(probes)))
    db.commit()
    db.close()


def quantile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def latency(build, work, n):
    arrived, lock = {}, threading.Condition()

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            t = time.monotonic()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            if body.get("event") == "fired":
                with lock:
                    arrived[body["labels"]["probe"]] = t
                    lock.notify_all()

        def log_message(self, *args):
            pass

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    c = Collector(build, work, f"[notify \"hook\"]\ntype=webhook\nurl=http://127.0.0.1:{hook.server_port}/hook\n"
                               "[rule \"down\"]\ntype=probe\nprobe=p-*\nnotify=hook\n")
    c.start()
    took = []
    try:
        for i in range(n):
            time.sleep(0.3)  # failures are not back to back: each finds the evaluator idle
            now_us = time.time_ns() // 1000
            rec = (f"__REALTIME_TIMESTAMP={now_us}\n_HOSTNAME=bench-host\nVIGIL_KIND=probe\nPROBE_NAME=p-{i}\n"
                   f"PROBE_TYPE=tcp\nPROBE_STATUS=critical\nMESSAGE=connect: Connection refused\n\n")
            path = os.path.join(work, "batch")
            with open(path, "w") as f:
                f.write(rec)
            t0 = time.monotonic()
            out = subprocess.run([f"{build}/nngsend", f"tcp://127.0.0.1:{c.ingest}", path, "--frame",
                                  "00112233445566778899aabbccddeeff", str(i + 1), "1"],
                                 capture_output=True, text=True).stdout
            if not out.startswith("stored"):
                raise SystemExit(f"batch {i}: {out}")
            with lock:
                if not lock.wait_for(lambda: f"p-{i}" in arrived, 30):
                    raise SystemExit(f"no webhook for p-{i}")
                took.append((arrived[f"p-{i}"] - t0) * 1000)
    finally:
        c.stop()
        hook.shutdown()
    print(f"alert latency, failing probe result sent -> webhook received, {n} alerts, "
          f"0.3 s apart, [alerts] interval=10s: median {quantile(took, 0.5):.1f} ms, p90 {quantile(took, 0.9):.1f} ms, "
          f"p99 {quantile(took, 0.99):.1f} ms, max {max(took):.1f} ms")


def evaluator(build, work, hosts, probes, failing):
    c = Collector(build, work, "[alerts]\ninterval=1s\n[hosts]\nsilent_after=1h\n"
                               "[rule \"down\"]\ntype=probe\nconsecutive=2\n")
    c.start()
    c.stop()
    every = max(1, hosts * probes // max(failing, 1))
    fill_probe_states(work, hosts, probes,
                      lambda h, p: "critical" if failing and (h * probes + p) % every == 0 else "ok",
                      lambda h, p: "connect")
    c.start()
    time.sleep(3)  # the first evaluations open the alerts
    m0, cpu0, t0 = c.metrics(), c.cpu_seconds(), time.monotonic()
    time.sleep(20)
    m1, cpu1, t1 = c.metrics(), c.cpu_seconds(), time.monotonic()
    c.stop()
    n = m1["vigil_alert_evaluations_total"] - m0["vigil_alert_evaluations_total"]
    secs = m1["vigil_alert_evaluation_seconds_total"] - m0["vigil_alert_evaluation_seconds_total"]
    print(f"evaluator, {hosts} hosts x {probes} probes = {hosts * probes} probe states, {failing} failing "
          f"(open alerts): {n:.0f} evaluations, {secs / n * 1000:.1f} ms each, "
          f"collector CPU {(cpu1 - cpu0) / (t1 - t0) * 100:.1f}% of a core at one evaluation a second")


if __name__ == "__main__":
    mode, build, work = sys.argv[1:4]
    args = [int(a) for a in sys.argv[4:]]
    os.makedirs(work, exist_ok=True)
    latency(build, work, *args) if mode == "latency" else evaluator(build, tempfile.mkdtemp(dir=work), *args)

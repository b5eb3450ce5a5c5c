#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""What bench/syslog.sh runs: BUILD WORK N LOAD.

Sends N RFC 5424 messages (bench/syslogload.c, 8 device names) to the
collector's [syslog] over TCP (octet-counted), then over UDP, and to
rsyslog's imtcp and imudp writing a file, in one run; times from the first
message until every one is stored (vigil: counted by its hosts' records;
rsyslog: lines in its file; UDP: until the count stops growing) and takes
the receiver's CPU. Prints messages/s, CPU seconds per million, UDP's loss
and the ratios.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alerts import Collector, free_port  # noqa: E402

HOSTS = 8


def cpu_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_count(count, n, udp):
    """Until count() is n, or (UDP) stops growing for a second; the count and when it got there."""
    last, since, t_last = -1, time.monotonic(), time.monotonic()
    while True:
        c = count()
        now = time.monotonic()
        if c != last:
            last, t_last = c, now
        if c >= n or (udp and now - t_last > 1.0) or now - since > 600:
            return c, t_last
        time.sleep(0.02)


def vigil_records(c):
    m = c.metrics()
    return int(sum(v for k, v in m.items() if k == "vigil_ingest_records_total"))


def vigil(build, work, load, proto, n):
    port = free_port()
    os.makedirs(f"{work}/vigil-{proto}", exist_ok=True)
    c = Collector(build, f"{work}/vigil-{proto}", f"[syslog]\nlisten={proto}://127.0.0.1:{port}\nqueue=100000\n")
    c.start()
    base, cpu0 = vigil_records(c), cpu_of(c.proc.pid)
    t0 = time.monotonic()
    subprocess.run([load, proto, str(port), str(n), str(HOSTS)], check=True, capture_output=True)
    got, t1 = wait_count(lambda: vigil_records(c) - base - HOSTS, n, proto == "udp")
    cpu = cpu_of(c.proc.pid) - cpu0
    m = c.metrics()
    c.stop()
    return t1 - t0, cpu, got, int(m.get("vigil_syslog_udp_overflows_total", 0))


def rsyslog(work, load, proto, n):
    d, port = f"{work}/rs-{proto}", free_port()
    os.makedirs(d, exist_ok=True)
    out = f"{d}/out.log"
    with open(f"{d}/rsyslog.conf", "w") as f:
        f.write(f'global(workDirectory="{d}")\nmodule(load="im{proto}")\n'
                f'input(type="im{proto}" port="{port}" address="127.0.0.1" ruleset="out")\n'
                f'ruleset(name="out") {{ action(type="omfile" file="{out}" template="RSYSLOG_FileFormat") }}\n')
    p = subprocess.Popen(["rsyslogd", "-n", "-f", f"{d}/rsyslog.conf", "-i", f"{d}/pid"],
                         stderr=open(f"{d}/log", "w"))
    time.sleep(1)
    open(out, "a").close()
    cpu0 = cpu_of(p.pid)

    def lines():
        with open(out, "rb") as f:
            return f.read().count(b"\n")
    t0 = time.monotonic()
    subprocess.run([load, proto, str(port), str(n), str(HOSTS)], check=True, capture_output=True)
    got, t1 = wait_count(lines, n, proto == "udp")
    cpu = cpu_of(p.pid) - cpu0
    p.terminate()
    p.wait(30)
    return t1 - t0, cpu, got, 0


def main():
    build, work, n, load = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    rows = []
    for proto in ("tcp", "udp"):
        rows.append((f"vigil [syslog] {proto}://",) + vigil(build, work, load, proto, n))
        rows.append((f"rsyslog im{proto} -> omfile",) + rsyslog(work, load, proto, n))
    print(f"{n} RFC 5424 messages (~200 B, {HOSTS} devices) from a local sender, received and stored")
    print(f"{'':30} {'seconds':>8} {'messages/s':>12} {'CPU s / 1M':>11} {'stored':>10} {'lost':>8}")
    for label, t, cpu, got, _ in rows:
        print(f"  {label:28} {t:8.2f} {got / t:12,.0f} {cpu * 1e6 / max(got, 1):11.2f} {got:10,} {n - got:8,}")
    for i, proto in ((0, "tcp"), (2, "udp")):
        v, r = rows[i], rows[i + 1]
        print(f"{proto}: vigil / rsyslog {v[3] / v[1] / (r[3] / r[1]):.2f}x the rate, "
              f"{(v[2] / max(v[3], 1)) / (r[2] / max(r[3], 1)):.2f}x the CPU a message"
              + (f"; vigil's kernel drops counted: {v[4]:,}" if proto == "udp" else ""))
    print("(vigil stores durably: each batch fsynced before it counts; rsyslog's omfile buffers.)")


main()

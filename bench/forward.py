#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""What bench/forward.sh runs: BUILD WORK N.

Generates N lines (bench/genlines.py), stores them in a collector as an agent
would send them (nngsend, batches of 8,192), then starts the collector again
with a [forward] to a receiver on 127.0.0.1 that counts line-framed messages,
and times from the start until the receiver has N: over TCP, then over TLS.
Then rsyslog forwards the same file (imfile -> omfwd, RFC 5424 template) to
the same receiver. Prints messages/s and CPU seconds per million messages of
each sender, and vigil's against rsyslog's.
"""
import os
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alerts import Collector, free_port  # noqa: E402

BATCH = 8192


class Receiver:
    """Counts the line feeds (messages) that arrive, a thread a connection (a sender may hold several); TLS with cert and key."""

    def __init__(self, cert=None, key=None):
        self.port, self.counts = free_port(), []
        self.ctx = None
        if cert:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(cert, key)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(4)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            conn, _ = self.sock.accept()
            self.counts.append(0)
            threading.Thread(target=self.read, args=(conn, len(self.counts) - 1), daemon=True).start()

    def read(self, conn, k):
        if self.ctx:
            conn = self.ctx.wrap_socket(conn, server_side=True)
        while data := conn.recv(1 << 20):
            self.counts[k] += data.count(b"\n")

    @property
    def count(self):
        return sum(self.counts)

    def wait(self, n, limit=600):
        t0 = time.monotonic()
        while self.count < n and time.monotonic() - t0 < limit:
            time.sleep(0.01)
        return self.count >= n


def store(build, work, n):
    """A collector's store of the N lines (one line a record, as from a [tail]); the lines file."""
    raw = f"{work}/lines.log"
    subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "genlines.py"), raw, str(n)], check=True)
    with open(raw) as f:
        lines = f.read().splitlines()
    c = Collector(build, f"{work}/vigil", "")
    c.start()
    base = int(time.time() * 10**6) - n
    for b, at in enumerate(range(0, n, BATCH), 1):
        path = f"{work}/batch.txt"
        with open(path, "w") as f:
            for i in range(at, min(n, at + BATCH)):
                f.write(f"__REALTIME_TIMESTAMP={base + i}\n_HOSTNAME=gw-{i % 8 + 1}\nSYSLOG_IDENTIFIER=gateway\n"
                        f"VIGIL_SOURCE=gateway\nMESSAGE={lines[i]}\n\n")
        out = subprocess.run([f"{build}/nngsend", f"tcp://127.0.0.1:{c.ingest}", path, "--frame",
                              "aaaabbbbccccddddeeeeffff00001111", str(b), str(min(n, at + BATCH) - at)],
                             capture_output=True, text=True, check=True).stdout
        if not out.startswith("stored"):
            raise SystemExit(f"batch {b}: {out}")
    c.stop()
    return c, raw


def vigil(c, name, url, extra, n, receiver):
    """Forwards the whole store once; (seconds, collector CPU seconds)."""
    with open(c.conf) as f:
        conf = f.read().split("[forward")[0]
    with open(c.conf, "w") as f:
        f.write(conf + f'[forward "{name}"]\nurl={url}\nframing=lf\nbatch=10000\n{extra}\n')
    t0 = time.monotonic()
    c.start()
    cpu0 = c.cpu_seconds()
    if not receiver.wait(n):
        raise SystemExit(f"{name}: {receiver.count} of {n} arrived")
    t, cpu = time.monotonic() - t0, c.cpu_seconds() - cpu0
    c.stop()
    return t, cpu


def rsyslog(work, raw, n, receiver):
    os.makedirs(f"{work}/rs", exist_ok=True)
    with open(f"{work}/rs/rsyslog.conf", "w") as f:
        f.write(f'global(workDirectory="{work}/rs")\nmodule(load="imfile")\n'
                f'input(type="imfile" file="{raw}" tag="gateway" freshStartTail="off" ruleset="out")\n'
                f'ruleset(name="out") {{ action(type="omfwd" target="127.0.0.1" port="{receiver.port}" protocol="tcp"'
                f' template="RSYSLOG_SyslogProtocol23Format") }}\n')
    t0 = time.monotonic()
    p = subprocess.Popen(["rsyslogd", "-n", "-f", f"{work}/rs/rsyslog.conf", "-i", f"{work}/rs/pid"],
                         stderr=open(f"{work}/rs/log", "w"))
    ok = receiver.wait(n)
    t = time.monotonic() - t0
    with open(f"/proc/{p.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    p.terminate()
    p.wait(30)
    if not ok:
        raise SystemExit(f"rsyslog: {receiver.count} of {n} arrived")
    return t, cpu


def main():
    build, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.makedirs(f"{work}/vigil", exist_ok=True)
    print(f"storing {n} lines...", file=sys.stderr)
    c, raw = store(build, work, n)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", f"{work}/key.pem", "-out", f"{work}/cert.pem"], check=True, capture_output=True)
    subprocess.run(["cat", raw], stdout=subprocess.DEVNULL, check=True)
    rows = []
    r = Receiver()
    rows.append(("vigil [forward] tcp://",) + vigil(c, "tcp", f"tcp://127.0.0.1:{r.port}", "", n, r))
    r = Receiver(f"{work}/cert.pem", f"{work}/key.pem")
    rows.append(("vigil [forward] tls://",) + vigil(c, "tls", f"tls://127.0.0.1:{r.port}",
                                                     f"tls_ca={work}/cert.pem", n, r))
    r = Receiver()
    rows.append(("rsyslog imfile -> omfwd tcp",) + rsyslog(work, raw, n, r))
    print(f"{n} messages (RFC 5424, LF framing) to a receiver on 127.0.0.1")
    print(f"{'':30} {'seconds':>8} {'messages/s':>12} {'CPU s / 1M':>11}")
    for label, t, cpu in rows:
        print(f"  {label:28} {t:8.2f} {n / t:12,.0f} {cpu * 1e6 / n:11.2f}")
    rt, rc = rows[2][1], rows[2][2]
    print(f"vigil tcp / rsyslog: {rt / rows[0][1]:.2f}x the rate, {rows[0][2] / rc:.2f}x the CPU;"
          f" tls: {rt / rows[1][1]:.2f}x the rate, {rows[1][2] / rc:.2f}x the CPU")


main()

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The sd_notify protocol as a service manager sees it: the test owns
# NOTIFY_SOCKET and checks that each daemon sends READY=1 once it serves,
# STATUS= lines, WATCHDOG=1 pings within WATCHDOG_USEC, RELOADING=1 on
# SIGHUP (agent), and STOPPING=1 on SIGTERM, then exits 0.
. "$(dirname "$0")/lib.sh"

write_collector_conf
write_agent_conf
TOKEN=$(make_token admin)

check() { # program config
	"$PY" - "$B/$1" "$T/$2" "$T/$1.notify" "$1" <<'PYEOF' || fail "$1: sd_notify protocol"
import os, signal, socket, subprocess, sys, time
prog, conf, path, name = sys.argv[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(0.2)
env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="1000000")
env.pop("JOURNAL_STREAM", None)
p = subprocess.Popen([prog, "--config", conf], env=env, stderr=subprocess.DEVNULL)
got, deadline = [], time.monotonic() + 15
def drain(until):
    while time.monotonic() < until:
        try:
            got.extend(s.recv(4096).decode().split("\n"))
        except socket.timeout:
            pass
drain(time.monotonic() + 3)
assert "READY=1" in got, got
assert any(m.startswith("STATUS=") for m in got), got
pings = got.count("WATCHDOG=1")
assert pings >= 3, f"only {pings} watchdog pings in 3 s with WATCHDOG_USEC=1s"
if name == "vigil-agent":
    p.send_signal(signal.SIGHUP)
    drain(time.monotonic() + 1)
    assert "RELOADING=1" in got, got
p.send_signal(signal.SIGTERM)
rc = p.wait(timeout=15)
drain(time.monotonic() + 0.5)
assert "STOPPING=1" in got, got
assert rc == 0, f"exit status {rc}"
print(f"{name}: READY, STATUS, {pings} watchdog pings, STOPPING, exit 0")
PYEOF
}
check vigil-collector collector.conf
start_collector
check vigil-agent agent.conf
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Probes on a real agent against real servers on 127.0.0.1: tcp with
# send/expect, a Debian monitoring-plugins check through the command probe,
# a process found by its command line, a file; a service going down is seen
# at the collector within seconds (the status change ships at once), and
# shows in /api/v1/probes, its history, and vigilctl.
. "$(dirname "$0")/lib.sh"

PLUGINS=/usr/lib/nagios/plugins
[ -x "$PLUGINS/check_tcp" ] || fail "monitoring-plugins-basic is not installed"
SVC_PORT=$(free_port)
MARK="vigil-probe-test-$$"
serve() {
	"$PY" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
while True:
    c, _ = s.accept()
    try:
        c.sendall(b"SSH-2.0-vigiltest\r\n"); c.recv(100)
    except OSError:
        pass
    c.close()' "$SVC_PORT" "$MARK" &
	SVC_PID=$!
	PIDS="$PIDS $SVC_PID"
	wait_for 10 "service up" port_up "$SVC_PORT"
}

info "config errors name the probe"
printf '[collector]\naddress=tcp://127.0.0.1:1\n[probe "a"]\ntype=tcp\n[probe "b"]\ntype=tcp\naddress=x:1\npath=/x\n[probe "c"]\ntype=ping\n' > "$T/bad.conf"
if "$B/vigil-agent" --config "$T/bad.conf" --check-config 2> "$T/bad.err"; then fail "bad probes accepted"; fi
grep -q '\[probe "a"\]: type=tcp needs address=' "$T/bad.err" || fail "$(cat "$T/bad.err")"
grep -q '\[probe "b"\]: path= does not apply to type=tcp' "$T/bad.err" || fail "$(cat "$T/bad.err")"
grep -q '\[probe "c"\] type=ping: expected' "$T/bad.err" || fail "$(cat "$T/bad.err")"

echo "hello" > "$T/watched"
write_collector_conf
write_agent_conf "[probe \"ssh-banner\"]
type=tcp
address=127.0.0.1:$SVC_PORT
send=hello\\r\\n
expect=SSH-2.0
interval=1s
timeout=2s
[probe \"check-tcp\"]
type=command
command=$PLUGINS/check_tcp -H 127.0.0.1 -p $SVC_PORT -t 2
interval=1s
timeout=3s
[probe \"service-process\"]
type=process
cmdline=$MARK
interval=1s
[probe \"service-by-name\"]
type=process
name=python3
cmdline=$MARK
interval=1s
[probe \"watched-file\"]
type=file
path=$T/watched
max_age=1h
interval=1s"
TOKEN=$(make_token viewer)
serve
start_collector
start_agent

probes_json() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/probes$1"; }
count_status() { # status
	probes_json "?status=$1" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))'
}
all_ok() { [ "$(count_status ok)" = 5 ]; }
wait_for 20 "5 probes ok" all_ok
probes_json "?host=testhost" > "$T/probes.json"
"$PY" - "$T/probes.json" <<'PYEOF' || fail "probe items: $(cat "$T/probes.json")"
import json, sys
items = {i["name"]: i for i in json.load(open(sys.argv[1]))["items"]}
assert set(items) == {"ssh-banner", "check-tcp", "service-process", "service-by-name", "watched-file"}, items
for i in items.values():
    assert set(i) >= {"host", "name", "type", "status", "latency_us", "message", "ts"}, i
    assert i["host"] == "testhost" and i["status"] == "ok" and i["latency_us"] >= 0, i
assert items["check-tcp"]["type"] == "command" and "TCP OK" in items["check-tcp"]["message"], items
assert items["service-process"]["message"] == "1 process", items
# The two process probes read one scan of /proc; the second asks what the first did not (comm).
assert items["service-by-name"]["message"] == "1 process", items
PYEOF

info "the service goes down"
t0=$(date +%s%N)
kill "$SVC_PID"
four_critical() { [ "$(count_status critical)" = 4 ]; }
wait_for 15 "4 probes critical" four_critical
t1=$(date +%s%N)
info "service down -> critical at the collector's API: $(( (t1 - t0) / 1000000 )) ms (interval 1 s)"
"$B/vigilctl" --url "$URL" --token "$TOKEN" probes --status critical > "$T/ctl.out"
grep -q "testhost *ssh-banner *tcp *critical" "$T/ctl.out" || fail "vigilctl probes: $(cat "$T/ctl.out")"
grep -q "check-tcp *command *critical .*Connection refused" "$T/ctl.out" || fail "vigilctl probes: $(cat "$T/ctl.out")"
[ "$(count_status ok)" = 1 ] || fail "the file probe should still be ok"

info "history shows the change"
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/probes/testhost/ssh-banner/history?since=1h" > "$T/hist.json"
"$PY" - "$T/hist.json" <<'PYEOF' || fail "history: $(head -c 600 "$T/hist.json")"
import json, sys
d = json.load(open(sys.argv[1]))
st = [i["status"] for i in d["items"]]
assert st and st[0] == "ok" and st[-1] == "critical" and "critical" not in st[:st.index("critical")], st
ts = [i["ts"] for i in d["items"]]
assert ts == sorted(ts), "not in time order"
PYEOF
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/api/v1/probes/testhost/history")
[ "$code" = 404 ] || fail "malformed history path: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/api/v1/probes?status=bad")
[ "$code" = 400 ] || fail "bad status filter: $code"

info "the service comes back"
serve
wait_for 20 "5 probes ok again" all_ok

info "command: a missing program is unknown; a timeout kills the plugin's whole process group"
stop_agent TERM
GROUP_MARK="vigil-group-$$"
AGENT_ID=0123456789abcdef0123456789abcdef write_agent_conf "[probe \"missing\"]
type=command
command=/nonexistent/check_nothing
interval=1s
[probe \"hangs\"]
type=command
command=/bin/sh -c 'sleep 1$$ & exec sleep 2$$' $GROUP_MARK
timeout=1s
interval=1h"
rm -rf "$T/state"
start_agent
probe_has() { # name status text
	probes_json "" | "$PY" -c 'import json, sys
i = [i for i in json.load(sys.stdin)["items"] if i["name"] == sys.argv[1]]
sys.exit(0 if i and i[0]["status"] == sys.argv[2] and sys.argv[3] in i[0]["message"] else 1)' "$@"
}
wait_for 15 "missing program unknown" probe_has missing unknown "No such file or directory"
wait_for 15 "hanging plugin timed out" probe_has hangs critical "timed out after 1000 ms"
# The sleeps' arguments are this test's PID: nothing else runs them.
group_gone() { ! pgrep -f "sleep [12]$$\$" > /dev/null; }
group_gone || sleep 5
if ! group_gone; then
	left=$(ps -o pid,pgid,ppid,stat,args -p "$(pgrep -d, -f "sleep [12]$$\$")")
	pkill -f "sleep [12]$$\$" || true
	fail "the plugin's processes outlived its timeout: $left"
fi
echo ok

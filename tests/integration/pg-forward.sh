#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Forwarding once among two collectors on one database (forward/forward.c
# under a lease per forwarder, its position in the database:
# store/pgpositions.c): A forwards the records stored through A and B,
# B stands by; each record reaches the SIEM once, and each alert event
# once (not once per collector). A killed (-9): B goes on from the
# position A left, so the records stored after reach the SIEM too, at
# most a page again, and the forward_lag rule reads the shared position.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
SVC_PORT=$(free_port)
RCV_PORT=$(free_port)
SIEM_PORT=$(free_port)
ALARMS_PORT=$(free_port)
"$PY" "$S/tests/integration/syslogd.py" "$SIEM_PORT" "$T/siem.jsonl" >> "$T/siem.log" 2>&1 &
PIDS="$PIDS $!"
"$PY" "$S/tests/integration/syslogd.py" "$ALARMS_PORT" "$T/alarms.jsonl" >> "$T/alarms.log" 2>&1 &
PIDS="$PIDS $!"
start_receiver ok unused
pg_start
pg_collectors_conf "$(svc_rule)
[forward \"siem\"]
url=tcp://127.0.0.1:$SIEM_PORT
batch=500
retry_max=1s
[forward \"alarms\"]
url=tcp://127.0.0.1:$ALARMS_PORT
what=alerts
retry_max=1s
[rule \"siem-behind\"]
type=forward_lag
above=3600"
TOKEN=$(make_token operator)
start_collector
wait_for 10 "A forwards" grep -q "forward siem: this collector .* forwards now" "$T/collector.log"
start_collector_b

# batch FILE FROM COUNT: records n=FROM… as a batch file
batch() {
	"$PY" - "$@" <<'PYEOF'
import sys, time
out, first, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
now = int(time.time() * 10**6)
with open(out, "w") as f:
    for i in range(first, first + n):
        f.write(f"__REALTIME_TIMESTAMP={now + i}\n_HOSTNAME=web-{i % 3}\nMESSAGE=GET /api/{i} n={i}\n\n")
PYEOF
}
send() { # address file agent seq count
	"$B/nngsend" "$1" "$2" --frame "$3" "$4" "$5" | grep -q "^stored" || fail "$2 not stored through $1"
}
# seen N: how many of n=0..N-1 the SIEM has, and how many messages in all ("HAVE TOTAL")
seen() {
	"$PY" - "$T/siem.jsonl" "$1" <<'PYEOF'
import json, re, sys
got = [int(re.search(r"n=(\d+)", json.loads(l)["msg"]).group(1)) for l in open(sys.argv[1])]
print(len(set(got) & set(range(int(sys.argv[2])))), len(got))
PYEOF
}
all_seen() { [ "$(seen "$1" | cut -d' ' -f1)" = "$1" ]; }

info "4,000 records through A and 4,000 through B: A forwards all of them, each once"
batch "$T/a1.txt" 0 4000
batch "$T/b1.txt" 4000 4000
send "tcp://127.0.0.1:$INGEST_PORT" "$T/a1.txt" aaaabbbbccccddddeeeeffff00000001 1 4000
send "tcp://127.0.0.1:$PORT_B" "$T/b1.txt" aaaabbbbccccddddeeeeffff00000002 1 4000
wait_for 30 "8,000 at the SIEM" all_seen 8000
sleep 2
[ "$(seen 8000)" = "8000 8000" ] || fail "at the SIEM, of 8,000 and in all: $(seen 8000)"
grep -q "forward siem: this collector .* forwards now" "$T/collector-b.log" && fail "B forwards too"

info "a failing probe's alert: each of its events at the SIEM of alarms once"
AGENT_ADDR="tcp://127.0.0.1:$PORT_B" AGENT_HEARTBEAT=1s write_agent_conf "$(svc_probe)"
serve
start_agent
kill "$SVC_PID"
firing() { curl -s -H "Authorization: Bearer $TOKEN" "$URL_A/api/v1/alerts?state=firing" | grep -q '"rule":"svc-down"'; }
wait_for 20 "the alert firing" firing
fired_once() { [ "$(grep -c 'action=\\"fired\\"' "$T/alarms.jsonl")" = 1 ]; }
wait_for 15 "its fired event forwarded" fired_once
sleep 3
[ "$(grep -c 'action=\\"fired\\"' "$T/alarms.jsonl")" = 1 ] || fail "fired events forwarded: $(cat "$T/alarms.jsonl")"

info "A killed: B forwards from where A left, the records stored after too"
stop_collector KILL
wait_for 15 "B forwards" grep -q "forward siem: this collector .* forwards now, from its position" "$T/collector-b.log"
batch "$T/b2.txt" 8000 4000
send "tcp://127.0.0.1:$PORT_B" "$T/b2.txt" aaaabbbbccccddddeeeeffff00000002 2 4000
wait_for 30 "12,000 at the SIEM" all_seen 12000
read -r HAVE TOTAL <<< "$(seen 12000)"
[ "$TOTAL" -le $((12000 + 500)) ] || fail "$TOTAL messages for 12,000 records: more than a page again"
[ "$(pg_sql -c "SELECT count(*) FROM forward_positions WHERE name IN ('siem', 'alarms') AND cursor IS NOT NULL")" = 2 ] ||
	fail "positions: $(pg_sql -c 'TABLE forward_positions')"
[ "$(grep -c 'action=\\"fired\\"' "$T/alarms.jsonl")" = 1 ] || fail "fired forwarded again by B: $(cat "$T/alarms.jsonl")"
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The rules of the collector that evaluates read what every collector
# received (store/pgderived.c): with A leading, an agent that sends only to
# B has its metric (memory.used_pct above 0), a log line (type=log) and a
# log metric's p99 (type=metric on log.web.p99) raise their alerts on A,
# with B's values: the line matched and the quantile. A batch of the
# matched line sent again through A (a failover's resend: a duplicate in
# the database) adds no match: the count stays 1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
pg_start
pg_collectors_conf "[alerts]
interval=1s
[logmetric \"web\"]
query=source:nginx
value=request_time
labels=status_class
step=1m
[rule \"memory\"]
type=metric
metric=memory.used_pct
above=0.001
[rule \"payment\"]
type=log
pattern=PAYMENT-FAILED
[rule \"slow\"]
type=metric
metric=log.web.p99
instance=status_class=5xx
above=500"
TOKEN=$(make_token operator)
start_collectors_a_leading
AGENT_ADDR="tcp://127.0.0.1:$PORT_B" AGENT_HEARTBEAT=1s AGENT_METRICS=yes write_agent_conf "[metrics]
interval=1s"
start_agent

info "a log line and 50 slow 5xx requests, sent to B only"
NOW=$("$PY" -c 'import time; print(int(time.time() * 10**6))')
printf '__REALTIME_TIMESTAMP=%s\n_HOSTNAME=pay-1\nMESSAGE=PAYMENT-FAILED order 7 (bank timeout)\n\n' "$NOW" > "$T/line.txt"
"$PY" - "$T/web.txt" "$NOW" <<'PYEOF'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(50):
        f.write(f"__REALTIME_TIMESTAMP={int(sys.argv[2]) + i}\n_HOSTNAME=web-1\nVIGIL_SOURCE=nginx\n"
                f"STATUS_CLASS=5xx\nREQUEST_TIME={900 + i}\nMESSAGE=GET /pay 502 {900 + i}\n\n")
PYEOF
"$B/nngsend" "tcp://127.0.0.1:$PORT_B" "$T/line.txt" --frame aaaabbbbccccddddeeeeffff00001111 1 1 | grep -q "^stored" ||
	fail "the line not stored"
"$B/nngsend" "tcp://127.0.0.1:$PORT_B" "$T/web.txt" --frame 11112222333344445555666677778888 1 50 | grep -q "^stored" ||
	fail "the requests not stored"

firing() { # rule: its alert firing on A, the alert into $T/alert.json
	curl -s -H "Authorization: Bearer $TOKEN" "$URL_A/api/v1/alerts?state=firing" > "$T/alerts.json" &&
		"$PY" -c 'import json, sys
a = [x for x in json.load(open(sys.argv[1]))["items"] if x["rule"] == sys.argv[2]]
assert len(a) == 1
json.dump(a[0], open(sys.argv[3], "w"), separators=(",", ":"))' "$T/alerts.json" "$1" "$T/alert.json" 2> /dev/null
}
info "A raises the three alerts from what B received"
wait_for 20 "the metric's alert on A" firing memory
grep -q '"host":"testhost"' "$T/alert.json" || fail "memory: $(cat "$T/alert.json")"
wait_for 20 "the log line's alert on A" firing payment
grep -q '"value":"1 in 300 s: PAYMENT-FAILED order 7 (bank timeout)"' "$T/alert.json" || fail "payment: $(cat "$T/alert.json")"
grep -q '"host":"pay-1"' "$T/alert.json" || fail "payment's host: $(cat "$T/alert.json")"
wait_for 20 "the log metric's alert on A" firing slow
"$PY" -c 'import json, sys
a = json.load(open(sys.argv[1]))
v = float(a["value"].rsplit("= ", 1)[1])
assert 930 <= v <= 950 and a["host"] == "web-1", a' "$T/alert.json" || fail "slow: $(cat "$T/alert.json")"

info "the line's batch resent through A: a duplicate there, no second match"
"$B/nngsend" "tcp://127.0.0.1:$INGEST_PORT" "$T/line.txt" --frame aaaabbbbccccddddeeeeffff00001111 1 1 |
	grep -q "^stored\|^duplicate" || fail "the resend not answered"
sleep 3
firing payment || fail "payment no longer firing: $(cat "$T/alerts.json")"
grep -q '"value":"1 in 300 s: ' "$T/alert.json" || fail "the resend counted: $(cat "$T/alert.json")"
[ "$(pg_sql -c "SELECT count(*) FROM log_matches WHERE rule = 'payment'")" = 1 ] || fail "log_matches: $(pg_sql -c 'TABLE log_matches')"
echo ok

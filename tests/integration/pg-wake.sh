#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What another collector stored that may change an alert wakes the one
# that evaluates (the database's channel, store/pgstore.c): with [alerts]
# interval=60s, A evaluates (it took the lease when a matched line through
# A woke it); a probe of an agent that sends only to B fails, and its alert
# fires on A within seconds, not at A's next interval; back, it resolves
# within seconds (the probe's streak began, as the database counts it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
SVC_PORT=$(free_port)
RCV_PORT=$(free_port)
pg_start
pg_collectors_conf "[alerts]
interval=60s
[rule \"svc-down\"]
type=probe
probe=svc-*
[rule \"boom\"]
type=log
pattern=BOOM"
TOKEN=$(make_token viewer)
start_collector

info "a matched line through A wakes A: it evaluates, and leads"
printf '__REALTIME_TIMESTAMP=%s\n_HOSTNAME=web-1\nMESSAGE=BOOM\n\n' "$("$PY" -c 'import time; print(int(time.time() * 10**6))')" \
	> "$T/line.txt"
"$B/nngsend" "tcp://127.0.0.1:$INGEST_PORT" "$T/line.txt" --frame aaaabbbbccccddddeeeeffff00000009 1 1 | grep -q "^stored" ||
	fail "the line not stored"
wait_for 10 "A evaluates" grep -q "alerting: this collector .* does this work now" "$T/collector.log"
start_collector_b

info "an agent's probe through B fails: A raises its alert within seconds"
AGENT_ADDR="tcp://127.0.0.1:$PORT_B" AGENT_HEARTBEAT=1s write_agent_conf "$(svc_probe)"
serve
start_agent
probe_ok() { curl -s -H "Authorization: Bearer $TOKEN" "$URL_A/api/v1/probes" | grep -q '"status":"ok"'; }
wait_for 20 "the probe ok" probe_ok
kill "$SVC_PID"
firing() { curl -s -H "Authorization: Bearer $TOKEN" "$URL_A/api/v1/alerts?state=firing" | grep -q '"rule":"svc-down"'; }
wait_for 10 "the alert on A, well before its interval" firing
grep -q "alerting: this collector .* does this work now" "$T/collector-b.log" && fail "B evaluated"

info "the service back: A resolves the alert within seconds too (the database saw the probe's streak begin)"
serve
resolved() { curl -s -H "Authorization: Bearer $TOKEN" "$URL_A/api/v1/alerts?state=resolved" | grep -q '"rule":"svc-down"'; }
wait_for 10 "the alert resolved on A, well before its interval" resolved
echo ok

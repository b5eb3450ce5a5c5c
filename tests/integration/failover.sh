#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# An agent given two collectors' addresses spreads its batches over both,
# and when one is killed (-9) sends the rest to the other: nothing is lost
# (the spool keeps a batch until one of them acknowledges it). Each
# collector here has a store of its own, so a batch the killed one stored
# and could not acknowledge is stored at the other too; on one PostgreSQL
# database it would be a duplicate (docs/scale.md).
. "$(dirname "$0")/lib.sh"

PORT_B=$(free_port)
HTTP_B=$(free_port)
URL_A=$URL
URL_B="http://127.0.0.1:$HTTP_B"
write_collector_conf
sed -e "s|127.0.0.1:$INGEST_PORT|127.0.0.1:$PORT_B|" -e "s|127.0.0.1:$HTTP_PORT|127.0.0.1:$HTTP_B|" \
	-e "s|data_dir=$T/data|data_dir=$T/data-b|" "$T/collector.conf" > "$T/collector-b.conf"
TOKEN=$(make_token operator)
TOKEN_B=$("$B/vigil-collector" --config "$T/collector-b.conf" --create-token "t-b-$RANDOM" --role operator)
start_collector
"$B/vigil-collector" --config "$T/collector-b.conf" >> "$T/collector-b.log" 2>&1 &
PID_B=$!
PIDS="$PIDS $PID_B"
wait_for 10 "collector B up" curl -s -o /dev/null "$URL_B/api/v1/hosts"
AGENT_ADDR="tcp://127.0.0.1:$INGEST_PORT tcp://127.0.0.1:$PORT_B" MAX_DELAY=20 write_agent_conf
"$B/vigil-agent" --config "$T/agent.conf" --check-config > /dev/null || fail "two addresses do not check"
sed "s|^address=.*|address=tcp://127.0.0.1:1 tls+tcp://127.0.0.1:2|" "$T/agent.conf" > "$T/mixed.conf"
config_refused vigil-agent "$T/mixed.conf" "mixed.conf:[0-9]*: .*every address is tls+tcp://, or none is"
sed "s|^listen=tcp://.*|listen=tcp://127.0.0.1:1 tcp://127.0.0.1:2|" "$T/collector.conf" > "$T/two.conf"
config_refused vigil-collector "$T/two.conf" "two.conf:[0-9]*: \\[ingest\\] .*one address only"

count_at() { # url token
	curl -s -H "Authorization: Bearer $2" "$1/api/v1/hosts" |
		"$PY" -c 'import json,sys; print(sum(h["records"] for h in json.load(sys.stdin)["items"]))'
}
both() { echo $(($(count_at "$URL_A" "$TOKEN") + $(count_at "$URL_B" "$TOKEN_B"))); }
both_at_least() { [ "$(both)" -ge "$1" ]; }
# write N lines, a few at a time, so that they go in many batches.
write() { # from count
	local i
	for i in $(seq "$1" $(($1 + $2 - 1))); do
		echo "failover line $i" | tee -a "$T/expected" >> "$T/logs/app.log"
		[ $((i % 5)) = 0 ] && sleep 0.05
	done
	true
}

info "both up: the batches are spread over both collectors"
start_agent
write 1 200
wait_for 30 "200 lines stored" both_at_least 200
A=$(count_at "$URL_A" "$TOKEN") BOTH_B=$(count_at "$URL_B" "$TOKEN_B")
info "collector A stored $A, collector B $BOTH_B"
[ "$A" -gt 0 ] && [ "$BOTH_B" -gt 0 ] || fail "not spread: A $A, B $BOTH_B"

info "collector A killed (-9) with lines still coming: B takes the rest"
write 201 100 &
WRITER=$!
sleep 0.3
stop_collector KILL
wait "$WRITER"
# Every batch acknowledged while A is down: B took them.
wait_for 30 "the rest at B" agent_status_is spool_batches 0

info "A back, B killed: A takes the next"
start_collector
kill -9 "$PID_B"
wait "$PID_B" 2>/dev/null || true
A=$(count_at "$URL_A" "$TOKEN")
write 301 100
a_at_least() { [ "$(count_at "$URL_A" "$TOKEN")" -ge "$1" ]; }
wait_for 30 "the next 100 at A alone" a_at_least $((A + 100))
"$B/vigil-collector" --config "$T/collector-b.conf" >> "$T/collector-b.log" 2>&1 &
PID_B=$!
PIDS="$PIDS $PID_B"
wait_for 10 "collector B up again" curl -s -o /dev/null "$URL_B/api/v1/hosts"

info "every line is in one collector or the other; none is lost"
complete() {
	{ URL=$URL_A TOKEN=$TOKEN pull_messages; URL=$URL_B TOKEN=$TOKEN_B pull_messages; } | sort -u > "$T/got"
	sort -u "$T/expected" | cmp -s - "$T/got"
}
wait_for 30 "all 400 lines, across the two" complete
TOTAL=$(both)
info "400 lines written, $TOTAL stored in all ($((TOTAL - 400)) twice: stored by a collector killed before it answered)"
wait_for 20 "every batch acknowledged" agent_status_is spool_batches 0
echo ok

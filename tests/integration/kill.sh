#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kill -9 the agent five times and the collector five times at random moments
# while lines stream in: the stored set equals the written set, no duplicates.
. "$(dirname "$0")/lib.sh"

STORAGE_SYNC=yes SPOOL_SYNC=yes
write_collector_conf
write_agent_conf
TOKEN=$(make_token admin)
start_collector
start_agent

TOTAL=150000
"$PY" "$S/tests/integration/writer.py" "$T/logs/app.log" $TOTAL --rate 15000 --rotate-every 40000 \
	--mode rename --expect "$T/expected" &
WPID=$!
PIDS="$PIDS $WPID"

pause() { sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.3 + (r % 1200) / 1000 }')"; }

for round in 1 2 3 4 5; do
	pause
	info "round $round: kill -9 agent"
	stop_agent KILL
	pause
	start_agent
	pause
	info "round $round: kill -9 collector"
	stop_collector KILL
	pause
	start_collector
done
wait "$WPID" || fail "writer failed"
wait_for 90 "$TOTAL lines stored" count_is $TOTAL
sleep 2
pull_messages --expect "$T/expected" || fail "stored set differs from written set"
info "duplicates acknowledged without storing: $(metric 'vigil_ingest_batches_total{result="duplicate"}')"
echo ok

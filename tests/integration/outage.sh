#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The collector is down for 20 s while lines are written: the agent spools
# and catches up. With a small spool cap it stops reading (backpressure)
# instead of dropping, and resumes when the collector is back.
. "$(dirname "$0")/lib.sh"

SPOOL_EXTRA="max_bytes=1M"
BATCH_EXTRA="max_records=500"
write_collector_conf
write_agent_conf
TOKEN=$(make_token admin)
start_collector
start_agent
"$PY" "$S/tests/integration/writer.py" "$T/logs/app.log" 1000 --expect "$T/expected"
wait_for 20 "first 1000 lines" count_is 1000

info "collector down for 20 s while 60000 lines (12 MB) are written"
stop_collector TERM
"$PY" "$S/tests/integration/writer.py" "$T/logs/app.log" 60000 --start 1001 --rate 3000 --random --expect "$T/expected" &
WPID=$!
PIDS="$PIDS $WPID"
sleep 20
wait "$WPID" || fail "writer failed"

spooled=$(agent_status spool_bytes)
info "spool holds $spooled bytes (cap 1 MiB) and $(agent_status records_spooled) records were spooled"
[ "$spooled" -ge $((1024 * 1024)) ] || fail "spool did not reach its cap: $spooled"
[ "$spooled" -lt $((3 * 1024 * 1024)) ] || fail "spool overshot its cap: $spooled"
[ "$(agent_status records_spooled)" -lt 61000 ] || fail "agent read everything despite the full spool"

info "collector back: everything arrives, once"
start_collector
wait_for 60 "61000 lines stored" count_is 61000
pull_messages --expect "$T/expected" || fail "stored set differs after the outage"
wait_for 10 "spool drained" agent_status_is spool_batches 0
echo ok

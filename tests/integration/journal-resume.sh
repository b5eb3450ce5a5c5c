#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# sd-journal can answer "no entry" for a cursor just behind a writer that
# is appending; taken for a vacuumed cursor, that made the agent read the
# whole journal again at a restart. The agent looks again for a while
# before it calls a cursor gone. Here the moment is made to last: the
# agent restarts on the journal as it was before its last entry, and the
# entry is appended once the agent says it is looking for it.
. "$(dirname "$0")/lib.sh"
hold_timing_lock

J="$T/journal"
mkdir -p "$J" "$T/build"
start_journal_collector

journal_add 1 99 "$T/expected"
cp "$J/remote.journal" "$T/build/99.journal"
journal_add 100 1 "$T/expected"
start_agent
wait_for 30 "100 entries" count_is 100
stop_agent TERM

info "restarted while the entry at its cursor is not there yet: it waits for it, reads nothing twice"
cp "$T/build/99.journal" "$J/remote.journal"
start_agent
# Either line: looking again (or, as before, taking the cursor for gone).
wait_for 10 "the agent at its cursor" grep -qE "no entry at cursor|not found; resuming" "$T/agent.log"
journal_add 100 1
journal_add 101 10 "$T/expected"
wait_for 30 "110 entries" count_is 110
sleep 1
count_is 110 || fail "$(stored_count) entries stored of 110: some were read again"
[ "$(agent_status journal_gaps)" = 0 ] || fail "a gap was declared: $(grep "not found" "$T/agent.log")"
pull_messages --escape-nl --expect "$T/expected" source=journal || fail "entries differ"

info "a cursor whose entry never comes is a gap after the wait: the journal is read from its oldest entry"
stop_agent TERM
cp "$T/build/99.journal" "$J/remote.journal"
start_agent
wait_for 10 "the gap" grep -q "not found; resuming at the oldest entry" "$T/agent.log"
wait_for 10 "the gap counted" agent_status_is journal_gaps 1
echo ok

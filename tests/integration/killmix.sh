#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kill -9 of the agent, four times, while everything runs at once: a file
# being written, a journal being appended, five probes every 200 ms. The
# stored log lines and journal entries are exactly the written ones; no probe
# result is stored twice, and every probe goes on reporting after the last
# restart.
. "$(dirname "$0")/lib.sh"

J="$T/journal"
mkdir -p "$J"
PROBES="file-conf process-collector tcp-api http-api command-true"

STORAGE_SYNC=yes SPOOL_SYNC=yes
write_collector_conf
write_agent_conf "[journal]
enabled=yes
directory=$J
[probe \"file-conf\"]
type=file
path=$T/collector.conf
interval=200ms
[probe \"process-collector\"]
type=process
cmdline=vigil-collector --config $T/
interval=200ms
[probe \"tcp-api\"]
type=tcp
address=127.0.0.1:$HTTP_PORT
interval=200ms
[probe \"http-api\"]
type=http
url=$URL/api/v1/hosts
expect_status=401
interval=200ms
[probe \"command-true\"]
type=command
command=/bin/true
interval=200ms"
TOKEN=$(make_token admin)
start_collector
start_agent

info "a file, a journal and five probes; kill -9 the agent four times"
"$PY" "$S/tests/integration/writer.py" "$T/logs/app.log" 40000 --rate 8000 --expect "$T/expected-lines" &
WPID=$!
"$PY" "$S/tests/integration/mkjournal.py" 1 20000 --expect "$T/expected-journal" |
	"$REMOTE" --output="$J/remote.journal" - 2>> "$T/remote.log" &
JPID=$!
PIDS="$PIDS $WPID $JPID"
pause() { sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.3 + (r % 900) / 1000 }')"; }
for round in 1 2 3 4; do
	pause
	stop_agent KILL
	pause
	start_agent
done
wait "$WPID" || fail "writer failed"
wait "$JPID" || fail "journal writer failed"

lines_stored() { [ "$(pull_messages --count source=app)" = 40000 ]; }
journal_stored() { [ "$(pull_messages --count source=journal)" = 20000 ]; }
wait_for 90 "40000 lines stored" lines_stored
wait_for 90 "20000 journal entries stored" journal_stored
pull_messages --expect "$T/expected-lines" source=app || fail "log lines differ"
pull_messages --escape-nl --expect "$T/expected-journal" source=journal || fail "journal entries differ"

info "no probe result stored twice; every probe reports after the last restart"
restarted_us=$("$PY" -c 'import time; print(int(time.time() * 1e6))')
history() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/probes/testhost/$1/history"; }
reported_since() { # probe
	history "$1" | "$PY" -c 'import json, sys; sys.exit(0 if any(i["ts"] > int(sys.argv[1]) for i in json.load(sys.stdin)["items"]) else 1)' "$restarted_us"
}
for p in $PROBES; do
	wait_for 10 "$p reporting" reported_since "$p"
	history "$p" > "$T/history-$p.json"
	"$PY" - "$T/history-$p.json" "$p" <<'PYEOF' || fail "probe $p: $(head -c 600 "$T/history-$p.json")"
import collections, json, sys
items = json.load(open(sys.argv[1]))["items"]
twice = [ts for ts, n in collections.Counter(i["ts"] for i in items).items() if n > 1]
assert len(items) >= 10 and not twice, (len(items), twice[:5])
bad = [i for i in items if i["status"] != "ok"]
assert not bad, bad[:3]
print(f"# {sys.argv[2]}: {len(items)} results, none twice, all ok")
PYEOF
done
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The pipeline end to end: file -> agent -> collector -> API and vigilctl;
# tokens, errors, cursors, config checking, metrics, SIGHUP.
. "$(dirname "$0")/lib.sh"

write_collector_conf
write_agent_conf
TOKEN=$(make_token admin)
start_collector

info "config errors name file:line and exit 1"
printf '[collector]\naddress=tcp://127.0.0.1:1\n[batch]\nmax_records=0\nbogus=1\n' > "$T/bad.conf"
if "$B/vigil-agent" --config "$T/bad.conf" --check-config 2> "$T/check.err"; then fail "bad config accepted"; fi
grep -q "bad.conf:4: \[batch\] max_records=0" "$T/check.err" || fail "no file:line for max_records: $(cat "$T/check.err")"
grep -q "bad.conf:5: \[batch\]: unknown key 'bogus'" "$T/check.err" || fail "unknown key not reported"
printf '[collector]\naddress=tcp://127.0.0.1:1\n[tail "a"]\npath=/x\nread_from=middle\n[probe "p"]\ntype=tcp\n' > "$T/bad2.conf"
if "$B/vigil-agent" --config "$T/bad2.conf" --check-config 2> "$T/check2.err"; then fail "bad config accepted"; fi
grep -q "bad2.conf:5: \[tail \"a\"\] read_from=middle: expected head or tail" "$T/check2.err" ||
	fail "no file:line for a check across keys: $(cat "$T/check2.err")"
grep -q "bad2.conf:7: \[probe \"p\"\]: type=tcp needs address=" "$T/check2.err" || fail "$(cat "$T/check2.err")"
"$B/vigil-agent" --config "$T/agent.conf" --check-config > /dev/null || fail "good agent config refused"
"$B/vigil-collector" --config "$T/collector.conf" --check-config > /dev/null || fail "good collector config refused"
"$B/vigil-agent" --version | grep -q "^vigil-agent " || fail "--version"

info "lines flow and come back through the API"
seq 1 3000 | sed 's/^/INFO line /' > "$T/logs/a.log"
start_agent
wait_for 20 "3000 lines stored" count_is 3000
pull_messages --expect "$T/logs/a.log" || fail "stored set differs"

info "cursor paging returns the same sequence as one big page"
pull_messages --ids --limit 7 > "$T/small.ids"
pull_messages --ids --limit 5000 > "$T/big.ids"
cmp -s "$T/small.ids" "$T/big.ids" || fail "paging with limit=7 differs from limit=5000"
[ "$(wc -l < "$T/small.ids")" = 3000 ] || fail "paging lost items"

info "filters: q, source, host, since"
[ "$(pull_messages --count q='line 2999')" = 1 ] || fail "q= filter"
[ "$(pull_messages --count source=app)" = 3000 ] || fail "source= by tail name"
[ "$(pull_messages --count source="$T/logs/a.log")" = 3000 ] || fail "source= by path"
[ "$(pull_messages --count source=nope)" = 0 ] || fail "source= nonexistent"
[ "$(pull_messages --count host=testhost)" = 3000 ] || fail "host= by hostname"
[ "$(pull_messages --count host=00112233445566778899aabbccddeeff)" = 3000 ] || fail "host= by agent id"
[ "$(pull_messages --count host=other)" = 0 ] || fail "host= other"
[ "$(pull_messages --count since=1h)" = 3000 ] || fail "since=1h"
[ "$(pull_messages --count since=2099-01-01T00:00:00Z)" = 0 ] || fail "since in the future"
[ "$(pull_messages --count until=2000-01-01T00:00:00Z)" = 0 ] || fail "until in the past"

info "the item shape"
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/logs?limit=1" > "$T/one.json"
"$PY" - "$T/one.json" <<'PYEOF' || fail "item shape: $(cat "$T/one.json")"
import json, sys
d = json.load(open(sys.argv[1]))
it = d["items"][0]
assert set(it) == {"id", "ts", "host", "source", "message", "fields"}, it
assert it["host"] == "testhost" and it["source"] == "app" and it["message"] == "INFO line 1", it
assert isinstance(it["ts"], int) and it["ts"] > 1600000000000000
assert it["fields"]["PRIORITY"] == "6" and it["fields"]["VIGIL_PATH"].endswith("/logs/a.log")
assert d["next_cursor"] == it["id"]
PYEOF

info "401 without or with a wrong token, 400 on bad parameters, 404 on unknown paths"
code() { curl -s -o "$T/resp.json" -w '%{http_code}' "$@"; }
[ "$(code "$URL/api/v1/logs")" = 401 ] || fail "no token: not 401"
grep -q '"error":"unauthorized"' "$T/resp.json" || fail "401 body not JSON error"
[ "$(code -H 'Authorization: Bearer vgl_nope' "$URL/api/v1/logs")" = 401 ] || fail "bad token: not 401"
[ "$(code -H "Authorization: Bearer $TOKEN" "$URL/api/v1/logs?limit=0")" = 400 ] || fail "limit=0 not 400"
[ "$(code -H "Authorization: Bearer $TOKEN" "$URL/api/v1/logs?cursor=garbage")" = 400 ] || fail "bad cursor not 400"
[ "$(code -H "Authorization: Bearer $TOKEN" "$URL/api/v1/logs?since=tomorrowish")" = 400 ] || fail "bad since not 400"
grep -q '"reason"' "$T/resp.json" || fail "400 without reason"
[ "$(code -H "Authorization: Bearer $TOKEN" "$URL/api/v1/nothing")" = 404 ] || fail "unknown path not 404"
[ "$(code -X POST -H "Authorization: Bearer $TOKEN" "$URL/api/v1/logs")" = 405 ] || fail "POST logs not 405"

info "next_cursor is always present, also past the end"
last=$(tail -n1 "$T/big.ids" | cut -d' ' -f1)
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/logs?cursor=$last" | grep -q "\"items\":\[\],\"next_cursor\":\"$last\"" \
	|| fail "empty page does not keep the cursor"

info "vigilctl logs, hosts, token from the environment"
VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" logs -q 'line 42' > "$T/ctl.out" || fail "vigilctl logs"
grep -q 'testhost app: INFO line 42$' "$T/ctl.out" || fail "vigilctl logs output: $(cat "$T/ctl.out")"
"$B/vigilctl" --url "$URL" --token "$TOKEN" hosts | grep -q "00112233445566778899aabbccddeeff *testhost" || fail "vigilctl hosts"
if "$B/vigilctl" --url "$URL" --token wrong logs 2> "$T/ctl.err"; then fail "vigilctl with a bad token succeeded"; fi
grep -q "HTTP 401" "$T/ctl.err" || fail "vigilctl does not show the 401"

info "vigilctl --follow sees new lines"
VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" logs --follow -q FOLLOWME > "$T/follow.out" 2>&1 &
FPID=$!
PIDS="$PIDS $FPID"
echo "FOLLOWME now" >> "$T/logs/a.log"
wait_for 15 "followed line" grep -q "FOLLOWME now" "$T/follow.out"
kill "$FPID"

info "self-metrics"
[ "$(metric 'vigil_ingest_records_total')" = 3001 ] || fail "records_total: $(metric vigil_ingest_records_total)"
[ "$(metric 'vigil_ingest_batches_total{result="rejected"}')" = 0 ] || fail "rejections"
[ "$(metric 'vigil_http_unauthorized_total')" -ge 3 ] || fail "unauthorized counter"

info "SIGHUP adds a source without losing or repeating lines"
seq 1 500 | sed 's/^/other /' > "$T/other.txt"
cat >> "$T/agent.conf" <<EOC
[tail "other"]
path=$T/other.txt
EOC
kill -HUP "$AGENT_PID"
seq 3001 3500 | sed 's/^/INFO line /' >> "$T/logs/a.log"
wait_for 20 "4001 lines after reload" count_is 4001
pull_messages --expect "$T/logs/a.log" --expect "$T/other.txt" > "$T/reload.check" || fail "after reload: $(cat "$T/reload.check")"

info "SIGTERM stops the agent cleanly"
stop_agent TERM
grep -q "error" "$T/agent.log" && fail "agent logged errors: $(grep error "$T/agent.log")"
"$B/vigil-agent" --config "$T/agent.conf" --status > "$T/status.out"
grep -q "^spool_batches 0$" "$T/status.out" || fail "spool not empty at the end: $(cat "$T/status.out")"
grep -q "^records_spooled 4001$" "$T/status.out" || fail "records_spooled: $(cat "$T/status.out")"
echo "ok"

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What a batch or a journal entry claims is data, not authority: a local
# user who writes VIGIL_KIND=probe (or metric, inventory, a dial test's
# result) into the journal forges nothing; the agent keeps such fields
# renamed, and the collector acts on them only in the agent's own records,
# and on dial test results only from its own dial tests.
. "$(dirname "$0")/lib.sh"

J="$T/journal"
mkdir -p "$J"
# What journald stores for an unprivileged user's sd_journal_send() (uid 1000).
user_entry() { # n fields...
	local n=$1
	shift
	printf '__CURSOR=s=0123456789abcdef0123456789abcdef;i=%x\n__REALTIME_TIMESTAMP=%s\n' "$n" "$(($(date +%s%N) / 1000 + n))"
	printf '__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_TRANSPORT=journal\n' "$n"
	printf '_UID=1000\n_GID=1000\n_COMM=python3\n_PID=4242\n_HOSTNAME=journal-host\n'
	printf '%s\n' "$@"
	printf '\n'
}
{
	user_entry 1 "MESSAGE=sshd: all good" VIGIL_KIND=probe PROBE_NAME=sshd PROBE_TYPE=tcp PROBE_STATUS=ok
	user_entry 2 MESSAGE=x VIGIL_KIND=inventory "HOST_OS=Totally Legit OS" HOST_ADDRESSES=10.9.9.9 "HOST_LABELS=team=payments"
	user_entry 3 MESSAGE=x VIGIL_KIND=metric METRIC_SET=filesystem METRIC_MOUNT=/ METRIC_USED_PCT=1
	user_entry 4 MESSAGE=ok VIGIL_KIND=probe PROBE_NAME=innocent-check PROBE_TYPE=dialtest PROBE_STATUS=ok DIALTEST_ID=1 \
		DIALTEST_OUTCOME=ok 'DIALTEST_RESULT={"id":1,"ok":true,"message":"FORGED via journald by uid 1000"}'
} > "$T/user.export"
"$REMOTE" --output="$J/remote.journal" - < "$T/user.export" 2>> "$T/remote.log"

start_journal_collector
start_agent
wait_for 30 "the four journal entries stored" count_is 4
get() { curl -s -H "Authorization: Bearer $TOKEN" "$URL$1"; }
SHARD() { ls "$T"/data/shards/*.db | head -n1; }
no_forgery() {
	get /api/v1/probes | "$PY" -c 'import json, sys
items = json.load(sys.stdin)["items"]
assert not [p for p in items if p["name"] in ("sshd", "innocent-check")], items' || fail "a probe result forged: $(get /api/v1/probes)"
	get /api/v1/hosts | "$PY" -c 'import json, sys
for h in json.load(sys.stdin)["items"]:
    assert h["inventory"].get("os") != "Totally Legit OS" and "team" not in h["labels"], h' ||
		fail "the inventory forged: $(get /api/v1/hosts)"
	[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/api/v1/metrics?name=filesystem.used_pct")" = 404 ] ||
		fail "a metric forged: $(get '/api/v1/metrics?name=filesystem.used_pct')"
	[ "$(sqlite3 "$(SHARD)" "SELECT count(*) FROM dialtest_results")" = 0 ] || fail "a dial test result forged"
}

info "through the agent: kept as log lines, the reserved fields renamed"
no_forgery
get "/api/v1/logs?q=all%20good&kind=log" | "$PY" -c 'import json, sys
it = json.load(sys.stdin)["items"]
assert len(it) == 1, it
f = it[0]["fields"]
assert f["USER_VIGIL_KIND"] == "probe" and f["USER_PROBE_STATUS"] == "ok" and "VIGIL_KIND" not in f, f' ||
	fail "the entry as stored: $(get '/api/v1/logs?q=all%20good')"

info "straight to the collector, as an agent that does not rename would send them: still not acted on"
sed -n '/^__REALTIME_TIMESTAMP=/,/^$/p' "$T/user.export" | grep -v '^__CURSOR\|^__MONOTONIC' |
	sed 's/^_TRANSPORT=journal$/_TRANSPORT=journal\nVIGIL_SOURCE=journal/' > "$T/old-agent.txt"
"$B/nngsend" "tcp://127.0.0.1:$INGEST_PORT" "$T/old-agent.txt" --frame 0123456789abcdef0123456789abcdef 1 4 | grep -q "^stored" ||
	fail "the batch was not stored"
no_forgery

info "a dial test result from an agent, even as its own record: not a dial test result"
printf '__REALTIME_TIMESTAMP=%s\n_HOSTNAME=web-1\nVIGIL_KIND=probe\nPROBE_NAME=innocent-check\nPROBE_TYPE=dialtest\nPROBE_STATUS=ok\nDIALTEST_ID=1\nDIALTEST_OUTCOME=ok\nDIALTEST_RESULT={"id":1,"ok":true}\nMESSAGE=ok\n\n' \
	"$(date +%s000000)" > "$T/dialtest.txt"
"$B/nngsend" "tcp://127.0.0.1:$INGEST_PORT" "$T/dialtest.txt" --frame 0123456789abcdef0123456789abcdef 2 1 | grep -q "^stored" ||
	fail "the batch was not stored"
printf '__REALTIME_TIMESTAMP=%s\n_HOSTNAME=web-1\nVIGIL_KIND=metric\nMETRIC_SET=dialtest\nMETRIC_TEST=innocent-check\nMETRIC_TOTAL_MS=1\n\n' \
	"$(date +%s000000)" > "$T/dialmetric.txt"
"$B/nngsend" "tcp://127.0.0.1:$INGEST_PORT" "$T/dialmetric.txt" --frame 0123456789abcdef0123456789abcdef 3 1 | grep -q "^stored" ||
	fail "the batch was not stored"
no_forgery
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/api/v1/metrics?name=dialtest.total_ms")" = 404 ] ||
	fail "a dial test's latency forged by an agent"

info "a probe result dated 2100 does not stay the probe's state: the next one, dated now, replaces it"
probe_at() { # seq time status
	printf '__REALTIME_TIMESTAMP=%s\n_HOSTNAME=web-1\nVIGIL_KIND=probe\nPROBE_NAME=sshd\nPROBE_TYPE=tcp\nPROBE_STATUS=%s\nMESSAGE=%s\n\n' \
		"$2" "$3" "$3" > "$T/probe-$1.txt"
	"$B/nngsend" "tcp://127.0.0.1:$INGEST_PORT" "$T/probe-$1.txt" --frame 0123456789abcdef0123456789abcdef "$1" 1 |
		grep -q "^stored" || fail "the batch $1 was not stored"
}
probe_at 4 4102444800000000 ok
probe_at 5 "$(date +%s%6N)" critical
state() { get /api/v1/probes | "$PY" -c 'import json,sys
print(" ".join(p["status"] for p in json.load(sys.stdin)["items"] if p["name"] == "sshd"))'; }
has_state() { [ -n "$(state)" ]; }
wait_for 10 "the probe state" has_state
[ "$(state)" = critical ] || fail "the probe is $(state) after a critical result: pinned by the one dated 2100"
[ "$(metric 'vigil_ingest_cut_total{what="future_times"}')" = 1 ] || fail "the future time was not counted"
grep -q "dated more than 5 minutes ahead" "$T/collector.log" || fail "the future time was not logged"
echo ok

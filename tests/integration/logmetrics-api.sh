#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Log metrics defined through the API and vigilctl: made, changed and
# deleted while ingest runs (the next batch feeds what is defined then),
# kept across a restart, refused with a status and the reason when they do
# not hold, when the file has them, or while a rule reads them; only an admin
# changes them; deleting one keeps what was stored readable.
. "$(dirname "$0")/lib.sh"

AGENT=aaaabbbbccccddddeeeeffff00002222
write_collector_conf "[logmetric \"web\"]
query=source:nginx"
ADMIN=$(make_token admin)
VIEWER=$(make_token viewer)
start_collector
ctl() { VIGIL_TOKEN=$ADMIN "$B/vigilctl" --url "$URL" "$@"; }
SEQ=0
# send N STATUS...: N records of each status, dated now, as the next batch.
send() {
	local n=$1
	shift
	SEQ=$((SEQ + 1))
	"$PY" - "$T/batch.txt" "$n" "$@" <<'PYEOF'
import sys, time
now = int(time.time() * 10**6)
with open(sys.argv[1], "w") as f:
    for status in sys.argv[3:]:
        for i in range(int(sys.argv[2])):
            f.write(f"__REALTIME_TIMESTAMP={now - 1000 + i}\n_HOSTNAME=web-1\nVIGIL_SOURCE=nginx\nSTATUS={status}\n"
                    f"ROUTE=/pay\nREQUEST_TIME={100 + i}\nMESSAGE=GET /pay {status}\n\n")
PYEOF
	"$B/nngsend" "tcp://127.0.0.1:$INGEST_PORT" "$T/batch.txt" --frame $AGENT $SEQ $(($# * n)) | grep -q "^stored" ||
		fail "batch $SEQ not stored"
}
SINCE=$(($(date +%s) - 120))
# count METRIC: the records its series counted since the test began.
count() {
	[ "$(api GET "/api/v1/metrics?name=log.$1.count&step=1h&since=$SINCE" "$VIEWER")" = 200 ] || return 1
	"$PY" -c 'import json,sys; print(int(sum(p[1] for s in json.load(open(sys.argv[1]))["series"] for p in s["points"])))' \
		"$T/answer.json"
}

info "vigilctl logmetric add: made at once, with its series' names; the list has the file's and the API's"
ctl logmetric add api_5xx 'query=status:>=500' value=request_time labels=route step=10s > "$T/add.out" ||
	fail "logmetric add: $(cat "$T/add.out")"
grep -q "^api_5xx  *api  *10s request_time  *route status:>=500" "$T/add.out" &&
	grep -q "series: log.api_5xx.count log.api_5xx.rate .* log.api_5xx.p99" "$T/add.out" ||
	fail "logmetric add printed: $(cat "$T/add.out")"
[ "$(api GET /api/v1/logmetrics/api_5xx "$VIEWER")" = 200 ] || fail "GET one: $(cat "$T/answer.json")"
"$PY" - "$T/answer.json" <<'PYEOF' || fail "GET one: $(cat "$T/answer.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["defined_in"] == "api" and d["author"].startswith("t-admin-") and d["labels"] == ["route"], d
assert d["step_ms"] == 10000 and d["value"] == "request_time" and len(d["metrics"]) == 10 and "step" not in d, d
PYEOF
ctl logmetric list > "$T/list.out" || fail "logmetric list"
grep -q "^web  *config  *60s - *- source:nginx" "$T/list.out" && grep -q "^api_5xx  *api" "$T/list.out" ||
	fail "logmetric list: $(cat "$T/list.out")"

[ "$(api GET "/api/v1/metrics?name=log.api_5xx.p99" "$VIEWER")" = 200 ] && grep -q '"series":\[\]' "$T/answer.json" ||
	fail "a defined log metric before its first record: $(cat "$T/answer.json")"

info "the next batch feeds it: 5xx counted, 2xx not"
send 3 200 502 503
[ "$(count api_5xx)" = 6 ] || fail "log.api_5xx.count: $(cat "$T/answer.json")"
[ "$(count web)" = 9 ] || fail "log.web.count: $(cat "$T/answer.json")"

info "refused with a status and the reason; nothing changes"
[ "$(api POST /api/v1/logmetrics "$ADMIN" '{"name":"bad","query":"status:>="}')" = 400 ] &&
	grep -q 'query: 10: expected a number' "$T/answer.json" || fail "a bad query: $(cat "$T/answer.json")"
[ "$(api POST /api/v1/logmetrics "$ADMIN" '{"name":"Bad-Name"}')" = 400 ] &&
	grep -q "name: lower-case letters, digits and '_'" "$T/answer.json" || fail "a bad name: $(cat "$T/answer.json")"
[ "$(api POST /api/v1/logmetrics "$ADMIN" '{"name":"many","labels":["a","b","c","d","e"]}')" = 400 ] &&
	grep -q 'labels: at most 4 fields' "$T/answer.json" || fail "five labels: $(cat "$T/answer.json")"
[ "$(api POST /api/v1/logmetrics "$ADMIN" '{"name":"st","step":"500ms"}')" = 400 ] || fail "step 500ms: $(cat "$T/answer.json")"
[ "$(api POST /api/v1/logmetrics "$ADMIN" '{"name":"web"}')" = 409 ] &&
	grep -q 'defined in the configuration file' "$T/answer.json" || fail "the file's: $(cat "$T/answer.json")"
[ "$(api POST /api/v1/logmetrics "$ADMIN" '{"name":"api_5xx"}')" = 409 ] || fail "taken: $(cat "$T/answer.json")"
[ "$(api POST /api/v1/logmetrics "$VIEWER" '{"name":"mine"}')" = 403 ] || fail "a viewer made one: $(cat "$T/answer.json")"
[ "$(api PUT /api/v1/logmetrics/nothing "$ADMIN" '{}')" = 404 ] || fail "PUT of none: $(cat "$T/answer.json")"
! ctl logmetric add 'x/y' 2> "$T/ctl.err" && grep -q "a name is lower-case" "$T/ctl.err" || fail "vigilctl: $(cat "$T/ctl.err")"
! ctl logmetric add bad2 'query=(' 2> "$T/ctl.err" && grep -q "query: " "$T/ctl.err" ||
	fail "vigilctl bad query: $(cat "$T/ctl.err")"
[ "$(api GET /api/v1/logmetrics "$VIEWER")" = 200 ] &&
	[ "$("$PY" -c 'import json,sys; print(sorted(m["name"] for m in json.load(open(sys.argv[1]))["items"]))' \
		"$T/answer.json")" = "['api_5xx', 'web']" ] || fail "after the refusals: $(cat "$T/answer.json")"

info "vigilctl logmetric set: the next batch is counted by the new query"
ctl logmetric set api_5xx 'query=status:>=400' value=request_time labels=route > /dev/null || fail "logmetric set"
send 2 404 200
[ "$(count api_5xx)" = 8 ] || fail "after set: $(cat "$T/answer.json")"

info "kept across a restart"
stop_collector
start_collector
ctl logmetric show api_5xx > "$T/show.out" && grep -q "status:>=400" "$T/show.out" || fail "after the restart: $(cat "$T/show.out")"
send 1 500
[ "$(count api_5xx)" = 9 ] || fail "fed after the restart: $(cat "$T/answer.json")"

info "not deleted while a rule reads it; deleted, what it stored stays readable"
[ "$(api POST /api/v1/rules "$ADMIN" '{"name":"pay-slow","type":"metric","metric":"log.api_5xx.p99","above":"500"}')" = 201 ] ||
	fail "the rule: $(cat "$T/answer.json")"
[ "$(api DELETE /api/v1/logmetrics/api_5xx "$ADMIN")" = 409 ] &&
	grep -q 'rule \\"pay-slow\\"\] reads \[logmetric \\"api_5xx\\"\]' "$T/answer.json" || fail "deleted under a rule: $(cat "$T/answer.json")"
[ "$(api DELETE /api/v1/rules/pay-slow "$ADMIN")" = 200 ] || fail "the rule's delete: $(cat "$T/answer.json")"
ctl logmetric delete api_5xx || fail "logmetric delete"
[ "$(api GET /api/v1/logmetrics/api_5xx "$VIEWER")" = 404 ] || fail "still there: $(cat "$T/answer.json")"
send 1 500
[ "$(count web)" = 15 ] || fail "log.web.count: $(cat "$T/answer.json")"
[ "$(count api_5xx)" = 9 ] || fail "what api_5xx stored: $(cat "$T/answer.json")"
[ "$(api DELETE /api/v1/logmetrics/web "$ADMIN")" = 409 ] || fail "deleted the file's: $(cat "$T/answer.json")"

info "the audit log has each change, by whom"
SECURITY=$(make_token security)
[ "$(api GET "/api/v1/audit?action=logmetric.create" "$SECURITY")" = 200 ] &&
	grep -q '"log metric api_5xx defined"' "$T/answer.json" || fail "the audit log: $(cat "$T/answer.json")"
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Silences in the database two collectors share (alerts/pgsilences.c): one
# made through A holds for the alert B raises for the host whose agent
# sends to B (it fires, is recorded, is not told: by whichever of the two
# evaluates); B lists it; ended through B, A lists it as over and the
# alert is told once. The database out of reach: the silences API is 503,
# not an empty list, and no collector evaluates until it is back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
SVC_PORT=$(free_port)
RCV_PORT=$(free_port)
start_receiver ok unused
pg_start
pg_collectors_conf "$(svc_rule)"
TOKEN=$(make_token operator)
start_collector
start_collector_b
AGENT_ADDR="tcp://127.0.0.1:$PORT_B" AGENT_HEARTBEAT=1s write_agent_conf "$(svc_probe)"
serve
start_agent
probe_ok() { curl -s -H "Authorization: Bearer $TOKEN" "$URL_B/api/v1/probes" | grep -q '"status":"ok"'; }
wait_for 20 "the probe ok" probe_ok

told() { # event
	"$PY" -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["body"]["event"] == sys.argv[2]))' "$T/received.jsonl" "$1"
}
on() { # url method path [body]: the status; the answer in $T/on.json
	curl -s -o "$T/on.json" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $TOKEN" ${4:+--data "$4"} "$1$3"
}

info "a silence made through A is listed by B"
[ "$(on "$URL_A" POST /api/v1/silences '{"matchers":{"host":"testhost"},"comment":"maintenance, ask li.na","duration":"1h"}')" = 201 ] ||
	fail "silence on A: $(cat "$T/on.json")"
SID=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/on.json")
[ "$(on "$URL_B" GET /api/v1/silences)" = 200 ] || fail "B's silences: $(cat "$T/on.json")"
"$PY" -c 'import json,sys; s = json.load(open(sys.argv[1]))["items"]
assert len(s) == 1 and s[0]["id"] == int(sys.argv[2]) and s[0]["active"] and s[0]["comment"] == "maintenance, ask li.na", s' \
	"$T/on.json" "$SID" || fail "B's silences: $(cat "$T/on.json")"

info "B's alert for the host is silenced: recorded, not told"
kill "$SVC_PID"
silenced_firing() { on "$URL_B" GET "/api/v1/alerts?state=firing" > /dev/null && grep -q '"silenced":true' "$T/on.json"; }
wait_for 20 "B's alert firing, silenced" silenced_firing
sleep 3
[ "$(told fired)" = 0 ] || fail "a silenced alert was told"

info "ended through B: over on A too, and the alert is told once"
[ "$(on "$URL_B" DELETE "/api/v1/silences/$SID")" = 200 ] || fail "DELETE on B: $(cat "$T/on.json")"
[ "$(on "$URL_A" DELETE "/api/v1/silences/$SID")" = 404 ] || fail "ended again on A: $(cat "$T/on.json")"
[ "$(on "$URL_A" GET /api/v1/silences)" = 200 ] && grep -q '"items":\[\]' "$T/on.json" || fail "A still lists it: $(cat "$T/on.json")"
told_once() { [ "$(told fired)" = 1 ]; }
wait_for 20 "fired told" told_once

info "the database stopped: 503 for the silences, not an empty list"
pg_halt
[ "$(on "$URL_A" GET /api/v1/silences)" = 503 ] || fail "silences with the database down: $(cat "$T/on.json")"
[ "$(on "$URL_B" POST /api/v1/silences '{"matchers":{"host":"x"},"comment":"c","duration":"1h"}')" = 503 ] ||
	fail "a silence made with the database down: $(cat "$T/on.json")"
evaluations() { # of the two collectors, each counting those it made
	echo $(($(URL=$URL_A metric vigil_alert_evaluations_total) + $(URL=$URL_B metric vigil_alert_evaluations_total)))
}
wait_for 10 "the evaluator says it" grep -q "alerting: cannot tell which collector does this work" \
	"$T/collector.log" "$T/collector-b.log"
pg_resume
EVALUATIONS=$(evaluations)
evaluating_again() { [ "$(evaluations)" -ge $((EVALUATIONS + 2)) ]; }
wait_for 20 "one of them evaluating again" evaluating_again
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Alerts raised once among two collectors on one database
# (alerts/pgalerts.c, the leases of store/pglease.c): one evaluates and one
# sends (the first to take each lease), the other stands by. A failing
# probe's alert is pending on the leader when the leader is killed (-9):
# the other takes over within seconds and fires that same alert, told
# once. Restarted, the first stands by; an ack through it is the alert's
# on both. Then the second is killed and the service comes back: the first
# resolves the alert, told once. One alert in all, each change told once
# (each notification its own id), the events' cursor through all of it
# without a gap or a repeat. The database stopped: 503, and the evaluation
# waits for it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
SVC_PORT=$(free_port)
RCV_PORT=$(free_port)
start_receiver ok unused
pg_start
pg_collectors_conf "$(svc_rule 'for=5s')"
TOKEN=$(make_token operator)
start_collectors_a_leading
wait_for 10 "A sends" grep -q "notify: this collector .* does this work now" "$T/collector.log"
wait_for 10 "B does not send" grep -q "notify: another collector does this work" "$T/collector-b.log"
AGENT_ADDR="tcp://127.0.0.1:$INGEST_PORT tcp://127.0.0.1:$PORT_B" AGENT_HEARTBEAT=1s write_agent_conf "$(svc_probe)"
serve
start_agent

on() { # url method path [body]: the status; the answer in $T/on.json
	curl -s -o "$T/on.json" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $TOKEN" ${4:+--data "$4"} "$1$3"
}
alerts_are() { # url state: one alert, in state, listed by url's collector; its id into $T/id
	[ "$(on "$1" GET "/api/v1/alerts?state=$2")" = 200 ] && "$PY" -c 'import json, sys
a = json.load(open(sys.argv[1]))
assert a["total"] == 1, a
open(sys.argv[2], "w").write(str(a["items"][0]["id"]))' "$T/on.json" "$T/id" 2> /dev/null
}
told() { # event
	"$PY" -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["body"]["event"] == sys.argv[2]))' "$T/received.jsonl" "$1"
}
probe_ok() { on "$URL_B" GET /api/v1/probes > /dev/null && grep -q '"status":"ok"' "$T/on.json"; }
wait_for 20 "the probe ok" probe_ok

info "the probe fails: the alert pending on A, listed by B"
kill "$SVC_PID"
wait_for 20 "pending, seen through B" alerts_are "$URL_B" pending
ID=$(cat "$T/id")

info "A killed while it is pending: B takes over and fires that alert, told once"
stop_collector KILL
wait_for 15 "B evaluates" grep -q "alerting: this collector .* does this work now" "$T/collector-b.log"
wait_for 15 "firing, through B" alerts_are "$URL_B" firing
[ "$(cat "$T/id")" = "$ID" ] || fail "B fired alert $(cat "$T/id"), not the pending $ID"
told_fired() { [ "$(told fired)" = 1 ]; }
wait_for 15 "fired told" told_fired
grep -q "notify: this collector .* does this work now" "$T/collector-b.log" || fail "B did not take the sending over"
[ "$(on "$URL_B" GET "/api/v1/alerts?state=closed")" = 200 ] && grep -q '"total":0' "$T/on.json" ||
	fail "closed alerts: $(cat "$T/on.json")"

info "A restarted stands by; an ack through A is the alert's on B"
start_collector
wait_for 10 "A stands by" grep -q "alerting: another collector does this work" "$T/collector.log"
[ "$(on "$URL_A" POST "/api/v1/alerts/$ID/ack" '{"note":"looking at it"}')" = 200 ] || fail "ack on A: $(cat "$T/on.json")"
[ "$(on "$URL_B" GET "/api/v1/alerts/$ID")" = 200 ] && "$PY" -c 'import json, sys
a = json.load(open(sys.argv[1]))
assert a["acked_by"], a
assert [h for h in a["history"] if h["action"] == "ack" and h["note"] == "looking at it"], a["history"]
assert [d for d in a["deliveries"] if d["event"] == "fired" and d["state"] == "sent"], a["deliveries"]' "$T/on.json" ||
	fail "the alert on B: $(cat "$T/on.json")"

info "B killed, the service back: A resolves the alert, told once"
kill -KILL "$PID_B"
wait "$PID_B" 2> /dev/null || true
serve
wait_for 20 "resolved, through A" alerts_are "$URL_A" resolved
[ "$(cat "$T/id")" = "$ID" ] || fail "A resolved alert $(cat "$T/id"), not $ID"
told_resolved() { [ "$(told resolved)" = 1 ]; }
wait_for 15 "resolved told" told_resolved
sleep 3
[ "$(told fired)" = 1 ] && [ "$(told resolved)" = 1 ] || fail "told: $(cat "$T/received.jsonl")"
"$PY" -c 'import json, sys
ids = [json.loads(l)["id"] for l in open(sys.argv[1])]
assert len(ids) == len(set(ids)), ids' "$T/received.jsonl" || fail "a notification was sent twice: $(cat "$T/received.jsonl")"

info "the filters, in the database's SQL"
filter_gives() { # query count
	[ "$(on "$URL_A" GET "/api/v1/alerts?$1")" = 200 ] && grep -q "\"total\":$2" "$T/on.json"
}
filter_gives "state=resolved&q=SVC-WEB" 1 || fail "q (case): $(cat "$T/on.json")"
filter_gives "state=resolved&q=svc_web" 0 || fail "q (_ is itself): $(cat "$T/on.json")"
filter_gives "state=resolved&label=probe=svc-web" 1 || fail "label: $(cat "$T/on.json")"
filter_gives "state=resolved&label=probe=svc-db" 0 || fail "another label: $(cat "$T/on.json")"
filter_gives "state=resolved&host=testhost&unacked=1" 0 || fail "unacked: $(cat "$T/on.json")"
filter_gives "state=resolved&assignee=-" 1 || fail "nobody's: $(cat "$T/on.json")"

info "the events' cursor through A: each once, in order"
[ "$(on "$URL_A" GET "/api/v1/alerts/events?cursor=0&limit=1000")" = 200 ] || fail "events: $(cat "$T/on.json")"
"$PY" -c 'import json, sys
e = json.load(open(sys.argv[1]))["items"]
ids = [x["id"] for x in e]
assert ids == sorted(set(ids)), ids
acts = [x["action"] for x in e if x["alert"] == int(sys.argv[2])]
for a in ("pending", "fired", "ack", "notified", "resolved"):
    assert a in acts, (a, acts)
assert acts.count("fired") == 1 and acts.count("resolved") == 1, acts' "$T/on.json" "$ID" ||
	fail "events: $(cat "$T/on.json")"

info "the database stopped: 503 for the alerts, not an empty list, and back"
leads_a() { grep -c "alerting: this collector .* does this work now" "$T/collector.log"; }
LEADS_A=$(leads_a)
pg_halt
[ "$(on "$URL_A" GET /api/v1/alerts)" = 503 ] || fail "alerts with the database down: $(cat "$T/on.json")"
[ "$(on "$URL_A" GET "/api/v1/alerts/$ID")" = 503 ] || fail "the alert with the database down: $(cat "$T/on.json")"
wait_for 10 "A says it" grep -q "alerting: cannot tell which collector does this work" "$T/collector.log"
pg_resume
evaluating_again() { [ "$(leads_a)" -gt "$LEADS_A" ]; }
wait_for 20 "A evaluating again" evaluating_again
alerts_are "$URL_A" resolved || fail "after the restart: $(cat "$T/on.json")"
echo ok

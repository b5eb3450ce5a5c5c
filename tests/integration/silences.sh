#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Silences: created by an operator with matchers and a required comment; an
# alert they match still fires and is recorded but is not told; when the
# silence ends it is told once (still firing, or resolved meanwhile); ended
# silences stay on record; every change is in the audit log.
. "$(dirname "$0")/lib.sh"

SVC_PORT=$(free_port)
RCV_PORT=$(free_port)
start_receiver ok unused

write_collector_conf "$(svc_rule)"
AGENT_HEARTBEAT=1s write_agent_conf "$(svc_probe)"
TOKEN=$(make_token operator)
VIEWER=$(make_token viewer)
serve
start_collector
start_agent
probe_ok() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/probes" | grep -q '"status":"ok"'; }
wait_for 20 "the probe ok" probe_ok

silence() { # body [token]
	curl -s -o "$T/silence.json" -w '%{http_code}' -X POST -H "Authorization: Bearer ${2:-$TOKEN}" \
		--data "$1" "$URL/api/v1/silences"
}
told() { # event
	"$PY" -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["body"]["event"] == sys.argv[2]))' "$T/received.jsonl" "$1"
}
alert_field() { # python expression on the alert
	curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts?state=$1" |
		"$PY" -c "import json,sys; d=json.load(sys.stdin)['items']; print($2)"
}

info "a silence needs matchers, a comment and an end; a viewer may not make one"
[ "$(silence '{"matchers":{"probe":"svc-web"},"duration":"1h"}')" = 400 ] || fail "no comment accepted"
grep -q 'comment: required' "$T/silence.json" || fail "$(cat "$T/silence.json")"
[ "$(silence '{"matchers":{},"comment":"x","duration":"1h"}')" = 400 ] || fail "no matchers accepted"
[ "$(silence '{"matchers":{"probe":"svc-web"},"comment":"x","duration":"soon"}')" = 400 ] || fail "bad duration"
[ "$(silence '{"matchers":{"probe":"svc-web"},"comment":"x"}')" = 400 ] || fail "no end accepted"
[ "$(silence '{"matchers":{"probe":"svc-web"},"comment":"x","duration":"1h"}' "$VIEWER")" = 403 ] ||
	fail "a viewer made a silence"

info "a silenced alert fires, is recorded, and is not told"
[ "$(silence '{"matchers":{"probe":"svc-web","host":"testhost"},"comment":"maintenance, ask alice","duration":"1h"}')" = 201 ] ||
	fail "silence: $(cat "$T/silence.json")"
"$PY" - "$T/silence.json" <<'PYEOF' || fail "silence: $(cat "$T/silence.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["active"] and s["creator"].startswith("t-operator-") and s["comment"] == "maintenance, ask alice", s
assert s["matchers"] == {"probe": "svc-web", "host": "testhost"} and s["ends"] - s["starts"] == 3600 * 10**6, s
PYEOF
SID=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/silence.json")
kill "$SVC_PID"
silenced_firing() { [ "$(alert_field firing 'len([a for a in d if a["silenced"]])')" = 1 ]; }
wait_for 20 "a silenced alert firing" silenced_firing
sleep 3
[ "$(told fired)" = 0 ] || fail "a silenced alert was told"

info "the silence ends: the alert is told once"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $TOKEN" "$URL/api/v1/silences/$SID")
[ "$code" = 200 ] || fail "DELETE silence: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $TOKEN" "$URL/api/v1/silences/$SID")
[ "$code" = 404 ] || fail "ending an ended silence: $code"
told_once() { [ "$(told "$1")" = 1 ]; }
wait_for 20 "fired told" told_once fired
[ "$(alert_field firing 'd[0]["silenced"]')" = False ] || fail "still silenced"
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/silences" | grep -q '"items":\[\]' ||
	fail "an ended silence listed as current"
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/silences?all=1" | grep -q '"active":false' ||
	fail "the ended silence is not on record"

info "resolved during a silence: the resolution is told when it ends"
[ "$(silence '{"matchers":{"rule":"svc-down"},"comment":"known, fixing","duration":"1h"}')" = 201 ] ||
	fail "silence by rule: $(cat "$T/silence.json")"
SID=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/silence.json")
serve
resolved() { [ "$(alert_field resolved 'len(d)')" = 1 ]; }
wait_for 20 "resolved" resolved
sleep 2
[ "$(told resolved)" = 0 ] || fail "a silenced resolution was told"
curl -s -o /dev/null -X DELETE -H "Authorization: Bearer $TOKEN" "$URL/api/v1/silences/$SID"
wait_for 20 "resolved told" told_once resolved
sleep 2
[ "$(told fired)" = 1 ] && [ "$(told resolved)" = 1 ] || fail "told $(told fired) fired, $(told resolved) resolved"
ID=$(alert_field resolved 'd[0]["id"]')
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts/$ID" | "$PY" -c 'import json, sys
acts = [e["action"] for e in json.load(sys.stdin)["history"]]
assert acts.count("silenced") == 2 and acts.count("unsilenced") == 2, acts' || fail "history"

info "a maintenance window recurs: in force for its first 6 s, then again an hour on"
[ "$(silence '{"matchers":{"rule":"svc-down"},"comment":"x","duration":"2h","every":"1h"}')" = 400 ] &&
	grep -q 'each window must end before the next starts' "$T/silence.json" || fail "overlapping windows: $(cat "$T/silence.json")"
[ "$(silence '{"matchers":{"rule":"svc-down"},"comment":"x","duration":"1h","until":"2030-01-01T00:00:00Z"}')" = 400 ] ||
	fail "until without every accepted"
later=$(($(date +%s) + 2 * 86400))
[ "$(silence "{\"matchers\":{\"rule\":\"svc-down\"},\"comment\":\"from the day after tomorrow\",\"starts\":\"$later\",\"duration\":\"2h\",\"every\":\"7d\"}")" = 201 ] ||
	fail "a window to come refused: $(cat "$T/silence.json")"
"$PY" -c 'import json, sys
s = json.load(open(sys.argv[1]))
assert not s["active"] and s["until"] - s["starts"] == 366 * 86400 * 10**6, s' "$T/silence.json" || fail "$(cat "$T/silence.json")"
curl -s -o /dev/null -X DELETE -H "Authorization: Bearer $TOKEN" \
	"$URL/api/v1/silences/$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/silence.json")"
[ "$(silence "{\"matchers\":{\"rule\":\"svc-down\"},\"comment\":\"x\",\"starts\":\"$later\",\"duration\":\"2h\",\"every\":\"7d\",\"until\":\"$((later + 400 * 86400))\"}")" = 400 ] &&
	grep -q "within a year of it" "$T/silence.json" || fail "until past a year accepted: $(cat "$T/silence.json")"
[ "$(silence '{"matchers":{"rule":"svc-down"},"comment":"weekly patching, ask bob","duration":"6s","every":"1h"}')" = 201 ] ||
	fail "maintenance window: $(cat "$T/silence.json")"
"$PY" - "$T/silence.json" <<'PYEOF' || fail "window: $(cat "$T/silence.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["active"] and s["every"] == 3600 and s["next_start"] == s["starts"], s
assert s["until"] - s["starts"] == 366 * 86400 * 10**6, s
PYEOF
FIRED=$(told fired)
kill "$SVC_PID"
silenced_again() { [ "$(alert_field firing 'len([a for a in d if a["silenced"]])')" = 1 ]; }
wait_for 20 "firing within the window, silenced" silenced_again
[ "$(told fired)" = "$FIRED" ] || fail "told within the maintenance window"
told_after_window() { [ "$(told fired)" -gt "$FIRED" ]; }
wait_for 20 "told once the window is over" told_after_window
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/silences" | "$PY" -c 'import json, sys
s = json.load(sys.stdin)["items"][0]
assert not s["active"] and s["next_start"] == s["starts"] + 3600 * 10**6, s' || fail "the next window"

info "vigilctl adds, lists and ends a silence"
ctl() { VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" "$@"; }
ctl silence add rule=nothing-yet host=testhost -m "nightly backup" --duration 30m --every 1d > "$T/ctl.out" ||
	fail "vigilctl silence add: $(cat "$T/ctl.out")"
CID=$(awk '{ print $1 }' "$T/ctl.out")
ctl silence list | grep -qE "^$CID +yes +.* every 86400s +t-operator-[0-9]+ +\{\"host\":\"testhost\",\"rule\":\"nothing-yet\"\}  nightly backup" ||
	fail "vigilctl silence list: $(ctl silence list)"
if ctl silence add rule=x --duration 1h 2> "$T/ctl.err"; then fail "a silence without a comment"; fi
grep -q "HTTP 400: comment: required" "$T/ctl.err" || fail "$(cat "$T/ctl.err")"
ctl silence expire "$CID" | grep -q "silence $CID ended" || fail "vigilctl silence expire"
ctl silence list | grep -qE "^$CID " && fail "an ended silence still listed"
ctl silence list --all | grep -qE "^$CID +no " || fail "vigilctl silence list --all: $(ctl silence list --all)"

info "silences in the audit log"
SEC=$(make_token security)
curl -s -H "Authorization: Bearer $SEC" "$URL/api/v1/audit?limit=1000" | "$PY" -c 'import json, sys
rows = json.load(sys.stdin)["items"]
acts = [(r["action"], r["outcome"]) for r in rows]
assert acts.count(("silence.create", "success")) == 5 and ("silence.create", "failure") in acts, acts
assert acts.count(("silence.expire", "success")) == 4, acts' || fail "audit"
echo ok

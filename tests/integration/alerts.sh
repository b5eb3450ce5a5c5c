#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Alert rules on a real collector and agent: a metric above a threshold
# fires, one that cannot be crossed does not; a service's probe fails twice
# in a row and one alert fires (severity, labels, summary from the rule);
# ops staff acknowledge, assign, comment and change its severity (a viewer
# may not; every action is in its history and in the audit log); recovery
# resolves it and clears the acknowledgement; a new failure reopens the
# same alert; the agent going silent fires a host alert and suppresses the
# probe's; a closed alert takes comments only.
. "$(dirname "$0")/lib.sh"

SVC_PORT=$(free_port)

info "a bad rule is refused with file:line"
printf '[rule "w"]\ntype=bogus\n[rule "x"]\ntype=log\n[rule "y"]\ntype=probe\nsilent_for=1m\nseverity=urgent\n[rule "z"]\ntype=metric\nmetric=cpu.user_pct\nabove=ninety\n[rule "l"]\ntype=lockout\npattern=x\n' > "$T/bad.conf"
if "$B/vigil-collector" --config "$T/bad.conf" --check-config 2> "$T/bad.err"; then fail "bad rules accepted"; fi
grep -q 'bad.conf:2: \[rule "w"\] type=bogus: expected probe, host_silent, metric, log, dialtest, agent_conflict, lockout or forward_lag' "$T/bad.err" ||
	fail "$(cat "$T/bad.err")"
grep -q 'bad.conf:4: \[rule "x"\]: type=log needs pattern=' "$T/bad.err" || fail "$(cat "$T/bad.err")"
grep -q 'bad.conf:10: \[rule "z"\] above=ninety: expected a number' "$T/bad.err" || fail "$(cat "$T/bad.err")"
grep -q 'bad.conf:6: \[rule "y"\] severity=urgent: expected' "$T/bad.err" || fail "$(cat "$T/bad.err")"
grep -q 'bad.conf:6: \[rule "y"\]: silent_for= applies to type=host_silent' "$T/bad.err" || fail "$(cat "$T/bad.err")"
grep -q 'bad.conf:14: \[rule "l"\]: pattern=, unit=, source= apply to type=log' "$T/bad.err" || fail "$(cat "$T/bad.err")"

write_collector_conf "[hosts]
silent_after=3s
[alerts]
interval=1s
[rule \"svc-down\"]
type=probe
probe=svc-*
consecutive=2
severity=critical
labels=team=ops zone=gov-a
summary={{probe}} down on {{host}} ({{value}}), team {{team}}
clear_ack_on_recovery=yes
[rule \"host-gone\"]
type=host_silent
silent_for=3s
severity=disaster
[rule \"memory-used\"]
type=metric
metric=memory.used_pct
above=0.001
recover=0
[rule \"memory-never\"]
type=metric
metric=memory.used_pct
below=-1"
AGENT_HEARTBEAT=1s AGENT_METRICS=yes write_agent_conf "[metrics]
interval=1s
$(svc_probe)"
TOKEN=$(make_token operator)
VIEWER=$(make_token viewer)
serve
start_collector
start_agent

alerts() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts$1"; }
field() { # json-path-in-python alert-query
	alerts "$2" | "$PY" -c "import json,sys; d=json.load(sys.stdin)['items']; print($1)"
}
post() { # id action body [token]
	curl -s -o "$T/post.json" -w '%{http_code}' -X POST -H "Authorization: Bearer ${4:-$TOKEN}" \
		-H 'Content-Type: application/json' --data "$3" "$URL/api/v1/alerts/$1/$2"
}
probe_ok() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/probes" | grep -q '"status":"ok"'; }
wait_for 20 "the probe ok" probe_ok
info "a metric rule: memory in use above 0.001 % fires, below -1 % never does"
metric_firing() { [ "$(field 'len([a for a in d if a["rule"] == "memory-used" and a["state"] == "firing"])' "")" = 1 ]; }
wait_for 20 "the metric alert firing" metric_firing
alerts "?state=firing" | "$PY" -c 'import json, sys
(a,) = [a for a in json.load(sys.stdin)["items"] if a["rule"] == "memory-used"]
assert a["labels"] == {"host": "testhost", "instance": ""} or a["labels"] == {"host": "testhost"}, a
assert a["value"].startswith("memory.used_pct = ") and float(a["value"].split("= ")[1]) > 0.001, a' ||
	fail "metric alert: $(alerts "?state=firing")"
[ "$(field 'len([a for a in d if a["rule"] == "memory-never"])' "")" = 0 ] || fail "memory-never fired"
[ "$(field 'len([a for a in d if a["rule"] != "memory-used"])' "")" = 0 ] || fail "alerts while all is well: $(alerts "")"

info "the service goes down: one alert fires"
kill "$SVC_PID"
firing() { [ "$(field 'len([a for a in d if a["rule"] == "svc-down"])' "?state=firing")" = 1 ]; }
wait_for 20 "the alert firing" firing
alerts "?state=firing" > "$T/firing.json"
"$PY" - "$T/firing.json" <<'PYEOF' || fail "alert: $(cat "$T/firing.json")"
import json, sys
(a,) = [a for a in json.load(open(sys.argv[1]))["items"] if a["rule"] == "svc-down"]
for k in ("id", "rule", "state", "severity", "host", "labels", "summary", "started", "acked_by", "assignee"):
    assert k in a, k
assert a["rule"] == "svc-down" and a["severity"] == "critical" and a["host"] == "testhost", a
assert a["labels"] == {"host": "testhost", "probe": "svc-web", "team": "ops", "zone": "gov-a"}, a["labels"]
assert a["summary"].startswith("svc-web down on testhost (critical: connect to 127.0.0.1:") and a["summary"].endswith("team ops"), a
assert a["acked_by"] is None and a["assignee"] is None and a["started"] > 0, a
PYEOF
ID=$(field '[a["id"] for a in d if a["rule"] == "svc-down"][0]' "?state=firing")
[ "$(field 'len(d)' "?label=team=ops")" = 1 ] || fail "label filter"
[ "$(field 'len(d)' "?label=team=dev")" = 0 ] || fail "label filter matches another value"
[ "$(field 'len(d)' "?severity=info")" = 0 ] || fail "severity filter"
[ "$(field 'len([a for a in d if a["rule"] != "memory-used"])' "?severity=warning")" = 0 ] || fail "severity filter"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts?state=bogus")
[ "$code" = 400 ] || fail "bad state filter: $code"

info "ops actions: ack, assign, comment, severity; a viewer may not"
[ "$(post "$ID" ack '{"note":"looking"}' "$VIEWER")" = 403 ] || fail "viewer acked: $(cat "$T/post.json")"
[ "$(post "$ID" ack '{"note":"looking into it"}')" = 200 ] || fail "ack: $(cat "$T/post.json")"
grep -q '"acked_by":"t-operator-' "$T/post.json" || fail "ack not shown: $(cat "$T/post.json")"
[ "$(post "$ID" assign '{"to":"db-team","note":"disk"}')" = 200 ] || fail "assign: $(cat "$T/post.json")"
[ "$(post "$ID" comment '{"note":"restarted by hand"}')" = 200 ] || fail "comment: $(cat "$T/post.json")"
[ "$(post "$ID" severity '{"severity":"disaster"}')" = 200 ] || fail "severity: $(cat "$T/post.json")"
[ "$(post "$ID" severity '{"severity":"urgent"}')" = 400 ] || fail "bad severity accepted"
[ "$(post "$ID" assign '{}')" = 400 ] || fail "assign without to accepted"
[ "$(post "$ID" dance '{}')" = 400 ] || fail "unknown action accepted"
[ "$(post "$ID" ack 'not json')" = 400 ] || fail "bad body accepted"
[ "$(post 999999 ack '{}')" = 404 ] || fail "unknown alert: $(cat "$T/post.json")"
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts/$ID" > "$T/one.json"
"$PY" - "$T/one.json" <<'PYEOF' || fail "history: $(cat "$T/one.json")"
import json, sys
a = json.load(open(sys.argv[1]))
assert a["assignee"] == "db-team" and a["severity"] == "disaster", a
h = [(e["actor"], e["action"], e["note"]) for e in a["history"]]
acts = [x[1] for x in h]
assert acts[:2] == ["pending", "fired"] and h[0][0] == "vigil", h
ops = [x for x in h if x[0].startswith("t-operator-")]
assert [x[1:] for x in ops] == [("ack", "looking into it"), ("assign", "db-team: disk"),
                                ("comment", "restarted by hand"), ("severity", "disaster")], ops
for e in a["history"]:
    assert set(e) == {"ts", "actor", "action", "note"} and e["ts"] > 0, e
PYEOF

info "filters the API applies over every alert: assignee, unacknowledged, text"
svc() { field 'len([a for a in d if a["rule"] == "svc-down"])' "$1"; }
[ "$(svc "?assignee=db-team")" = 1 ] || fail "assignee filter"
[ "$(svc "?assignee=web-team")" = 0 ] || fail "assignee filter matches another"
[ "$(svc "?assignee=-")" = 0 ] || fail "the unassigned filter matches an assigned alert"
[ "$(field 'len([a for a in d if a["assignee"]])' "?assignee=-")" = 0 ] || fail "unassigned filter"
[ "$(field 'len(d)' "?assignee=-")" -ge 1 ] || fail "the unassigned filter finds nothing (memory-used is nobody's)"
[ "$(svc "?unacked=1")" = 0 ] || fail "an acknowledged alert in the unacknowledged"
[ "$(svc "?unacked=0")" = 1 ] || fail "unacked=0 filters"
[ "$(svc "?q=SVC-WEB%20Down%20on")" = 1 ] || fail "text filter (case-insensitive)"
[ "$(svc "?q=DB-TEAM")" = 1 ] || fail "text filter over the assignee"
[ "$(svc "?q=svc_web")" = 0 ] || fail "text filter: '_' matched any character"
[ "$(field 'len(d)' "?q=%25")" = 0 ] || fail "text filter: '%' matched anything"
code=$(curl -s -o "$T/bad.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts?unacked=yes")
[ "$code" = 400 ] && grep -q "unacked: expected 0 or 1" "$T/bad.json" || fail "bad unacked: $code $(cat "$T/bad.json")"
code=$(curl -s -o "$T/bad.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	"$URL/api/v1/alerts?q=$(head -c 257 /dev/zero | tr '\0' x)")
[ "$code" = 400 ] && grep -q "q: longer than 256 bytes" "$T/bad.json" || fail "long q: $code $(cat "$T/bad.json")"

info "vigilctl lists alerts, shows one, and acts on it"
VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" alerts --state firing > "$T/ctl-alerts.out"
grep -qE "^$ID +firing +disaster +testhost +svc-down +t-operator-[0-9]+ +svc-web down on testhost" "$T/ctl-alerts.out" ||
	fail "vigilctl alerts: $(cat "$T/ctl-alerts.out")"
VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" alerts --assignee db-team -q 'SVC-WEB' > "$T/ctl-mine.out"
grep -qE "^$ID +firing" "$T/ctl-mine.out" && [ "$(grep -c firing "$T/ctl-mine.out")" = 1 ] ||
	fail "vigilctl alerts --assignee -q: $(cat "$T/ctl-mine.out")"
VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" alerts --unacked > "$T/ctl-unacked.out"
grep -qE "^$ID " "$T/ctl-unacked.out" && fail "vigilctl alerts --unacked lists the acknowledged $ID"
grep -q "memory-used" "$T/ctl-unacked.out" || fail "vigilctl alerts --unacked: $(cat "$T/ctl-unacked.out")"
VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" alert "$ID" comment --note "from the command line" > "$T/ctl-alert.out" ||
	fail "vigilctl alert comment: $(cat "$T/ctl-alert.out")"
grep -qE "t-operator-[0-9]+ +comment +from the command line" "$T/ctl-alert.out" || fail "$(cat "$T/ctl-alert.out")"
if VIGIL_TOKEN=$VIEWER "$B/vigilctl" --url "$URL" alert "$ID" ack 2> "$T/ctl-err.out"; then fail "viewer acked"; fi
grep -q "HTTP 403: POST /api/v1/alerts/ needs the role operator or admin" "$T/ctl-err.out" || fail "$(cat "$T/ctl-err.out")"
ctl() { VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" "$@"; }
ctl unack "$ID" > /dev/null || fail "vigilctl unack"
ctl ack "$ID" -m "on it again" > /dev/null || fail "vigilctl ack"
ctl assign "$ID" carol -m "her shift" > /dev/null || fail "vigilctl assign"
ctl comment "$ID" -m "disk replaced" > "$T/ctl-alert.out" || fail "vigilctl comment"
grep -qE "acked by t-operator-[0-9]+, assigned to carol" "$T/ctl-alert.out" || fail "$(cat "$T/ctl-alert.out")"
for want in "unack" "ack +on it again" "assign +carol: her shift" "comment +disk replaced"; do
	grep -qE "t-operator-[0-9]+ +$want" "$T/ctl-alert.out" || fail "no '$want': $(cat "$T/ctl-alert.out")"
done
if ctl comment "$ID" 2> "$T/ctl-err.out"; then fail "a comment without a note"; fi
grep -q "HTTP 400" "$T/ctl-err.out" || fail "$(cat "$T/ctl-err.out")"
ctl rules | grep -qE "^svc-down +probe +critical +config +-$" || fail "vigilctl rules: $(ctl rules)"

info "recovery resolves and clears the acknowledgement; a new failure reopens the same alert"
serve
state_is() { [ "$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts/$ID" |
	"$PY" -c 'import json,sys; print(json.load(sys.stdin)["state"])')" = "$1" ]; }
wait_for 20 "resolved" state_is resolved
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts/$ID" | grep -q '"acked_by":null' ||
	fail "acknowledgement not cleared"
kill "$SVC_PID"
wait_for 20 "firing again" state_is firing
[ "$(field 'len([a for a in d if a["rule"] == "svc-down"])' "")" = 1 ] || fail "a second alert was opened: $(alerts "")"

info "the agent goes silent: a host alert fires, the probe's alert is suppressed"
stop_agent KILL
host_firing() { [ "$(field 'len([a for a in d if a["rule"] == "host-gone"])' "?state=firing")" = 1 ]; }
wait_for 20 "host alert" host_firing
suppressed() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts/$ID" | grep -q '"suppressed":true'; }
wait_for 10 "probe alert suppressed" suppressed
metric_suppressed() { field '[a["suppressed"] for a in d if a["rule"] == "memory-used"][0]' "" | grep -qx True; }
wait_for 10 "metric alert suppressed" metric_suppressed
HID=$(field '[a["id"] for a in d if a["rule"] == "host-gone"][0]' "?state=firing")
field '[a for a in d if a["id"] == '"$HID"'][0]["severity"]' "" | grep -qx disaster || fail "host alert severity"

info "close: then only comments"
[ "$(post "$HID" close '{"note":"decommissioned"}')" = 200 ] || fail "close: $(cat "$T/post.json")"
grep -q '"state":"closed"' "$T/post.json" || fail "not closed: $(cat "$T/post.json")"
[ "$(post "$HID" ack '{}')" = 409 ] || fail "ack on a closed alert: $(cat "$T/post.json")"
[ "$(post "$HID" comment '{"note":"for the record"}')" = 200 ] || fail "comment on a closed alert"
[ "$(field 'len([a for a in d if a["id"] == '"$HID"'])' "")" = 0 ] || fail "closed alerts listed by default"
[ "$(field 'len(d)' "?state=closed")" = 1 ] || fail "state=closed"

info "the actions are in the audit log"
SEC=$(make_token security)
curl -s -H "Authorization: Bearer $SEC" "$URL/api/v1/audit?action=alert.action&limit=100" > "$T/audit.json"
"$PY" - "$T/audit.json" "$ID" <<'PYEOF' || fail "audit: $(head -c 800 "$T/audit.json")"
import json, sys
rows = json.load(open(sys.argv[1]))["items"]
objs = [(r["object"], r["outcome"], r["status"]) for r in rows]
assert (f"/api/v1/alerts/{sys.argv[2]}/ack", "success", 200) in objs, objs
assert (f"/api/v1/alerts/{sys.argv[2]}/ack", "failure", 403) in objs, objs
assert any(r["user"].startswith("t-viewer-") for r in rows), rows
assert any(r["detail"] == f"alert {sys.argv[2]}: assign to db-team, note 'disk'" for r in rows), [r["detail"] for r in rows]
PYEOF
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Rules and notification targets defined through the API, and a log rule:
# only an admin defines them; bad definitions are refused with the reason
# the file's checks give; the file's own cannot be changed through the API,
# nor a target a rule sends to deleted. A log rule counts lines matching its
# pattern on a real agent's file: below count= nothing, at count= it fires,
# to its own target and, by a [route] on severity and host, to the on-call
# hook, with a link to the console. Definitions outlive a restart; deleting
# the rule resolves its alert.
. "$(dirname "$0")/lib.sh"

RCV_PORT=$(free_port)
start_receiver ok none
R="http://127.0.0.1:$RCV_PORT"

write_collector_conf "[alerts]
interval=1s
console_url=https://console.example/vigil
[notify \"file-hook\"]
type=webhook
url=$R/hook
[notify \"oncall\"]
type=webhook
url=$R/hook
[route \"critical-db\"]
match=severity=critical team=db host=test*
notify=oncall
[rule \"file-rule\"]
type=host_silent
silent_for=1h
notify=file-hook"
write_agent_conf
ADMIN=$(make_token admin)
OPERATOR=$(make_token operator)
TOKEN=$OPERATOR
start_collector
start_agent

expect() { # code reason-substring method path token [body]
	local want=$1 why=$2 code
	shift 2
	code=$(api "$@")
	[ "$code" = "$want" ] || fail "$1 $2: $code, expected $want: $(cat "$T/answer.json")"
	grep -qF -- "$why" "$T/answer.json" || fail "$1 $2: no '$why' in $(cat "$T/answer.json")"
}

info "only an admin defines; bad definitions are refused with their reason"
RULE='{"name":"oom","type":"log","pattern":"Out of memory|OOM-killer","count":3,"window":"1m","severity":"critical","labels":{"team":"db"},"notify":"api-hook","summary":"{{host}} runs out of memory: {{value}}"}'
expect 403 "needs the role admin" POST /api/v1/rules "$OPERATOR" "$RULE"
expect 400 'no [notify \"api-hook\"] section' POST /api/v1/rules "$ADMIN" "$RULE"
expect 400 'type=log needs pattern=' POST /api/v1/rules "$ADMIN" '{"name":"bad","type":"log"}'
expect 400 'pattern=(' POST /api/v1/rules "$ADMIN" '{"name":"bad","type":"log","pattern":"("}'
expect 400 'a quantifier right after another' POST /api/v1/rules "$ADMIN" '{"name":"bad","type":"log","pattern":"o++++++++++++++++++++++++"}'
expect 400 "unknown key 'colour'" POST /api/v1/rules "$ADMIN" '{"name":"bad","type":"probe","colour":"red"}'
expect 400 'for=soon: expected a duration' POST /api/v1/rules "$ADMIN" '{"name":"bad","type":"probe","for":"soon"}'
expect 400 'name: 1 to 64' POST /api/v1/rules "$ADMIN" '{"name":"a b","type":"probe"}'
expect 400 'expected a JSON object' POST /api/v1/rules "$ADMIN" '[1]'
expect 400 "url=ftp://x: expected http:// or https://" POST /api/v1/notify "$ADMIN" '{"name":"api-hook","type":"webhook","url":"ftp://x"}'
expect 201 '"defined_in":"api"' POST /api/v1/notify "$ADMIN" "{\"name\":\"api-hook\",\"type\":\"webhook\",\"url\":\"$R/hook?key=SECRETKEY\"}"
grep -q SECRETKEY "$T/answer.json" && fail "the URL's query was shown: $(cat "$T/answer.json")"
expect 201 '"author":"t-admin-' POST /api/v1/rules "$ADMIN" "$RULE"
expect 409 'exists; PUT replaces it' POST /api/v1/rules "$ADMIN" "$RULE"
expect 409 'defined in the configuration file' PUT /api/v1/rules/file-rule "$ADMIN" '{"type":"probe"}'
expect 409 'defined in the configuration file' DELETE /api/v1/notify/oncall "$ADMIN"
expect 409 '[rule \"oom\"] sends to [notify \"api-hook\"]' DELETE /api/v1/notify/api-hook "$ADMIN"
expect 404 'no [rule \"nope\"]' PUT /api/v1/rules/nope "$ADMIN" '{"type":"probe"}'
expect 200 '"pattern":"Out of memory|OOM-killer"' GET /api/v1/rules/oom "$OPERATOR"
expect 200 '"name":"file-rule","defined_in":"config"' GET /api/v1/rules "$OPERATOR"

firing() {
	curl -s -H "Authorization: Bearer $OPERATOR" "$URL/api/v1/alerts?state=firing" | grep -q '"rule":"oom"'
}
info "two matching lines of three: nothing fires"
printf 'kernel: Out of memory: Killed process 4711 (postgres)\nall fine\nOOM-killer woke up\n' >> "$T/logs/app.log"
wait_for 20 "the lines stored" count_is 3
sleep 3
firing && fail "the rule fired at 2 matches of 3"

info "the third fires it, to its target and through the route, with a link to the console"
echo 'kernel: Out of memory: Killed process 4712 (postgres)' >> "$T/logs/app.log"
wait_for 20 "the log rule fires" firing
told() { # target
	"$PY" - "$T/received.jsonl" "$1" <<'PYEOF'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    b = e["body"]
    if b.get("target") == sys.argv[2] and b["event"] == "fired" and b["rule"] == "oom":
        assert b["url"].startswith("https://console.example/vigil/alerts/"), b
        assert b["labels"]["team"] == "db" and b["severity"] == "critical", b
        assert "runs out of memory: 3 in 60 s: kernel: Out of memory" in b["summary"], b
        sys.exit(0)
sys.exit(1)
PYEOF
}
wait_for 20 "the API's target told" told api-hook
VIEWER=$(make_token viewer)
for who in "$VIEWER" "$OPERATOR"; do
	curl -s -H "Authorization: Bearer $who" "$URL/api/v1/alerts?state=firing" > "$T/as-$who.json"
	ID=$("$PY" -c 'import json,sys; print([a["id"] for a in json.load(open(sys.argv[1]))["items"] if a["rule"] == "oom"][0])' "$T/as-$who.json")
	curl -s -H "Authorization: Bearer $who" "$URL/api/v1/alerts/$ID" >> "$T/as-$who.json"
done
grep -q "Killed process" "$T/as-$VIEWER.json" && fail "a viewer reads the matched log line: $(cat "$T/as-$VIEWER.json")"
grep -q '3 in 60 s: \[a log line: for the roles operator, admin and security\]' "$T/as-$VIEWER.json" ||
	fail "the viewer's alert: $(cat "$T/as-$VIEWER.json")"
grep -q "Killed process 4712" "$T/as-$OPERATOR.json" || fail "the operator does not read the line"
texts() { # token: how many alerts the text of the matched line finds
	curl -s -H "Authorization: Bearer $1" "$URL/api/v1/alerts?q=killed%20process%204712" |
		"$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))'
}
[ "$(texts "$OPERATOR")" = 1 ] || fail "the operator's text search does not find the line"
[ "$(texts "$VIEWER")" = 0 ] || fail "a viewer's text search finds the line it may not read"
wait_for 20 "the route's target told" told oncall
told file-hook && fail "a target neither the rule nor a route names was told"

info "the definitions outlive a restart"
stop_collector
start_collector
expect 200 '"defined_in":"api"' GET /api/v1/rules/oom "$ADMIN"
expect 200 '"name":"api-hook"' GET /api/v1/notify "$ADMIN"
firing || fail "the alert is not firing after the restart"

info "a redefinition takes effect: 100 lines now needed, the alert resolves"
expect 200 '"count":"100"' PUT /api/v1/rules/oom "$ADMIN" "${RULE/\"count\":3/\"count\":100}"
resolved() {
	curl -s -H "Authorization: Bearer $OPERATOR" "$URL/api/v1/alerts?state=resolved" | grep -q '"rule":"oom"'
}
wait_for 20 "the alert resolves" resolved

info "a deleted rule's alert resolves; then its target can go"
expect 200 '"count":"3"' PUT /api/v1/rules/oom "$ADMIN" "$RULE"
wait_for 20 "the log rule fires again" firing
expect 200 '"deleted":true' DELETE /api/v1/rules/oom "$ADMIN"
wait_for 20 "the alert of the deleted rule resolves" resolved
ID=$(curl -s -H "Authorization: Bearer $OPERATOR" "$URL/api/v1/alerts?state=resolved" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
expect 200 'its rule is no longer defined' GET "/api/v1/alerts/$ID" "$OPERATOR"
expect 404 'no rule called oom' GET /api/v1/rules/oom "$ADMIN"
expect 200 '"deleted":true' DELETE /api/v1/notify/api-hook "$ADMIN"

info "a notification queued for a target deleted meanwhile fails at once, not after its retries"
DEAD=$(free_port)
expect 201 '"name":"gone-hook"' POST /api/v1/notify "$ADMIN" "{\"name\":\"gone-hook\",\"type\":\"webhook\",\"url\":\"http://127.0.0.1:$DEAD/x\"}"
expect 202 notification_id POST /api/v1/notify/gone-hook/test "$ADMIN"
NID=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["notification_id"])' "$T/answer.json")
notif() { sqlite3 -cmd ".timeout 5000" "$T/data/meta.db" "SELECT state || ' ' || attempts FROM notifications WHERE id=$NID"; }
tried() { notif | grep -qE "^queued [1-9]"; }
wait_for 10 "the first attempt refused" tried
expect 200 '"deleted":true' DELETE /api/v1/notify/gone-hook "$ADMIN"
was=$(notif | cut -d' ' -f2)
gave_up() { notif | grep -qE "^failed "; }
wait_for 10 "the notification failed at its next attempt" gave_up
[ "$(notif | cut -d' ' -f2)" -le $((was + 1)) ] || fail "after $was attempts, $(notif): retried past the deletion"

info "each change is in the audit log"
AUDITOR=$(make_token security)
curl -s -H "Authorization: Bearer $AUDITOR" "$URL/api/v1/audit?limit=1000" > "$T/audit.json"
for action in rule.create rule.update rule.delete notify.create notify.delete; do
	grep -q "\"action\":\"$action\"" "$T/audit.json" || fail "no $action in the audit log"
done
info "ok"

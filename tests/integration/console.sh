#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The console's files over HTTP: the page at / and at any page's path, its
# hashed assets cached for a year and revalidated by ETag, a policy that
# allows nothing but its own origin and no framing on every answer (the
# API's too), only the files read at start (no path reaches the disk), GET
# and HEAD only; without a console the API still answers. The API the
# console adds: a silence's preview, an alert's deliveries, the logs' counts
# over time. The vendored
# chart library is the release the tests' package-lock.json pins.
. "$(dirname "$0")/lib.sh"

RCV_PORT=$(free_port)
SVC_PORT=$(free_port)
write_collector_conf "$(svc_rule severity=critical)"
write_agent_conf "$(svc_probe)"
TOKEN=$(make_token operator)
start_receiver ok unused
start_collector
start_agent

head_of() { curl -s -D "$T/h" -o "$T/b" "$@" && tr -d '\r' < "$T/h"; }

info "the page at / and at a page's path, not cached; its assets by hashed name, cached for a year"
H=$(head_of "$URL/")
grep -q '^HTTP/1.1 200' <<< "$H" && grep -qi '^Content-Type: text/html; charset=utf-8' <<< "$H" || fail "/: $H"
grep -qi '^Cache-Control: no-cache' <<< "$H" || fail "/ cached: $H"
cmp -s "$T/b" "$B/console/dist/index.html" || fail "/ is not the built page"
[ "$(curl -s "$URL/alerts/12" | md5sum)" = "$(md5sum < "$B/console/dist/index.html")" ] || fail "/alerts/12 is not the page"
APP=$(grep -o '/assets/app\.[0-9a-f]*\.js' "$B/console/dist/index.html")
[ -n "$APP" ] || fail "the page names no hashed app.js"
H=$(head_of "$URL$APP")
grep -qi '^Content-Type: text/javascript; charset=utf-8' <<< "$H" || fail "$APP: $H"
grep -qi '^Cache-Control: public, max-age=31536000, immutable' <<< "$H" || fail "$APP not cached: $H"
cmp -s "$T/b" "$B/console/dist$APP" || fail "$APP is not the built file"
ETAG=$(sed -n 's/^ETag: //Ip' <<< "$H")
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $ETAG" "$URL$APP")" = 304 ] || fail "no 304 for its ETag"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'If-None-Match: "other"' "$URL$APP")" = 200 ] || fail "304 for another ETag"
H=$(curl -sI "$URL$APP" | tr -d '\r')
[ "$(sed -n 's/^Content-Length: //Ip' <<< "$H")" = "$(stat -c %s "$B/console/dist$APP")" ] || fail "HEAD: $H"

info "every answer forbids framing and sniffing; the console's allow only its own origin"
for path in / "$APP" /assets/missing.js; do
	H=$(head_of "$URL$path")
	grep -qi "^Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self';.* frame-ancestors 'none'" <<< "$H" ||
		fail "$path: no policy: $H"
	grep -qi '^X-Content-Type-Options: nosniff' <<< "$H" && grep -qi '^X-Frame-Options: DENY' <<< "$H" || fail "$path: $H"
done
grep -qi "unsafe-inline\|unsafe-eval" <<< "$H" && fail "the policy allows inline or eval: $H"
H=$(head_of "$URL/api/v1/alerts")
grep -qi '^X-Content-Type-Options: nosniff' <<< "$H" && grep -qi '^X-Frame-Options: DENY' <<< "$H" || fail "the API: $H"
grep -rqE '<script>|on(click|load|error)=|javascript:' "$B/console/dist/index.html" && fail "inline script in the page"

info "only what was read at start: no path reaches the disk, no other method"
echo "secret" > "$B/console/dist/assets/late.js"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/assets/late.js")" = 404 ] || fail "a file put there later is served"
rm -f "$B/console/dist/assets/late.js"
for path in /assets/../../../etc/passwd /assets/..%2f..%2fetc%2fpasswd /assets/ /assets/%00; do
	CODE=$(curl -s --path-as-is -o "$T/b" -w '%{http_code}' "$URL$path")
	[ "$CODE" = 404 ] && ! grep -q root: "$T/b" || fail "$path: $CODE $(head -c 200 "$T/b")"
done
[ "$(curl -s -o "$T/b" -w '%{http_code}' -X POST "$URL/")" = 405 ] || fail "POST /"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL$APP")" = 405 ] || fail "DELETE an asset"

info "a silence's preview: the open alerts it would silence, matched as the evaluator matches"
alerted() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts" | grep -q '"svc-down"'; }
wait_for 20 "the probe's alert" alerted
[ "$(api POST /api/v1/silences/preview "$TOKEN" '{"matchers":{"probe":"svc-web"}}')" = 200 ] || fail "$(cat "$T/answer.json")"
grep -q '"count":1' "$T/answer.json" && grep -q '"rule":"svc-down"' "$T/answer.json" || fail "$(cat "$T/answer.json")"
[ "$(api POST /api/v1/silences/preview "$TOKEN" '{"matchers":{"probe":"svc-web","host":"elsewhere"}}')" = 200 ] &&
	grep -q '"count":0' "$T/answer.json" || fail "all matchers must hold: $(cat "$T/answer.json")"
[ "$(api POST /api/v1/silences/preview "$TOKEN" '{"matchers":{}}')" = 400 ] && grep -q 'matchers: expected' "$T/answer.json" ||
	fail "empty matchers: $(cat "$T/answer.json")"
[ "$(api GET /api/v1/silences "$TOKEN")" = 200 ] && grep -q '"items":\[\]' "$T/answer.json" || fail "a preview made a silence"

info "an alert's deliveries: each notification, its target and whether it went"
ID=$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
sent() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts/$ID" | grep -q '"deliveries":\[{[^]]*"target":"hook"[^]]*"state":"sent"'; }
wait_for 20 "the delivery recorded as sent" sent
grep -q '"body"' "$T/received.jsonl" || fail "the receiver got nothing"

info "the logs' counts over time: every match in its bucket, in ingest order, by cursor when cut short"
for i in $(seq 1 30); do echo "count-me line $i"; done >> "$T/logs/app.log"
counted() { [ "$(api GET "/api/v1/logs/count?q=count-me&kind=log&since=10m&step=1m" "$TOKEN")" = 200 ] &&
	grep -q '"total":30,' "$T/answer.json"; }
wait_for 20 "30 lines counted" counted
"$PY" - "$T/answer.json" <<'PYEOF' || fail "the count: $(cat "$T/answer.json")"
import json, sys
a = json.load(open(sys.argv[1]))
assert a["complete"] and a["step_ms"] == 60000 and len(a["buckets"]) == (a["until"] - a["since"]) // 60_000_000 + 1, a
assert sum(n for _, n in a["buckets"]) == 30 and all(b[0] == a["since"] + i * 60_000_000 for i, b in enumerate(a["buckets"])), a
PYEOF
info "priority= keeps the lines of that priority and more urgent, in a search and in a count"
for i in 1 2 3; do echo "ERROR count-me failure $i"; done >> "$T/logs/app.log"
urgent() { [ "$(api GET "/api/v1/logs/count?q=count-me&kind=log&since=10m&step=1m&priority=3" "$TOKEN")" = 200 ] &&
	grep -q '"total":3,' "$T/answer.json"; }
wait_for 20 "3 urgent lines counted" urgent
[ "$(api GET "/api/v1/logs?q=count-me&priority=4&limit=100" "$TOKEN")" = 200 ] &&
	[ "$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["items"]))' "$T/answer.json")" = 3 ] ||
	fail "priority=4 in a search: $(head -c 300 "$T/answer.json")"
VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" logs -q count-me --priority 3 > "$T/ctl-urgent.out" ||
	fail "vigilctl logs --priority: $(cat "$T/ctl-urgent.out")"
[ "$(grep -c 'ERROR count-me failure' "$T/ctl-urgent.out")" = 3 ] && [ "$(grep -c count-me "$T/ctl-urgent.out")" = 3 ] ||
	fail "vigilctl logs --priority 3: $(cat "$T/ctl-urgent.out")"
info "stats: the top values of a field among the matches, and what is left out"
[ "$(api GET "/api/v1/logs/stats?q=count-me&kind=log&since=10m&by=priority" "$TOKEN")" = 200 ] || fail "stats: $(cat "$T/answer.json")"
"$PY" - "$T/answer.json" <<'PYEOF' || fail "stats by priority: $(cat "$T/answer.json")"
import json, sys
a = json.load(open(sys.argv[1]))
# The ERROR lines have a PRIORITY (the agent reads the level); the others have none.
assert a["by"] == "priority" and a["complete"] and a["without"] == 30 and not a["cut"], a
assert [(t["value"], t["count"]) for t in a["top"]] == [("3", 3)] and a["others"] == 0, a
PYEOF
[ "$(api GET "/api/v1/logs/stats?q=count-me&kind=log&since=10m&by=host&top=1" "$TOKEN")" = 200 ] &&
	grep -q '"top":\[{"value":"testhost","count":33}\],"others":0' "$T/answer.json" || fail "stats by host: $(cat "$T/answer.json")"
[ "$(api GET "/api/v1/logs/stats?q=count-me&kind=log&since=10m&by=NO_SUCH" "$TOKEN")" = 200 ] &&
	grep -q '"top":\[\],"others":0,"without":33' "$T/answer.json" || fail "stats by a missing field: $(cat "$T/answer.json")"
[ "$(api GET "/api/v1/logs/stats?q=count-me&kind=log&since=10m&step=1m" "$TOKEN")" = 200 ] &&
	grep -q '"total":33,' "$T/answer.json" || fail "stats without by= is the count: $(cat "$T/answer.json")"
[ "$(api GET "/api/v1/logs/stats?by=a-b" "$TOKEN")" = 400 ] && grep -q "by: expected host, source" "$T/answer.json" ||
	fail "by=a-b: $(cat "$T/answer.json")"
[ "$(api GET "/api/v1/logs/stats?by=host&top=0" "$TOKEN")" = 400 ] || fail "top=0 accepted"
[ "$(api GET "/api/v1/logs?q=count-me&priority=8" "$TOKEN")" = 400 ] && grep -q "priority: expected 0 (emerg) to 7" "$T/answer.json" ||
	fail "priority=8: $(cat "$T/answer.json")"
[ "$(api GET "/api/v1/logs/count?q=count-me&since=1h&step=1s" "$TOKEN")" = 400 ] && grep -q "expected 1 to 1000 buckets" "$T/answer.json" ||
	fail "too many buckets: $(cat "$T/answer.json")"
[ "$(api GET "/api/v1/logs/count?step=soon" "$TOKEN")" = 400 ] && grep -q "step: expected a duration" "$T/answer.json" ||
	fail "a bad step: $(cat "$T/answer.json")"
VIEWER=$(make_token viewer)
[ "$(api GET "/api/v1/logs/count" "$VIEWER")" = 403 ] || fail "a viewer counted logs"

info "the vendored uPlot is the one package-lock.json pins, byte for byte, with its licence"
MODULES=${VIGIL_NODE_MODULES:-$S/tests/console/node_modules}
if [ -d "$MODULES/uplot" ]; then
	for f in uPlot.esm.js uPlot.min.css; do
		cmp -s "$MODULES/uplot/dist/$f" "$S/console/src/vendor/$f" || fail "console/src/vendor/$f differs from uplot $(
			"$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$MODULES/uplot/package.json")"
	done
	cmp -s "$MODULES/uplot/LICENSE" "$S/console/src/vendor/LICENSE.uPlot" || fail "uPlot's licence differs"
else
	info "(no $MODULES/uplot: scripts/test.sh installs it; not compared)"
fi

info "without a console the collector serves the API, and says why / has nothing"
stop_collector
CONSOLE_DIR=$T/none write_collector_conf
start_collector
grep -q "console: no $T/none/index.html; the collector serves the API only" "$T/collector.log" || fail "not logged"
[ "$(curl -s -o "$T/b" -w '%{http_code}' "$URL/")" = 404 ] && grep -q "no console here" "$T/b" || fail "/: $(cat "$T/b")"
[ "$(api GET /api/v1/alerts "$TOKEN")" = 200 ] || fail "the API without a console"
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's first command, scripts/demo.sh, with the programs of this
# build: it comes up, follows its sample lines, parses its sample access
# log into fields and a log metric, its sample dial test passes,
# and SIGTERM stops it and everything it started, saying so once.
. "$(dirname "$0")/lib.sh"

D="$T/demo"
VIGIL_DEMO_BUILD=$B VIGIL_DEMO_DIR=$D VIGIL_DEMO_INGEST="tcp://127.0.0.1:$INGEST_PORT" \
	VIGIL_DEMO_HTTP="127.0.0.1:$HTTP_PORT" bash "$S/scripts/demo.sh" > "$T/demo.out" 2>&1 &
DEMO=$!
PIDS="$PIDS $DEMO"
wait_for 30 "the demo running" grep -q "vigil demo is running" "$T/demo.out"
# What it started, for the cleanup should this test fail.
PIDS="$PIDS $(pgrep -f "$D/" | tr '\n' ' ')"
wait_for 30 "sample lines followed" grep -q "demo-app: .* request [0-9]* served" "$T/demo.out"
TOKEN=$(awk '/admin token \(shown once\):/ { print $NF }' "$T/demo.out")
VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" dialtest run 1 > "$T/run.out" || fail "the sample dial test: $(cat "$T/run.out")"
VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" hosts | grep -q "all-in-one\|$(hostname)" || fail "the demo's host is not listed"
info "the agent runs the probe of the demo's config group"
central_probe() { VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" probes | grep -q "central-web-log"; }
wait_for 30 "the config group's probe" central_probe
info "the agent runs a sample dial test as a vantage point, beside the collector"
two_vantages() {
	curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/dialtests" > "$T/tests.json"
	id=$("$PY" -c 'import json, sys
print([t["id"] for t in json.load(open(sys.argv[1]))["items"] if t["name"] == "api-refuses-anonymous"][0])' "$T/tests.json")
	curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/dialtests/$id/vantages" > "$T/vantages.json"
	"$PY" -c 'import json, sys; v = json.load(open(sys.argv[1]))
assert v["state"] == "ok" and sorted(i["vantage"] for i in v["items"] if i["ok"]) == sorted(["collector", sys.argv[2]]), v' \
		"$T/vantages.json" "$(hostname)"
}
wait_for 60 "both vantages of api-refuses-anonymous" two_vantages
info "its access log is parsed on the agent and measured at ingest"
web_p99() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/metrics?name=log.web.p99&since=10m" |
	grep -q '"instance":"status_class=2xx","points":\[\['; }
wait_for 30 "log.web.p99 of the sample access log" web_p99
VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" logs -q 'source:demo-web request_method:GET status:>=200' | grep -q 'GET /api/v1/items/' ||
	fail "the sample access log's fields"

info "the console it names is served, and its demo user logs in"
LINE=$(grep "console: " "$T/demo.out") || fail "no console line"
grep -q "console:   $URL/  (user demo, password " <<< "$LINE" || fail "$LINE"
PASSWORD=$(sed -n 's/.*password \([^)]*\)).*/\1/p' <<< "$LINE")
curl -s "$URL/" | grep -q '<script type="module" src="/assets/app\.' || fail "no console at $URL/"
[ "$(curl -s -o "$T/login.json" -w '%{http_code}' -H 'Content-Type: application/json' \
	-d "{\"user\":\"demo\",\"password\":\"$PASSWORD\"}" "$URL/api/v1/session")" = 200 ] || fail "login: $(cat "$T/login.json")"

info "SIGTERM stops the demo and all it started, once"
kill -TERM "$DEMO"
gone() { ! kill -0 "$DEMO" 2>/dev/null; }
wait_for 10 "the demo to end" gone
[ "$(grep -c "^demo stopped" "$T/demo.out")" = 1 ] || fail "said: $(grep "^demo stopped" "$T/demo.out")"
left() { [ -z "$(pgrep -f "$D/")" ]; }
wait_for 10 "its processes to end" left
echo ok

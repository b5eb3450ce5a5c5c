#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The console's control center (采控) in Debian's Chromium
# (tests/console/control.mjs): the fleet by configuration state, a host
# that refused a command probe shown with why, the config groups; the
# administrator defines a group (a bad one refused with its line), rolls a
# version out to a canary label and promotes it.
. "$(dirname "$0")/lib.sh"
hold_timing_lock

need_browser
write_collector_conf
PASSWORD=Admin-wang-2026-pass
make_user admin.wang admin "$PASSWORD"
ADMIN=$(make_token admin)
start_collector
echo x > "$T/present"
named_agent_conf a 0000000000000000000000000000000a "zone=gov-a role=web"
named_agent_conf b 0000000000000000000000000000000b "zone=internet role=web"
start_named_agent a
start_named_agent b
# cmd first: a never gets a configuration without it.
code=$(api PUT /api/v1/config-groups/cmd "$ADMIN" '{"selector": "zone=gov-a", "order": 60, "config": "[probe \"run\"]\ntype=command\ncommand=/bin/true\n"}')
[ "$code" = 200 ] || fail "group cmd: $code $(cat "$T/answer.json")"
code=$(api PUT /api/v1/config-groups/web "$ADMIN" "{\"selector\": \"role=web\", \"config\": \"# <img src=x onerror=alert(1)>\n[probe \\\"web-file\\\"]\ntype=file\npath=$T/present\n\"}")
[ "$code" = 200 ] || fail "group web: $code $(cat "$T/answer.json")"
reported() {
	curl -s -H "Authorization: Bearer $ADMIN" "$URL/api/v1/hosts" | "$PY" -c '
import json, sys
h = {x["hostname"]: x["inventory"] for x in json.load(sys.stdin)["items"]}
assert "allow_commands" in h["host-a"].get("config_error", "") and h["host-b"].get("config_version")'
}
wait_for 20 "a refuses cmd, b runs web" reported

OUT=${VIGIL_SCREENSHOTS:-$B/console-screenshots}
mkdir -p "$OUT"
URL=$URL USER=admin.wang PASSWORD=$PASSWORD MODULES=$MODULES OUT=$OUT \
	timeout 180 node "$S/tests/console/control.mjs" > "$T/control.out" 2>&1 || fail "$(cat "$T/control.out")"
cat "$T/control.out"
STEPS=$(grep -c '^	await run(' "$S/tests/console/control.mjs")
grep -q "^# $STEPS steps passed" "$T/control.out" || fail "not every one of the $STEPS steps ran"
# a refuses the whole of what it gets while cmd is in it, so runs no central configuration; b gets web v2 once promoted.
b_runs_v2() { grep -q "# group web (version 2)" "$T/state-b/central.conf"; }
wait_for 15 "b runs web v2 once promoted" b_runs_v2
[ ! -f "$T/state-a/central.conf" ] || fail "a wrote a configuration that holds a command probe"
echo ok

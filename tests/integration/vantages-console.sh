#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A dial test's vantage points in the console, in Debian's Chromium
# (tests/console/vantages.mjs): the collector and two agents in network
# namespaces of the test's own (netns.sh), one of them cut off from the
# site; the page shows them side by side, with their phases, and the
# test's state by its quorum; the list says where each test runs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
hold_timing_lock

need_browser
netns_setup
SITE_PORT=$(free_port)
"$PY" "$S/tests/integration/hitsite.py" "$SITE_PORT" "$T/hits" &
PIDS="$PIDS $!"
wait_for 10 "the site up" port_up "$SITE_PORT"
write_collector_conf
PASSWORD=Operator-li-2026-pass
make_user operator.li operator "$PASSWORD"
ADMIN=$(make_token admin)
start_collector
vantage_agents
code=$(api POST /api/v1/dialtests "$ADMIN" "{\"name\": \"portal\", \"interval\": \"1s\", \"timeout\": \"1s\",
	\"run_on\": [\"collector\", {\"zone\": \"a\"}, {\"zone\": \"b\"}], \"fail_when\": \"2 of 3\",
	\"steps\": [{\"name\": \"home\", \"url\": \"http://127.0.0.1:$SITE_PORT/\", \"assert\": [{\"type\": \"status\", \"in\": [200]}]}]}")
[ "$code" = 201 ] || fail "portal: $code $(cat "$T/answer.json")"
ID=$(member answer id)
host_a_runs() { [ "$(curl -s -H "Authorization: Bearer $ADMIN" "$URL/api/v1/dialtests/$ID/vantages" | grep -o '"vantage":"host-a"')" ]; }
wait_for 30 "host-a runs portal" host_a_runs
kill "${BRIDGE_PIDS[site-b]}"

OUT=${VIGIL_SCREENSHOTS:-$B/console-screenshots}
mkdir -p "$OUT"
URL=$URL USER=operator.li PASSWORD=$PASSWORD MODULES=$MODULES OUT=$OUT ID=$ID \
	timeout 180 node "$S/tests/console/vantages.mjs" > "$T/vantages.out" 2>&1 || fail "$(cat "$T/vantages.out")"
cat "$T/vantages.out"
STEPS=$(grep -c '^	await run(' "$S/tests/console/vantages.mjs")
grep -q "^# $STEPS steps passed" "$T/vantages.out" || fail "not every one of the $STEPS steps ran"
for n in a b; do kill "${AGENT_PIDS[$n]}"; done
for n in a b; do wait "${AGENT_PIDS[$n]}" 2>/dev/null || true; done
stop_collector
echo ok

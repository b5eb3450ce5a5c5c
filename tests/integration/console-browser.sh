#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The console in Debian's Chromium (tests/console/flows.mjs, driven by
# playwright-core): logins with a second factor and a forced password
# change, problems and their filters, bulk actions, live updates, a
# problem's timeline with its deliveries, silences with a preview, hosts
# and their metric charts, logs (search, fields, live tail, export), the
# audit log, dial tests (the editor's errors, a run's waterfall), users
# and tokens, enrollment tokens and certificates, the wall screen with a viewer token, Chinese
# and English, Beijing time, a viewer's read-only view, markup from a host
# shown as text, the page's policy never broken, no serious accessibility
# finding. Against a real collector with real alerts: two probes of
# services that are down, and a log line carrying markup, from an agent
# enrolled with a token, over HTTPS and mutual TLS as in production.
. "$(dirname "$0")/lib.sh"
hold_timing_lock

need_browser
RCV_PORT=$(free_port)
DEAD_A=$(free_port)
DEAD_B=$(free_port)
mkdir -p "$T/dialtests.d"
enrollment_setup
write_collector_conf "$ENROLL_HTTP
[dialtests]
dir=$T/dialtests.d
[alerts]
interval=1s
[notify \"hook\"]
type=webhook
url=http://127.0.0.1:$RCV_PORT/hook
[notify \"dead\"]
type=webhook
url=http://127.0.0.1:$DEAD_A/hook
[rule \"svc-down\"]
type=probe
probe=svc-*
severity=critical
summary={{probe}} on {{host}}: {{value}}
notify=hook dead
[route \"ops\"]
match=team=ops
notify=hook
[rule \"markup\"]
type=log
pattern=onerror
severity=warning
summary={{host}}: {{value}}
[logmetric \"app_lines\"]
query=source:app"
AGENT_METRICS=yes AGENT_INVENTORY=yes write_agent_conf "[metrics]
interval=1s
[probe \"svc-a\"]
type=tcp
address=127.0.0.1:$DEAD_A
interval=1s
[probe \"svc-b\"]
type=tcp
address=127.0.0.1:$DEAD_B
interval=1s"
PASSWORD=Root-console-2026
echo "$PASSWORD" | "$B/vigil-collector" --config "$T/collector.conf" --create-user root --role admin > /dev/null ||
	fail "--create-user"
echo '<script>window.vigilPwned=2</script><img src=x onerror=window.vigilPwned=1> login failed' > "$T/logs/app.log"
start_receiver ok unused
start_collector
ADMIN=$(make_token admin)
[ "$(api POST /api/v1/enroll/tokens "$ADMIN" '{"expires":"1h","uses":1}')" = 201 ] || fail "enrollment token: $(cat "$T/answer.json")"
"$B/vigil-agent" --config "$T/agent.conf" --enroll "$URL" \
	--token "$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"])' "$T/answer.json")" > "$T/enroll.log" 2>&1 ||
	fail "enrolling the agent: $(cat "$T/enroll.log")"
start_agent

# Under the build folder, kept: a look at each page in Chinese and English.
OUT=${VIGIL_SCREENSHOTS:-$B/console-screenshots}
mkdir -p "$OUT"
URL=$URL PASSWORD=$PASSWORD MODULES=$MODULES OUT=$OUT LOGFILE=$T/logs/app.log CA_FILE=$CA/ca.pem timeout 300 node "$S/tests/console/flows.mjs" > "$T/flows.out" 2>&1 ||
	fail "$(cat "$T/flows.out")"
cat "$T/flows.out"
STEPS=$(grep -c '^	await run(' "$S/tests/console/flows.mjs")
grep -q "^# $STEPS steps passed" "$T/flows.out" || fail "not every one of the $STEPS steps ran"
echo ok

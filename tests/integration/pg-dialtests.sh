#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A dial test runs once per interval among two collectors on one database
# (dialtests/dialer.c under the lead of alerting_leads()): with both up,
# only the one that evaluates dials (a 1 s test: about one request a
# second, not two); A killed (-9), B takes the schedule over within
# seconds; A back stands by, and it is still one a second. The test
# failing while A ran it, then while B does: one alert firing, of B's
# runs; the one of A's runs, which A no longer makes, resolves; and so
# does its latency alert (a rule on the test's time: the newest run's
# counts, not each collector's last for two hours). (Each collector dials
# as a host of its own, [dialtests] host=.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
SITE=$(free_port)
"$PY" "$S/tests/integration/hitsite.py" "$SITE" "$T/hits" "$T/failing" &
PIDS="$PIDS $!"
wait_for 10 "the site up" port_up "$SITE"
mkdir -p "$T/dialtests.d"
printf '{"name":"ping","interval":"1s","timeout":"1s","steps":[{"name":"get","url":"http://127.0.0.1:%s/","assert":[{"type":"status","in":[200]}]}]}\n' \
	"$SITE" > "$T/dialtests.d/ping.json"
pg_start
pg_collectors_conf "[dialtests]
dir=$T/dialtests.d
host=dial-a
[alerts]
interval=1s
[rule \"ping-down\"]
type=dialtest
dialtest=ping
[rule \"ping-slow\"]
type=dialtest
dialtest=ping
condition=latency
above=250"
sed -i 's/^host=dial-a$/host=dial-b/' "$T/collector-b.conf"
TOKEN=$(make_token viewer)
firing_alerts() { # the firing alerts of ping-down and ping-slow, as rule:host
	curl -s -H "Authorization: Bearer $TOKEN" "$URL_B/api/v1/alerts?state=firing" | "$PY" -c 'import json, sys
print(" ".join(sorted(a["rule"] + ":" + a["host"] for a in json.load(sys.stdin)["items"] if a["rule"].startswith("ping-"))))'
}

once_a_second() { # what hits_in 8 said
	[ "$1" -ge 5 ] && [ "$1" -le 11 ] || fail "$1 requests in 8 s of a 1 s dial test: $2"
}

start_collectors_a_leading

info "both up: one runs the test"
N=$(hits_in 8)
once_a_second "$N" "both up"

info "the test fails while A runs it: its alert"
touch "$T/failing"
firing_is() { [ "$(firing_alerts)" = "$1" ]; }
wait_for 15 "the alerts of A's runs" firing_is "ping-down:dial-a ping-slow:dial-a"

info "A killed: B dials within seconds, once a second"
stop_collector KILL
wait_for 15 "B evaluates" grep -q "alerting: this collector .* does this work now" "$T/collector-b.log"
N=$(hits_in 8)
once_a_second "$N" "B alone"
wait_for 15 "the alerts of B's runs firing (A's resolved)" firing_is "ping-down:dial-b ping-slow:dial-b"

info "A back: it stands by, still once a second"
start_collector
wait_for 10 "A stands by" grep -q "alerting: another collector does this work" "$T/collector.log"
N=$(hits_in 8)
once_a_second "$N" "A back"
echo ok

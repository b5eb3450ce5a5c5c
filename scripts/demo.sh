#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing, builds, and runs the demo in the foreground:
# a collector and an agent on 127.0.0.1, data under ./demo, an admin token
# printed, sample log lines flowing and followed with vigilctl, sample probes,
# host metrics and inventory, sample alert rules (a probe down, a host
# silent, a disk filling, a burst of ERROR lines, a dial test failing), and
# sample dial tests against the collector's own API. Ctrl-C (or SIGTERM) stops
# everything it started. VIGIL_DEMO_BUILD=DIR runs the programs built in DIR
# instead of installing and building (the test of the demo does).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B=${VIGIL_DEMO_BUILD:-}
if [ -z "$B" ]; then
	"$top/scripts/deps.sh"
	"$top/scripts/build.sh" "$top/build/plain"
	B=$top/build/plain
fi
D=${VIGIL_DEMO_DIR:-$top/demo}
INGEST=${VIGIL_DEMO_INGEST:-tcp://127.0.0.1:5170}
HTTP=${VIGIL_DEMO_HTTP:-127.0.0.1:8080}
mkdir -p "$D/logs" "$D/web" "$D/dialtests.d"
cat > "$D/collector.conf" <<EOC
[ingest]
listen=$INGEST
[storage]
data_dir=$D/data
[http]
listen=$HTTP
console_dir=$B/console/dist
[dialtests]
dir=$D/dialtests.d
secrets_dir=$D/secrets
[rule "dialtest-failed"]
type=dialtest
severity=critical
[rule "probe-down"]
type=probe
severity=critical
consecutive=2
summary={{probe}} on {{host}}: {{value}}
[rule "host-silent"]
type=host_silent
severity=disaster
[rule "disk-full"]
type=metric
metric=filesystem.used_pct
above=90
recover=85
for=5m
[logmetric "web"]
query=source:demo-web
value=request_time
labels=status_class
step=1m
[rule "web-slow"]
type=metric
metric=log.web.p99
instance=status_class=2xx
above=2
summary={{host}}: 接口 p99 耗时 {{value}} s
[rule "demo-errors"]
type=log
pattern=ERROR
source=demo-app
count=10
window=1m
severity=warning
summary={{host}}: {{value}}
EOC
cat > "$D/agent.conf" <<EOC
[agent]
state_dir=$D/agent-state
labels=zone=demo role=all-in-one
[collector]
address=$INGEST
[tail "demo-app"]
path=$D/logs/*.log
[tail "demo-web"]
path=$D/web/access.log
parser=web
[parser "web"]
format=nginx
pattern=\$remote_addr - \$remote_user [\$time_local] "\$request" \$status \$body_bytes_sent "\$http_referer" "\$http_user_agent" \$request_time
[probe "collector-ingest"]
type=tcp
address=${INGEST#tcp://}
[probe "collector-api"]
type=http
url=http://$HTTP/metrics
expect_status=401
[probe "collector-process"]
type=process
name=vigil-collector
[probe "demo-log-fresh"]
type=file
path=$D/logs/app.log
max_age=1m
[central]
allow_paths=$D/*
EOC
pids=""
stop() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	echo
	echo "demo stopped; data kept in $D (remove it to start afresh)"
}
# The signals end the script, and its end (whatever the cause) stops the rest, once.
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TOKEN=$("$B/vigil-collector" --config "$D/collector.conf" --create-token "demo-admin-$(date +%s)" --role admin)
# The console's demo user: an operator, whose role needs no second factor ([users] totp_roles); kept across runs.
DEMO_USER=demo DEMO_PASSWORD=Demo-console-2026
echo "$DEMO_PASSWORD" | "$B/vigil-collector" --config "$D/collector.conf" --create-user "$DEMO_USER" --role operator \
	> /dev/null 2> "$D/create-user.err" || grep -q "exists" "$D/create-user.err" || { cat "$D/create-user.err" >&2; exit 1; }
# Sample dial tests against the collector's own API: one call, run from the collector and from the agent (a vantage
# point, docs/dialtests.md), and two steps, the second using what the first returned.
(umask 077; mkdir -p "$D/secrets"; echo "$TOKEN" > "$D/secrets/dialtest.token")
cat > "$D/dialtests.d/api-refuses-anonymous.json" <<EOJ
{"name":"api-refuses-anonymous","interval":"30s","timeout":"5s",
 "run_on":["collector",{"zone":"demo"}],"fail_when":"2 of 2",
 "steps":[{"name":"metrics","url":"http://$HTTP/metrics","assert":[{"type":"status","in":[401]},{"type":"latency","max_ms":500}]}]}
EOJ
cat > "$D/dialtests.d/api-hosts.json" <<EOJ
{"name":"api-hosts","interval":"15s","timeout":"5s","labels":{"team":"ops"},
 "secrets":{"api_token":{"file":"$D/secrets/dialtest.token"}},
 "steps":[{"name":"list","url":"http://$HTTP/api/v1/hosts","bearer":"{{secret:api_token}}",
           "assert":[{"type":"status","in":[200]},{"type":"json","path":"\$.items","op":"exists"}],
           "extract":[{"name":"host","from":"json","path":"\$.items[0].id"}]},
          {"name":"one","url":"http://$HTTP/api/v1/hosts/{{host}}","bearer":"{{secret:api_token}}",
           "assert":[{"type":"status","in":[200]},{"type":"json","path":"\$.hostname","op":"exists"}]}]}
EOJ
"$B/vigil-collector" --config "$D/collector.conf" 2> "$D/collector.log" &
pids="$pids $!"
"$B/vigil-agent" --config "$D/agent.conf" 2> "$D/agent.log" &
pids="$pids $!"
(
	levels=(INFO INFO INFO WARN ERROR DEBUG)
	n=0
	while :; do
		n=$((n + 1))
		echo "$(date -u +%FT%TZ) ${levels[$((RANDOM % 6))]} demo-app[$$]: request $n served in $((RANDOM % 900)) ms" >> "$D/logs/app.log"
		status=200
		[ $((RANDOM % 20)) = 0 ] && status=502
		printf '10.0.0.%d - - [%s] "GET /api/v1/items/%d HTTP/1.1" %d 512 "-" "demo" 0.%03d\n' $((n % 250)) \
			"$(date '+%d/%b/%Y:%T %z')" $((n % 9)) $status $((RANDOM % 1000)) >> "$D/web/access.log"
		sleep 0.5
	done
) &
pids="$pids $!"
for i in $(seq 1 50); do curl -s -o /dev/null "http://$HTTP/metrics" && break; sleep 0.1; done
# A config group the agent takes from the collector (docs/control.md): a probe no local file names.
curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	--data-binary "{\"selector\":\"zone=demo\",\"config\":\"[probe \\\"central-web-log\\\"]\\ntype=file\\npath=$D/web/access.log\\nmax_age=1m\\n\"}" \
	"http://$HTTP/api/v1/config-groups/demo" || echo "the demo's config group was not defined" >&2
sleep 1
for p in $pids; do
	if ! kill -0 "$p" 2>/dev/null; then
		echo "a demo process exited at start:" >&2
		cat "$D/collector.log" "$D/agent.log" >&2
		exit 1
	fi
done

cat <<EOI

vigil demo is running (Ctrl-C stops it)
  collector: ingest $INGEST, API http://$HTTP, data in $D/data
  agent:     following $D/logs/*.log and $D/web/access.log (parsed as nginx's), spool in $D/agent-state
  console:   http://$HTTP/  (user $DEMO_USER, password $DEMO_PASSWORD)
             $DEMO_USER is an operator, a role that needs no second factor: only for this demo;
             admin, security and auditor users enrol TOTP at their first login
  admin token (shown once): $TOKEN

Try, in another shell:
  export VIGIL_TOKEN=$TOKEN
  $B/vigilctl --url http://$HTTP logs -q ERROR
  $B/vigilctl --url http://$HTTP logs -q 'source:demo-web status:>=500'
  $B/vigilctl --url http://$HTTP hosts
  $B/vigilctl --url http://$HTTP probes
  $B/vigilctl --url http://$HTTP alerts
  $B/vigilctl --url http://$HTTP rules
  $B/vigilctl --url http://$HTTP dialtest list
  $B/vigilctl --url http://$HTTP dialtest run 1
  $B/vigilctl --url http://$HTTP config-group list       # the console's 采控 page: http://$HTTP/control
  curl -H "Authorization: Bearer \$VIGIL_TOKEN" http://$HTTP/metrics
  curl -H "Authorization: Bearer \$VIGIL_TOKEN" 'http://$HTTP/api/v1/metrics?name=log.web.p99&since=15m'

Following the stored logs:
EOI
# In the background, waited for: bash runs a trap only between commands, and wait is one.
VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "http://$HTTP" logs --follow &
pids="$pids $!"
wait "$!"

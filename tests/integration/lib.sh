# SPDX-License-Identifier: Apache-2.0
# Shared helpers for the integration tests: real processes on 127.0.0.1,
# every process started is tracked by PID and killed on exit; every wait
# is bounded.
set -eu

B=${BUILDDIR:-$(pwd)}
S=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PY=${PYTHON:-python3}
T=$(mktemp -d "${TMPDIR:-/tmp}/vigil-it.XXXXXX")
PIDS=""
# Functions run at exit before the processes are killed (a helper's own clean-up, e.g. pg.sh's pg_stop): the
# test's exit status is taken before them, so that a clean-up that succeeds never turns a failure into a pass.
AT_EXIT=""

cleanup() {
	local rc=$?
	for f in $AT_EXIT; do "$f" || true; done
	for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	# A sanitizer report from any daemon fails the test, even if it was killed later.
	if grep -lE 'Sanitizer|runtime error:' "$T"/*.log 2>/dev/null; then
		grep -hE -A20 'Sanitizer|runtime error:' "$T"/*.log | head -n 60 >&2
		rc=1
	fi
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
	exit $rc
}
trap cleanup EXIT

# The tests that time what the agent does within a second, and the browser test (the heaviest load on
# the machine), take this lock for their whole run, so that none of them runs beside another (bounded:
# a process left holding it delays the next for 15 minutes at most).
# The browser tests' tooling (tests/console): MODULES set, or the test skipped when node, Chromium or it is missing.
need_browser() {
	MODULES=${VIGIL_NODE_MODULES:-$S/tests/console/node_modules}
	if [ ! -d "$MODULES/playwright-core" ] || [ ! -x /usr/bin/chromium ] || ! command -v node > /dev/null; then
		echo "SKIP: needs node, /usr/bin/chromium and $MODULES (scripts/test.sh installs them)"
		exit 77
	fi
}

hold_timing_lock() { exec 9> "${TMPDIR:-/tmp}/vigil-tests-timing.lock" && { flock -w 900 9 || info "went on without the timing lock after 900 s"; }; }

fail() { echo "FAIL: $*" >&2; for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done >&2; exit 1; }
info() { echo "# $*"; }

# A port nothing listens on, and none this test was given before: a port handed out and not yet bound
# (the API's, before the collector starts) is free to the kernel, and was once given out twice.
free_port() {
	"$PY" - "$T/ports" <<'PYEOF'
import socket, sys
try:
    given = set(open(sys.argv[1]).read().split())
except FileNotFoundError:
    given = set()
for _ in range(100):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = str(s.getsockname()[1])
    s.close()
    if port not in given:
        break
open(sys.argv[1], "a").write(port + "\n")
print(port)
PYEOF
}
port_up() { "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)"; }

# hits_in SECONDS [PATH]: the requests hitsite.py logged in $T/hits in the next SECONDS (for PATH alone, if given).
hits_in() {
	local from
	from=$("$PY" -c 'import time; print(time.time())')
	sleep "$1"
	"$PY" -c 'import sys
print(sum(1 for l in open(sys.argv[1]) if float(l.split()[0]) >= float(sys.argv[2])
          and (len(sys.argv) < 4 or l.split()[1] == sys.argv[3])))' "$T/hits" "$from" ${2:+"$2"}
}

# A service the probes watch: accepts on 127.0.0.1:SVC_PORT and closes (SVC_PID); probes.sh has its own.
serve() {
	"$PY" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
while True:
    c, _ = s.accept(); c.close()' "$SVC_PORT" &
	SVC_PID=$!
	PIDS="$PIDS $SVC_PID"
	wait_for 10 "service up" port_up "$SVC_PORT"
}

# The agent's probe of the service serve() starts, for write_agent_conf.
svc_probe() { printf '[probe "svc-web"]\ntype=tcp\naddress=127.0.0.1:%s\ninterval=500ms\ntimeout=1s\n' "$SVC_PORT"; }

# The collector's alerting each second, and the rule svc-down over svc_probe()'s probe told to the webhook
# receiver.py takes at RCV_PORT, for write_collector_conf; its extra lines ([rule] keys) after it.
svc_rule() {
	printf '[alerts]\ninterval=1s\n[notify "hook"]\ntype=webhook\nurl=http://127.0.0.1:%s/hook\n' "$RCV_PORT"
	printf '[rule "svc-down"]\ntype=probe\nprobe=svc-*\nnotify=hook\n%s' "${1:-}"
}

# receiver.py on 127.0.0.1:RCV_PORT, logging to $T/received.jsonl; MODE file $T/mode.
start_receiver() { # mode dingtalk-secret
	echo "$1" > "$T/mode"
	touch "$T/received.jsonl"
	"$PY" "$S/tests/integration/receiver.py" "$RCV_PORT" "$T/received.jsonl" "$T/mode" "$2" &
	PIDS="$PIDS $!"
	wait_for 10 "receiver up" port_up "$RCV_PORT"
}

REMOTE=/usr/lib/systemd/systemd-journal-remote
[ -x "$REMOTE" ] || REMOTE=/lib/systemd/systemd-journal-remote
# The collector, and an agent configuration reading the journal files in $J (and the [journal] keys given), with an admin $TOKEN.
start_journal_collector() { # [journal keys]
	write_collector_conf
	write_agent_conf "[journal]
enabled=yes
directory=$J
$*"
	TOKEN=$(make_token admin)
	start_collector
}
# Enrollment on, as in production: the collector's own CA in $CA, the API on HTTPS at $URL (which
# curl trusts once the CA is made), ingest on TLS; $ENROLL_HTTP goes after [http] (write_collector_conf).
enrollment_setup() {
	CA="$T/data/ca"
	URL="https://127.0.0.1:$HTTP_PORT"
	export CURL_CA_BUNDLE="$CA/ca.pem"
	INGEST_ADDR="tls+tcp://127.0.0.1:$INGEST_PORT"
	INGEST_EXTRA="tls_ca=$CA/ca.pem
tls_cert=$CA/server.pem
tls_key=$CA/server.key"
	ENROLL_HTTP="tls_cert=$CA/server.pem
tls_key=$CA/server.key
[enroll]
enabled=yes"
}
# Entries start.. (count of them, mkjournal.py's) appended to $J/remote.journal by journal-remote.
journal_add() { # start count [expect-file]
	"$PY" "$S/tests/integration/mkjournal.py" "$1" "$2" ${3:+--expect "$3"} |
		"$REMOTE" --output="$J/remote.journal" - 2>> "$T/remote.log"
}

INGEST_PORT=$(free_port)
HTTP_PORT=$(free_port)
URL="http://127.0.0.1:$HTTP_PORT"

write_collector_conf() { # [extra ini text]
	cat > "$T/collector.conf" <<EOC
[ingest]
listen=${INGEST_ADDR:-tcp://127.0.0.1:$INGEST_PORT}
${INGEST_EXTRA:-}
[storage]
data_dir=$T/data
sync=${STORAGE_SYNC:-no}
[http]
listen=127.0.0.1:$HTTP_PORT
console_dir=${CONSOLE_DIR:-$B/console/dist}
${1:-}
EOC
}

write_agent_conf() { # [extra ini text]
	mkdir -p "$T/logs"
	cat > "$T/agent.conf" <<EOC
[agent]
state_dir=$T/state
id=${AGENT_ID:-00112233445566778899aabbccddeeff}
hostname=testhost
# Exact record counts: the agent's own records only where a test asks.
inventory=${AGENT_INVENTORY:-no}
heartbeat=${AGENT_HEARTBEAT:-0}
${AGENT_EXTRA:-}
[collector]
address=${AGENT_ADDR:-tcp://127.0.0.1:$INGEST_PORT}
timeout=${AGENT_TIMEOUT:-2s}
backoff_max=1s
${COLLECTOR_EXTRA:-}
[metrics]
enabled=${AGENT_METRICS:-no}
[batch]
max_delay_ms=${MAX_DELAY:-100}
${BATCH_EXTRA:-}
[spool]
sync=${SPOOL_SYNC:-no}
${SPOOL_EXTRA:-}
[tail "app"]
path=$T/logs/*.log
${1:-}
EOC
}

# named_agent_conf N ID LABELS: $T/agent-N.conf, an agent with its own state, hostname host-N and labels,
# following $T/logs/N-*.log, sending its inventory and a heartbeat each second, taking from the
# collector's config groups what is within $T (docs/control.md).
named_agent_conf() {
	mkdir -p "$T/logs"
	cat > "$T/agent-$1.conf" <<EOC
[agent]
state_dir=$T/state-$1
id=$2
hostname=host-$1
labels=$3
inventory=yes
heartbeat=1s
[collector]
address=tcp://127.0.0.1:$INGEST_PORT
timeout=2s
backoff_max=1s
[metrics]
enabled=no
[batch]
max_delay_ms=100
[spool]
sync=no
[central]
allow_paths=$T/*
[tail "app"]
path=$T/logs/$1-*.log
EOC
}
# start_named_agent N: the agent of $T/agent-N.conf, its PID in AGENT_PIDS[N].
declare -A AGENT_PIDS
start_named_agent() {
	"$B/vigil-agent" --config "$T/agent-$1.conf" >> "$T/agent-$1.log" 2>&1 &
	AGENT_PIDS[$1]=$!
	PIDS="$PIDS $!"
}

COLLECTOR_PID=""
AGENT_PID=""

start_collector() {
	"$B/vigil-collector" --config "$T/collector.conf" >> "$T/collector.log" 2>&1 &
	COLLECTOR_PID=$!
	PIDS="$PIDS $COLLECTOR_PID"
	wait_for 10 "collector API up" api_up
}

stop_collector() { # [signal]
	kill "-${1:-TERM}" "$COLLECTOR_PID" 2>/dev/null || true
	wait "$COLLECTOR_PID" 2>/dev/null || true
}

start_agent() {
	"$B/vigil-agent" --config "$T/agent.conf" >> "$T/agent.log" 2>&1 &
	AGENT_PID=$!
	PIDS="$PIDS $AGENT_PID"
}

stop_agent() { # [signal]
	kill "-${1:-TERM}" "$AGENT_PID" 2>/dev/null || true
	wait "$AGENT_PID" 2>/dev/null || true
}

make_user() { # name role password: a user of the console, made as an administrator makes one
	echo "$3" | "$B/vigil-collector" --config "$T/collector.conf" --create-user "$1" --role "$2" > /dev/null ||
		fail "--create-user $1"
}

make_token() { # role
	"$B/vigil-collector" --config "$T/collector.conf" --create-token "t-$1-$RANDOM$RANDOM" --role "$1"
}

api_up() { curl -s -o /dev/null "$URL/api/v1/hosts"; }

. "$S/tests/integration/wait.sh"

api() { # method path token [body]: prints the status; the answer in $T/answer.json
	curl -s -o "$T/answer.json" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3" \
		${4:+-H 'Content-Type: application/json' --data-binary "$4"} "$URL$2"
}
# Console sessions, by name, on $URL:
# jar NAME: curl with the cookie jar of NAME; csrf NAME: the CSRF token its last login answered.
jar() { local j=$1; shift; curl -s -b "$T/$j.jar" -c "$T/$j.jar" -o "$T/$j.json" -w '%{http_code}' "$@"; }
csrf() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("csrf", ""))' "$T/$1.csrf"; }
login() { # name user password [extra json]
	local code
	code=$(jar "$1" -D "$T/$1.headers" -H 'Content-Type: application/json' -d "{\"user\":\"$2\",\"password\":\"$3\"${4:-}}" \
		"$URL/api/v1/session")
	[ "$code" = 200 ] && cp "$T/$1.json" "$T/$1.csrf"
	echo "$code"
}
# as NAME METHOD PATH [body]: a request of the session, with its CSRF token.
as() { jar "$1" -X "$2" -H "X-CSRF-Token: $(csrf "$1")" -H 'Content-Type: application/json' ${4:+-d "$4"} "$URL$3"; }
totp() { # base32-secret [seconds from now]
	"$PY" - "$1" "${2:-0}" <<'PYEOF'
import base64, hmac, struct, sys, time
key = base64.b32decode(sys.argv[1] + "=" * (-len(sys.argv[1]) % 8))
mac = hmac.new(key, struct.pack(">Q", int(time.time() + int(sys.argv[2])) // 30), "sha1").digest()
o = mac[19] & 15
print("%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7fffffff) % 1000000))
PYEOF
}
member() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$T/$1.json" "$2"; }

# Pulls every stored log through the API with cursors; prints messages.
pull_messages() { "$PY" "$S/tests/integration/pull.py" "$URL" "$TOKEN" "$@"; }

# Records stored so far, summed over hosts (persistent, cheap to poll).
stored_count() {
	curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/hosts" |
		"$PY" -c 'import json,sys; print(sum(h["records"] for h in json.load(sys.stdin)["items"]))'
}
count_is() { [ "$(stored_count)" = "$1" ]; }

metric() { # name-with-labels
	curl -s -H "Authorization: Bearer $TOKEN" "$URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

# config_refused PROGRAM CONF PATTERN...: --check-config refuses CONF and prints each error (a grep pattern).
config_refused() {
	local prog=$1 conf=$2 want
	shift 2
	"$B/$prog" --config "$conf" --check-config > "$T/check.out" 2>&1 && fail "$conf passed --check-config"
	for want in "$@"; do
		grep -q "$want" "$T/check.out" || { cat "$T/check.out"; fail "missing error: $want"; }
	done
}

# The agent's spool counters (vigil-agent --status), by name.
agent_status() { "$B/vigil-agent" --config "$T/agent.conf" --status | awk -v k="$1" '$1 == k { print $2 }'; }
agent_status_is() { [ "$(agent_status "$1")" = "$2" ]; }

# Certificates made for a test, in $P: mkca NAME; mkcert NAME CA server|client.
P="$T/pki"
mkdir -p "$P"
cat > "$P/ext.cnf" <<EOC
[server]
subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth
[client]
extendedKeyUsage=clientAuth
EOC
mkca() { # name
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=$1" \
		-keyout "$P/$1.key" -out "$P/$1.crt" 2>/dev/null
}
mkcert() { # name ca ext
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
		-keyout "$P/$1.key" -out "$P/$1.csr" 2>/dev/null
	openssl x509 -req -in "$P/$1.csr" -CA "$P/$2.crt" -CAkey "$P/$2.key" -CAcreateserial -days 30 \
		-extfile "$P/ext.cnf" -extensions "$3" -out "$P/$1.crt" 2>/dev/null
}

# dialtest_run ID TOKEN: asks for a run of dial test ID (202) and waits for
# its result, written to $T/answer.json.
dialtest_run() {
	local code
	code=$(curl -s -o "$T/asked.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $2" "$URL/api/v1/dialtests/$1/run")
	[ "$code" = 202 ] || fail "running $1: $code $(cat "$T/asked.json")"
	"$PY" - "$URL" "$2" "$T/asked.json" "$T/answer.json" <<'PYEOF' || fail "no result of dial test $1's run"
import json, sys, time, urllib.error, urllib.request
url, token, asked, out = sys.argv[1:]
a = json.load(open(asked))
for _ in range(600):
    req = urllib.request.Request(url + a["results"].replace("?", "?limit=1000&"), headers={"Authorization": "Bearer " + token})
    try:
        items = json.load(urllib.request.urlopen(req, timeout=10))["items"]
    except urllib.error.HTTPError as e:
        sys.exit("%s: %d %s" % (req.full_url, e.code, e.read().decode()))
    for it in items:
        if it["scheduled"] == a["scheduled"]:
            json.dump(it, open(out, "w"))
            sys.exit(0)
    time.sleep(0.1)
sys.exit(1)
PYEOF
}

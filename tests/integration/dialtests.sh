#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Dial tests against real servers on 127.0.0.1: Debian's nginx (plain, TLS
# with a certificate the test made, TLS with one expiring in 5 days and
# TLS 1.2 only, TLS asking for a client certificate), an API of the test's own with a login step whose token the
# next step must send (the password a secret read from a file), a server
# that accepts and never answers. Every assertion kind passes and fails;
# slow answers meet timeouts and latency limits; redirects, a refused port,
# an unresolvable name, an untrusted certificate; retries; scheduled runs
# stored as probe results and metrics, on time while a test against the
# silent server hangs, read by dial test alert rules; the
# API's checks, roles and history; vigilctl. The whole test runs in a
# network namespace of its own (loopback only): the unresolvable name fails
# at once and no query leaves the machine.
if [ -z "${VIGIL_NETNS:-}" ]; then
	if ! unshare -n true 2>/dev/null; then
		echo "SKIP: cannot make a network namespace"
		exit 77
	fi
	exec unshare -n env VIGIL_NETNS=1 bash "$0" "$@"
fi
ip link set lo up
. "$(dirname "$0")/lib.sh"

info "servers: nginx (plain, TLS, TLS expiring soon), the login API, a server that never answers"
P="$T/pki"
mkdir -p "$P" "$T/ngx" "$T/dialtests.d"
printf '[server]\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n[client]\nextendedKeyUsage=clientAuth\n' > "$P/ext.cnf"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=test-ca" \
	-keyout "$P/ca.key" -out "$P/ca.crt" 2>/dev/null
mkcert() { # name days [extensions]
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
		-keyout "$P/$1.key" -out "$P/$1.csr" 2>/dev/null
	openssl x509 -req -in "$P/$1.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days "$2" \
		-extfile "$P/ext.cnf" -extensions "${3:-server}" -out "$P/$1.crt" 2>/dev/null
}
mkcert long 200
mkcert soon 5
mkcert client 30 client
NGX=$(free_port) NGX_TLS=$(free_port) NGX_SOON=$(free_port) NGX_MTLS=$(free_port) API=$(free_port) HANG=$(free_port)
DEAD=$(free_port)
cat > "$T/nginx.conf" <<EOC
daemon off;
master_process off;
worker_processes 1;
pid $T/nginx.pid;
error_log $T/nginx-error.log;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $T/ngx; proxy_temp_path $T/ngx; fastcgi_temp_path $T/ngx;
	uwsgi_temp_path $T/ngx; scgi_temp_path $T/ngx;
	server {
		listen 127.0.0.1:$NGX;
		location /ok { default_type text/plain; return 200 "hello gov\n"; }
		location /json { default_type application/json; return 200 '{"code":0,"items":[1,2,3],"msg":"all ok"}'; }
		location /redirect { return 302 /ok; }
	}
	server {
		listen 127.0.0.1:$NGX_TLS ssl;
		ssl_certificate $P/long.crt; ssl_certificate_key $P/long.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		location / { default_type text/plain; return 200 "secure\n"; }
	}
	server {
		listen 127.0.0.1:$NGX_SOON ssl;
		ssl_certificate $P/soon.crt; ssl_certificate_key $P/soon.key;
		ssl_protocols TLSv1.2;
		location / { default_type text/plain; return 200 "soon\n"; }
	}
	server {
		listen 127.0.0.1:$NGX_MTLS ssl;
		ssl_certificate $P/long.crt; ssl_certificate_key $P/long.key;
		ssl_client_certificate $P/ca.crt; ssl_verify_client on;
		location / { default_type text/plain; return 200 "client \$ssl_client_s_dn\n"; }
	}
}
EOC
nginx -p "$T" -c "$T/nginx.conf" &
PIDS="$PIDS $!"
mkdir -p "$T/secrets"
echo 'Pa55-政务' > "$T/secrets/probe.pw"
"$PY" "$S/tests/integration/dialapi.py" "$API" "$(cat "$T/secrets/probe.pw")" "$T/api.jsonl" &
PIDS="$PIDS $!"
"$PY" -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
held = []
while True:
    c, _ = s.accept(); held.append(c)' "$HANG" &
PIDS="$PIDS $!"
for port in $NGX $NGX_TLS $NGX_SOON $NGX_MTLS $API $HANG; do wait_for 10 "a server on $port" port_up "$port"; done

N="http://127.0.0.1:$NGX"
cat > "$T/dialtests.d/sched-ok.json" <<EOJ
{"name":"sched-ok","interval":"1s","timeout":"2s","labels":{"dept":"data"},
 "steps":[{"name":"get","url":"$N/ok","assert":[{"type":"status","in":[200]}]}]}
EOJ
cat > "$T/dialtests.d/sched-broken.json" <<EOJ
{"name":"sched-broken","interval":"1s","timeout":"1s",
 "steps":[{"name":"get","url":"http://127.0.0.1:$DEAD/"}]}
EOJ
cat > "$T/dialtests.d/sched-hang.json" <<EOJ
{"name":"sched-hang","interval":"1s","timeout":"5s","steps":[{"name":"get","url":"http://127.0.0.1:$HANG/"}]}
EOJ
cat > "$T/dialtests.d/sched-soon.json" <<EOJ
{"name":"sched-soon","interval":"1s","steps":[{"name":"get","url":"https://127.0.0.1:$NGX_SOON/","tls_ca":"$P/ca.crt"}]}
EOJ
write_collector_conf "[dialtests]
dir=$T/dialtests.d
secrets_dir=$T/secrets
[alerts]
interval=1s
[rule \"dt-down\"]
type=dialtest
dialtest=sched-*
severity=critical
[rule \"dt-cert\"]
type=dialtest
condition=cert_days
below=30
[rule \"dt-slow\"]
type=dialtest
condition=latency
above=60000"
ADMIN=$(make_token admin)
OPERATOR=$(make_token operator)
VIEWER=$(make_token viewer)
TOKEN=$ADMIN
start_collector

holds() { # python expression on r, the answer
	"$PY" -c 'import json, sys
r = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    sys.exit("does not hold: " + sys.argv[2] + "\n" + json.dumps(r, ensure_ascii=False)[:3000])' "$T/answer.json" "$1"
}
define() { # json: defines the test, sets ID; a 503 (the database busy, nothing made) is tried again, as a client would
	local code tries=0
	while code=$(api POST /api/v1/dialtests "$ADMIN" "$1") && [ "$code" = 503 ] && [ $((tries += 1)) -le 5 ]; do
		sleep 1
	done
	[ "$code" = 201 ] || fail "defining: $code $(cat "$T/answer.json")"
	ID=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/answer.json")
}
run() { # id: runs it now, the result in $T/answer.json
	dialtest_run "$1" "$OPERATOR"
}
step() { # name url [more step JSON]: one step, for the tests below
	echo "{\"name\":\"$1\",\"url\":\"$2\"${3:+,$3}}"
}
one() { # name timeout step
	echo "{\"name\":\"$1\",\"interval\":\"1h\",\"timeout\":\"$2\",\"steps\":[$3]}"
}

info "a change while another writer holds meta.db past the busy timeout: 503 busy, Retry-After, nothing made"
"$PY" - "$T/data/meta.db" "$T/held" <<'PYEOF' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(7)
db.execute("ROLLBACK")
PYEOF
HOLDER=$!
wait_for 10 "meta.db held" test -e "$T/held"
code=$(curl -s -D "$T/busy.headers" -o "$T/answer.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN" \
	-H 'Content-Type: application/json' --data-binary "$(one held 1s '{"name":"s","url":"http://127.0.0.1:1/"}')" \
	"$URL/api/v1/dialtests")
wait "$HOLDER" || fail "the writer holding meta.db failed"
[ "$code" = 503 ] || fail "a change while meta.db is held: $code $(cat "$T/answer.json")"
holds 'r["error"] == "busy" and "try again" in r["reason"]' || fail "the busy answer's reason"
grep -qi '^Retry-After: 1' "$T/busy.headers" || fail "no Retry-After: $(cat "$T/busy.headers")"
api GET /api/v1/dialtests "$VIEWER" > /dev/null
holds 'all(t["name"] != "held" for t in r["items"])' || fail "a refused change made a test"
define "$(one held 1s '{"name":"s","url":"http://127.0.0.1:1/"}')"

info "a login step's token goes to the next step; the password is a secret read from a file"
define "{\"name\":\"license-api\",\"interval\":\"1h\",\"timeout\":\"5s\",\"retries\":1,\"labels\":{\"dept\":\"data\"},
 \"secrets\":{\"probe_pw\":{\"file\":\"$T/secrets/probe.pw\"}},
 \"steps\":[{\"name\":\"login\",\"method\":\"POST\",\"url\":\"http://127.0.0.1:$API/login\",
   \"headers\":{\"Content-Type\":\"application/json\"},
   \"body\":\"{\\\"user\\\":\\\"probe\\\",\\\"password\\\":\\\"{{secret:probe_pw}}\\\"}\",
   \"assert\":[{\"type\":\"status\",\"in\":[200]},{\"type\":\"json\",\"path\":\"\$.code\",\"op\":\"==\",\"value\":0},
             {\"type\":\"latency\",\"max_ms\":2000}],
   \"extract\":[{\"name\":\"token\",\"from\":\"json\",\"path\":\"\$.data.token\"},
              {\"name\":\"rid\",\"from\":\"header\",\"header\":\"X-Request-Id\"}]},
  {\"name\":\"query\",\"url\":\"http://127.0.0.1:$API/items\",\"headers\":{\"Authorization\":\"Bearer {{token}}\",\"X-After\":\"{{rid}}\"},
   \"assert\":[{\"type\":\"body\",\"regex\":\"\\\"items\\\"\"},{\"type\":\"json\",\"path\":\"\$.items[0].name\",\"op\":\"==\",\"value\":\"营业执照\"},
             {\"type\":\"json\",\"path\":\"\$.token\",\"op\":\"==\",\"value\":\"{{token}}\"},{\"type\":\"body\",\"contains\":\"{{token}}\"}]}]}"
LOGIN=$ID
run "$LOGIN"
holds 'r["ok"] and r["outcome"] == "ok" and [s["status"] for s in r["steps"]] == [200, 200] and r["attempts"] == 1' ||
	fail "the login flow"
holds 'all(k in r["steps"][0]["timings_ms"] for k in ("dns","connect","tls","ttfb","transfer","redirect","total"))' ||
	fail "timings"
"$PY" - "$T/api.jsonl" <<'PYEOF' || fail "what the API server saw: $(cat "$T/api.jsonl")"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
login, items = reqs[-2], reqs[-1]
token = None
assert login["method"] == "POST" and json.loads(login["body"])["password"] == "Pa55-政务", login
assert items["headers"]["Authorization"].startswith("Bearer ") and len(items["headers"]["Authorization"]) == 23, items
assert len(items["headers"]["X-After"]) == 8, items
PYEOF
api GET "/api/v1/dialtests/$LOGIN" "$VIEWER" > /dev/null
grep -q 'Pa55' "$T/answer.json" && fail "the secret is in the definition's answer"
for f in "$T"/collector.log; do grep -q 'Pa55' "$f" && fail "the secret is in $f"; done

info "every assertion kind holds"
define "$(one all-pass 5s "$(step json "$N/json" '"assert":[{"type":"status","in":[200,204]},
 {"type":"body","contains":"all ok"},{"type":"body","regex":"\"items\": *\\["},{"type":"body","not_regex":"error"},
 {"type":"header","name":"content-type","regex":"^application/json"},
 {"type":"json","path":"$.code","op":"==","value":0},{"type":"json","path":"$.code","op":"!=","value":1},
 {"type":"json","path":"$.items[2]","op":"<","value":4},{"type":"json","path":"$.items[0]","op":">","value":0},
 {"type":"json","path":"$.items","op":"contains","value":2},{"type":"json","path":"$.msg","op":"contains","value":"ok"},
 {"type":"json","path":"$.msg","op":"exists"},{"type":"latency","max_ms":2000}]'),
 $(step tls "https://127.0.0.1:$NGX_TLS/" "\"tls_ca\":\"$P/ca.crt\",\"assert\":[{\"type\":\"cert\",\"min_days\":30},{\"type\":\"tls\",\"min_version\":\"1.2\"}]")")"
run "$ID"
holds 'r["ok"] and r["steps"][1]["cert_days_left"] in (198, 199, 200) and r["steps"][1]["tls_version"] == "1.3"' ||
	fail "all assertions"

info "every assertion kind fails, saying which and what was seen"
# Each test of fails() and cant() has a name of its own: $RANDOM gave two the same once (409).
NTH=0
fails() { # assertion JSON, expected type, python expression on the failure f, [url]
	NTH=$((NTH + 1))
	define "$(one "fails-$NTH" 5s "$(step s "${4:-$N/json}" "\"tls_ca\":\"$P/ca.crt\",\"assert\":[$1]")")"
	run "$ID"
	holds "r['outcome'] == 'assertion_failed' and (f := r['steps'][0]['failed_assertion'])['type'] == '$2' and ($3)" ||
		fail "a failing $2 assertion"
}
fails '{"type":"status","in":[201]}' status 'f["actual"] == 200 and f["expected"] == [201]'
fails '{"type":"body","contains":"nope"}' body '"all ok" in f["actual"]'
fails '{"type":"body","regex":"^x"}' body 'f["regex"] == "^x"'
fails '{"type":"body","not_regex":"items"}' body 'f["not_regex"] == "items"'
fails '{"type":"header","name":"Content-Type","regex":"^image/"}' header 'f["actual"] == "application/json"'
fails '{"type":"header","name":"X-Nope","regex":"."}' header 'f["actual"] is None'
fails '{"type":"json","path":"$.code","op":"==","value":1}' json 'f["actual"] == 0 and f["expected"] == 1'
fails '{"type":"json","path":"$.items","op":"contains","value":9}' json 'f["actual"] == [1, 2, 3]'
fails '{"type":"json","path":"$.nope","op":"exists"}' json 'f["actual"] is None'
fails '{"type":"latency","max_ms":100}' latency 'f["actual"] >= 300' "http://127.0.0.1:$API/slow?ms=300"
fails '{"type":"cert","min_days":30}' cert 'f["actual"] in (3, 4, 5)' "https://127.0.0.1:$NGX_SOON/"
fails '{"type":"tls","min_version":"1.3"}' tls 'f["actual"] == "1.2"' "https://127.0.0.1:$NGX_SOON/"
fails '{"type":"json","path":"$.code","op":"==","value":0}' json 'f["actual"] == "(the body is not JSON)"' "$N/ok"

info "the probe could not run: timeout, refused, no such name, untrusted, a server that never answers"
cant() { # step JSON, timeout, error kind, python expression on the error e
	NTH=$((NTH + 1))
	define "$(one "cant-$NTH" "$2" "$1")"
	run "$ID"
	holds "r['outcome'] == 'probe_error' and (e := r['steps'][0]['error'])['kind'] == '$3' and ($4)" ||
		fail "a $3 error"
}
cant "$(step slow "http://127.0.0.1:$API/slow?ms=3000")" 1s timeout '"imed out" in e["message"]'
cant "$(step refused "http://127.0.0.1:$DEAD/")" 2s connect '"onnect" in e["message"]'
cant "$(step nxdomain "http://no-such-host.invalid/")" 2s dns '"resolve" in e["message"]'
cant "$(step untrusted "https://127.0.0.1:$NGX_TLS/")" 2s tls '"certificate" in e["message"]'
cant "$(step hang "http://127.0.0.1:$HANG/")" 1s timeout '"0 bytes received" in e["message"]'
cant "$(step nosecret "http://127.0.0.1:$API/login" '"body":"{{secret:nope}}"')" 2s config '"{{secret:nope}}" in e["message"]'
define "$(one secret-in-assert 2s "$(step s "$N/json" '"assert":[{"type":"body","contains":"{{secret:pw}}"}]')")"
run "$ID"
holds 'r["steps"][0]["failed_assertion"]["reason"] == "{{secret:pw}}: no such secret, or it cannot be read"' ||
	fail "a secret in an assertion"
define "$(one unverified 2s "$(step tls "https://127.0.0.1:$NGX_TLS/" '"tls_verify":false')")"
run "$ID"
holds 'r["ok"]' || fail "tls_verify=false"

info "a client certificate: sent when given, refused without"
define "$(one mtls 2s "$(step s "https://127.0.0.1:$NGX_MTLS/" "\"tls_ca\":\"$P/ca.crt\",\"client_cert\":\"$P/client.crt\",\"client_key\":\"$P/client.key\",\"assert\":[{\"type\":\"status\",\"in\":[200]},{\"type\":\"body\",\"contains\":\"CN=localhost\"}]")")"
run "$ID"
holds 'r["ok"]' || fail "the client certificate"
fails '{"type":"status","in":[200]}' status 'f["actual"] == 400' "https://127.0.0.1:$NGX_MTLS/"

info "redirects: not followed unless asked"
define "$(one redirect-stop 2s "$(step r "$N/redirect" '"assert":[{"type":"status","in":[200]}]')")"
run "$ID"
holds 'r["steps"][0]["failed_assertion"]["actual"] == 302' || fail "a redirect followed unasked"
define "$(one redirect-follow 2s "$(step r "$N/redirect" '"follow_redirects":true,"assert":[{"type":"status","in":[200]},{"type":"body","contains":"hello gov"}]')")"
run "$ID"
holds 'r["ok"] and r["steps"][0]["timings_ms"]["redirect"] > 0' || fail "a redirect not followed"

info "a failure is tried again before it counts; an extraction that finds nothing fails the step"
define "{\"name\":\"retried\",\"interval\":\"1h\",\"timeout\":\"1s\",\"retries\":2,\"steps\":[$(step s "http://127.0.0.1:$DEAD/")]}"
run "$ID"
holds 'r["attempts"] == 3 and r["outcome"] == "probe_error"' || fail "retries"
define "$(one no-token 2s "$(step s "$N/json" '"extract":[{"name":"t","from":"json","path":"$.data.token"}]')")"
run "$ID"
holds 'r["steps"][0]["failed_assertion"] == {"type":"extract","name":"t","reason":"t: no value at $.data.token"}' ||
	fail "a missing extraction"

info "scheduled runs are stored: results, summary, probe state, metrics"
SCHED=$(curl -s -H "Authorization: Bearer $ADMIN" "$URL/api/v1/dialtests" |
	"$PY" -c 'import json,sys; print([t["id"] for t in json.load(sys.stdin)["items"] if t["name"] == "sched-ok"][0])')
three_runs() { [ "$(curl -s -H "Authorization: Bearer $VIEWER" "$URL/api/v1/dialtests/$1/results" |
	"$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')" -ge 3 ]; }
wait_for 20 "three scheduled runs stored" three_runs "$SCHED"
api GET "/api/v1/dialtests/$SCHED/results?limit=3" "$VIEWER" > /dev/null
holds 'len(r["items"]) == 3 and all(i["ok"] and 0 <= i["started"] - i["scheduled"] < 500000 for i in r["items"])' ||
	fail "scheduled results (on time while sched-hang hangs)"
skipped() { [ "$(metric vigil_dialtest_runs_skipped_total)" -ge 1 ] 2>/dev/null; }
wait_for 20 "sched-hang misses starts while its runs hang" skipped
holds 'r["items"][0]["started"] > r["items"][1]["started"] and r["items"][0]["scheduled"] - r["items"][1]["scheduled"] == 1000000' ||
	fail "runs keep their phase, newest first"
api GET "/api/v1/dialtests/$SCHED/summary?window=1h" "$VIEWER" > /dev/null
holds 'r["availability_pct"] == 100.0 and r["steps"]["get"]["runs"] >= 3 and r["steps"]["get"]["p99_ms"] > 0' ||
	fail "summary"
BROKEN=$(curl -s -H "Authorization: Bearer $ADMIN" "$URL/api/v1/dialtests" |
	"$PY" -c 'import json,sys; print([t["id"] for t in json.load(sys.stdin)["items"] if t["name"] == "sched-broken"][0])')
wait_for 20 "failing scheduled runs stored" three_runs "$BROKEN"
api GET "/api/v1/dialtests/$BROKEN/summary" "$VIEWER" > /dev/null
holds 'r["availability_pct"] == 0.0 and r["failures"]["probe_error"]["connect"] == r["runs"]' || fail "failures by reason"
api GET "/api/v1/probes" "$VIEWER" > /dev/null
holds 'any(p["name"] == "sched-ok" and p["type"] == "dialtest" and p["status"] == "ok" for p in r["items"])' ||
	fail "probe state"
api GET "/api/v1/metrics?name=dialtest.total_ms" "$VIEWER" > /dev/null
holds 'any(s["instance"] == "sched-ok" for s in r["series"])' || fail "metrics"
# The results are the collector's own, under its host name; they make no host of the fleet (no agent runs here).
api GET "/api/v1/hosts" "$VIEWER" > /dev/null
holds 'r["items"] == []' || fail "the collector's dial tests listed as a host"

info "dial test rules: a failing test fires, a certificate about to expire fires, the fast ones do not"
firing() { # rule dialtest
	curl -s -H "Authorization: Bearer $VIEWER" "$URL/api/v1/alerts?state=firing" |
		"$PY" -c 'import json, sys
sys.exit(0 if any(a["rule"] == sys.argv[1] and a["labels"].get("dialtest") == sys.argv[2] for a in json.load(sys.stdin)["items"]) else 1)' "$1" "$2"
}
wait_for 20 "dt-down fires for sched-broken" firing dt-down sched-broken
wait_for 20 "dt-cert fires for sched-soon" firing dt-cert sched-soon
firing dt-down sched-ok && fail "dt-down fired for a passing test"
firing dt-slow sched-ok && fail "dt-slow fired"

info "the API checks definitions, keeps a history, and knows who may do what"
[ "$(api POST /api/v1/dialtests "$ADMIN" '{"name":"bad","steps":[{"name":"s","url":"ftp://x"}]}')" = 400 ] &&
	holds 'r["reason"] == "steps[0].url: expected http:// or https://"' || fail "a bad definition: $(cat "$T/answer.json")"
[ "$(api POST /api/v1/dialtests "$ADMIN" "$(one all-pass 1s "$(step s "$N/ok")")")" = 409 ] || fail "a second all-pass"
[ "$(api POST /api/v1/dialtests "$OPERATOR" "$(one op 1s "$(step s "$N/ok")")")" = 403 ] || fail "an operator defined a test"
[ "$(api PUT "/api/v1/dialtests/$SCHED" "$ADMIN" "$(one sched-ok 1s "$(step s "$N/ok")")")" = 409 ] &&
	holds '"sched-ok.json; change it there" in r["reason"]' || fail "a file's test changed through the API"
[ "$(api PUT "/api/v1/dialtests/$LOGIN" "$ADMIN" "$(one license-api 3s "$(step s "$N/ok")")")" = 200 ] || fail "PUT"
api GET "/api/v1/dialtests/$LOGIN" "$VIEWER" > /dev/null
holds '[h["action"] for h in r["history"]] == ["created", "updated"] and r["history"][1]["actor"].startswith("t-admin-") and r["timeout"] == "3s"' ||
	fail "history"
[ "$(api DELETE "/api/v1/dialtests/$LOGIN" "$ADMIN")" = 200 ] || fail "DELETE"
[ "$(api POST "/api/v1/dialtests/$LOGIN/run" "$OPERATOR")" = 404 ] || fail "a deleted test ran"

info "vigilctl: list, show, add, edit, run with a waterfall, results"
ctl() { VIGIL_TOKEN=$ADMIN "$B/vigilctl" --url "$URL" "$@"; }
one ctl-test 2s "$(step home "$N/ok" '"assert":[{"type":"status","in":[200]}]'),$(step tls "https://127.0.0.1:$NGX_TLS/" "\"tls_ca\":\"$P/ca.crt\"")" > "$T/ctl.json"
ctl dialtest add "$T/ctl.json" > "$T/ctl.out" || fail "vigilctl dialtest add: $(cat "$T/ctl.out")"
CID=$(awk '/^id / { print $2 }' "$T/ctl.out")
[ -n "$CID" ] || fail "no id: $(cat "$T/ctl.out")"
ctl dialtest list | grep -qE "^$CID +ctl-test +1h +2 +api" || fail "vigilctl dialtest list: $(ctl dialtest list)"
ctl dialtest run "$CID" > "$T/ctl-run.out" || fail "vigilctl dialtest run"
grep -q "^ctl-test: ok" "$T/ctl-run.out" && grep -qE "^  home +200 " "$T/ctl-run.out" && grep -qE "^  tls +200 " "$T/ctl-run.out" ||
	fail "waterfall: $(cat "$T/ctl-run.out")"
sed 's/"2s"/"4s"/' "$T/ctl.json" > "$T/ctl2.json"
ctl dialtest edit "$CID" "$T/ctl2.json" > /dev/null || fail "vigilctl dialtest edit"
ctl dialtest show "$CID" | grep -q '"timeout": "4s"' || fail "vigilctl dialtest show: $(ctl dialtest show "$CID")"
ctl dialtest results "$CID" | grep -qE "ok +2 steps" || fail "vigilctl dialtest results: $(ctl dialtest results "$CID")"
ctl dialtest summary "$CID" > "$T/ctl-sum.out" || fail "vigilctl dialtest summary"
grep -qE "^dial test $CID over 86400 s: [1-9][0-9]* runs, [1-9][0-9]* ok, availability 100.000%" "$T/ctl-sum.out" &&
	grep -qE "^home +[1-9][0-9]* +[0-9.]+ " "$T/ctl-sum.out" || fail "vigilctl dialtest summary: $(cat "$T/ctl-sum.out")"
one ctl-fails 2s "$(step home "$N/ok" '"assert":[{"type":"status","in":[599]}]')" > "$T/ctl-fails.json"
FID=$(ctl dialtest add "$T/ctl-fails.json" | awk '/^id / { print $2 }')
set +e
ctl dialtest run "$FID" > "$T/ctl-fails.out"
rc=$?
set -e
[ $rc = 3 ] && grep -q "^ctl-fails: assertion_failed" "$T/ctl-fails.out" ||
	fail "a failing run exits $rc: $(cat "$T/ctl-fails.out")"

info "runs asked for are answered at once (202), keep within per_host, and all run"
LIVE=$(free_port)
"$PY" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
conns, total, most = [], 0, 0
def open_still(c):  # reads what came; a closed one has ended before the next is taken
    try:
        while True:
            if not c.recv(4096, socket.MSG_DONTWAIT):
                return False
    except BlockingIOError:
        return True
    except OSError:
        return False
while True:
    c, _ = s.accept()
    conns = [x for x in conns if open_still(x)] + [c]
    total += 1; most = max(most, len(conns))
    open(sys.argv[2], "w").write("%d %d\n" % (total, most))' "$LIVE" "$T/live.count" &
PIDS="$PIDS $!"
wait_for 10 "a server on $LIVE" port_up "$LIVE"
define "$(one many-hang 5s "$(step hang "http://127.0.0.1:$LIVE/")")"
t0=$(date +%s%N)
for i in $(seq 12); do
	curl -s -o "$T/asked-$i.json" -w '%{http_code}\n' -X POST -H "Authorization: Bearer $OPERATOR" \
		"$URL/api/v1/dialtests/$ID/run" > "$T/asked-$i.code" &
done
wait_for 10 "the 12 answers" sh -c "cat $T/asked-*.code 2> /dev/null | grep -c '^202\$' | grep -qx 12"
[ "$(api GET /api/v1/hosts "$VIEWER")" = 200 ] || fail "the hosts list while runs hang: $(cat "$T/answer.json")"
t1=$(date +%s%N)
[ $(((t1 - t0) / 1000000)) -lt 4000 ] || fail "12 runs asked for took $(((t1 - t0) / 1000000)) ms to answer"
wait_for 30 "all 12 runs" sh -c "[ \"\$(cut -d' ' -f1 $T/live.count)\" -ge 12 ]"
most=$(cut -d' ' -f2 "$T/live.count")
[ "$most" -le 8 ] || fail "$most runs at once against one host; per_host is 8"
wait_for 30 "the 12 results stored" sh -c "curl -s -H 'Authorization: Bearer $VIEWER' '$URL/api/v1/dialtests/$ID/results?limit=100' |
	$PY -c 'import json,sys; sys.exit(len(json.load(sys.stdin)[\"items\"]) < 12)'"

info "a run asked for is answered at once (202); a stop does not wait out a run under way"
define "$(one stop-hang 60s "$(step hang "http://127.0.0.1:$HANG/")")"
[ "$(api POST "/api/v1/dialtests/$ID/run" "$OPERATOR")" = 202 ] || fail "asking for a run: $(cat "$T/answer.json")"
holds 'r["results"].startswith("/api/v1/dialtests/") and r["scheduled"] > 0' || fail "the 202"
t0=$(date +%s%N)
stop_collector
t1=$(date +%s%N)
[ $(((t1 - t0) / 1000000)) -lt 5000 ] || fail "the stop took $(((t1 - t0) / 1000000)) ms"
info "ok"

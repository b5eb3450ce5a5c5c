#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Enrollment: the collector keeps a CA and issues itself a certificate;
# a host enrolls its agent with a token (checked against the CA the token
# names before its secret is sent) and then ships over mutual TLS. Tokens
# expire, run out, are revoked; a name in force is not taken by another
# key; a revoked certificate is refused at ingest; the running agent
# renews its certificate before it expires and goes on with the new one.
. "$(dirname "$0")/lib.sh"

enrollment_setup
collector_conf() { # lifetime
	write_collector_conf "$ENROLL_HTTP
lifetime=$1"
}
collector_conf 1h
TOKEN=$(make_token admin)
AUDITOR=$(make_token auditor)
start_collector
[ "$(stat -c %a "$CA/ca.key")" = 600 ] || fail "the CA's key is not 0600"
[ "$(stat -c %a "$CA")" = 700 ] || fail "the CA's folder is not 0700"
FP=$(curl -s "$URL/api/v1/enroll/ca" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["fingerprint"])')
[ "$FP" = "$(openssl x509 -in "$CA/ca.pem" -outform DER | sha256sum | cut -d' ' -f1)" ] ||
	fail "GET /api/v1/enroll/ca's fingerprint is not the CA's SHA-256"

new_token() { # body: prints the token's text
	[ "$(api POST /api/v1/enroll/tokens "$TOKEN" "$1")" = 201 ] || fail "token $1: $(cat "$T/answer.json")"
	"$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"])' "$T/answer.json"
}
# host_conf NAME: an agent configuration of its own, $T/NAME.conf, shipping $T/NAME.log.
host_conf() {
	cat > "$T/$1.conf" <<EOC
[agent]
state_dir=$T/$1-state
hostname=$1
labels=dc=gz
inventory=no
heartbeat=0
[collector]
address=tcp://127.0.0.1:1
timeout=2s
backoff_max=1s
[metrics]
enabled=no
[batch]
max_delay_ms=100
[spool]
sync=no
[tail "app"]
path=$T/$1.log
EOC
}
enroll() { # name token: the agent's exit status; its output in $T/enroll.out
	host_conf "$1"
	"$B/vigil-agent" --config "$T/$1.conf" --enroll "$URL" --token "$2" > "$T/enroll.out" 2>&1
}
refused() { # name token pattern
	enroll "$1" "$2" && fail "$1 enrolled with a token that should be refused: $(cat "$T/enroll.out")"
	grep -q "$3" "$T/enroll.out" || fail "$1: expected \"$3\", got: $(cat "$T/enroll.out")"
}
token_uses() { # id
	api GET /api/v1/enroll/tokens "$TOKEN" > /dev/null
	"$PY" -c 'import json, sys
print(*[t["uses"] for t in json.load(open(sys.argv[1]))["items"] if t["id"] == sys.argv[2]])' "$T/answer.json" "$1"
}
token_id() { echo "$1" | cut -d. -f2; }
host_records() { # name
	curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/hosts" | "$PY" -c 'import json, sys
print(sum(h["records"] for h in json.load(sys.stdin)["items"] if h["hostname"] == sys.argv[1]))' "$1"
}
records_are() { [ "$(host_records "$1")" = "$2" ]; }
start_host() { # name
	"$B/vigil-agent" --config "$T/$1.conf" >> "$T/agent-$1.log" 2>&1 &
	eval "PID_$(echo "$1" | tr - _)=$!"
	PIDS="$PIDS $!"
}

info "a token for another CA: the agent stops before it sends the secret"
ctl() { "$B/vigilctl" --url "$URL" --token "$TOKEN" --cacert "$CA/ca.pem" "$@"; }
GOOD=$(ctl enroll-token create --labels zone=a,role=web --expires 1h --uses 2 | head -n 1)
ctl enroll-token list | grep -q "^$(echo "$GOOD" | cut -d. -f2) .* 0/2 .*zone=a role=web" ||
	fail "the new token is not listed: $(ctl enroll-token list)"
FORGED="${GOOD%.*}.$(printf '0%.0s' $(seq 64))"
refused web-1 "$FORGED" "this is not the collector the token belongs to"
[ "$(token_uses "$(token_id "$GOOD")")" = 0 ] || fail "the token was used though the agent stopped at the CA"
[ -e "$T/web-1-state/enroll/agent.key" ] && fail "a key was made before the CA was checked"

info "a good token: key on the host (0600), certificate, CA and a drop-in; the token's labels join the host's"
enroll web-1 "$GOOD" || fail "enrollment: $(cat "$T/enroll.out")"
grep -q "enrolled as web-1" "$T/enroll.out" || fail "no word of the enrollment: $(cat "$T/enroll.out")"
[ "$(stat -c %a "$T/web-1-state/enroll/agent.key")" = 600 ] || fail "the agent's key is not 0600"
DROPIN="$T/web-1.conf.d/50-enroll.conf"
grep -qx "address=$INGEST_ADDR" "$DROPIN" || fail "the drop-in does not send to $INGEST_ADDR: $(cat "$DROPIN")"
grep -qx "labels=dc=gz zone=a role=web" "$DROPIN" || fail "labels not merged: $(cat "$DROPIN")"
"$B/vigil-agent" --config "$T/web-1.conf" --check-config > /dev/null || fail "the enrolled configuration does not check"
openssl verify -CAfile "$CA/ca.pem" "$T/web-1-state/enroll/agent.pem" > /dev/null || fail "the certificate is not the CA's"
openssl x509 -in "$T/web-1-state/enroll/agent.pem" -noout -subject | grep -q "CN *= *web-1" || fail "the subject is not web-1"
[ "$(token_uses "$(token_id "$GOOD")")" = 1 ] || fail "the use was not counted"

info "the enrolled agent ships over mutual TLS, as its certificate's name"
for i in 1 2 3; do echo "web-1 line $i"; done > "$T/web-1.log"
start_host web-1
wait_for 20 "web-1's 3 lines" records_are web-1 3
api GET /api/v1/hosts "$TOKEN" > /dev/null
grep -q '"certificate": *"web-1"' "$T/answer.json" || fail "web-1's id is not bound to its certificate: $(cat "$T/answer.json")"

info "the token's second use, then none left"
host_conf web-2
echo "$GOOD" | "$B/vigil-agent" --config "$T/web-2.conf" --enroll "$URL" --token - > "$T/enroll.out" 2>&1 ||
	fail "second use, the token on standard input: $(cat "$T/enroll.out")"
refused web-3 "$GOOD" "used as many times as it allows"
[ "$(token_uses "$(token_id "$GOOD")")" = 2 ] || fail "a refused use was counted"

info "an expired token, a revoked token, a malformed one"
SHORT=$(new_token '{"expires":"1s","uses":5}')
sleep 1.5
refused web-3 "$SHORT" "the token has expired"
GONE=$(new_token '{"expires":"1h","uses":5}')
[ "$(api DELETE "/api/v1/enroll/tokens/$(token_id "$GONE")" "$TOKEN")" = 200 ] || fail "revoking the token"
refused web-3 "$GONE" "the token was revoked"
refused web-3 "vgl1.nonsense" "expected vgl1.ID.SECRET.CA"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	--data '{"token":"vgl1.0000000000000000.00000000000000000000000000000000.'"$FP"'","csr":"x"}' \
	"$URL/api/v1/enroll")" = 400 ] || fail "a request that is no CSR is not a 400"

info "another key cannot take web-1's name while its certificate is in force"
OTHER=$(new_token '{"expires":"1h","uses":5}')
host_conf web-1b
sed -i 's/^hostname=web-1b/hostname=web-1/' "$T/web-1b.conf"
"$B/vigil-agent" --config "$T/web-1b.conf" --enroll "$URL" --token "$OTHER" > "$T/enroll.out" 2>&1 &&
	fail "a second key took web-1's name"
grep -q "a certificate for web-1 with another key is in force" "$T/enroll.out" || fail "$(cat "$T/enroll.out")"

info "the audit log names each token by its id, never its secret"
api GET "/api/v1/audit?action=enroll&limit=100" "$AUDITOR" > /dev/null
grep -q "token $(token_id "$GOOD")" "$T/answer.json" || fail "no audit row names the token: $(head -c 600 "$T/answer.json")"
SECRET=$(echo "$GOOD" | cut -d. -f3)
grep -rq "$SECRET" "$T/answer.json" "$T"/*.log && fail "the token's secret reached the audit log or a log"

info "web-1's certificate revoked: its batches are refused at ingest, nothing of them stored"
ctl agent-cert revoke web-1 | grep -q "^revoked certificate " || fail "revoking web-1's certificate"
ctl agent-cert list | grep -q " web-1 .* token " || fail "web-1's certificate is not listed: $(ctl agent-cert list)"
echo "web-1 after revocation" >> "$T/web-1.log"
refusals() { [ "$(metric 'vigil_ingest_batches_total{result="revoked"}')" -ge 1 ]; }
wait_for 20 "a refusal" refusals
records_are web-1 3 || fail "a batch of a revoked certificate was stored"
grep -q "was revoked" "$T/collector.log" || fail "the refusal was not logged"
wait_for 10 "the agent's word of it" grep -q "refused: the client certificate (serial [0-9a-f]*) was revoked" "$T/agent-web-1.log"
[ "$(api DELETE /api/v1/enroll/certs/web-1 "$TOKEN")" = 404 ] || fail "revoking twice is not a 404"

info "renewal: with a 12 s lifetime the running agent renews at 8 s and goes on with the new certificate"
stop_collector TERM
collector_conf 12s
start_collector
RENEW=$(new_token '{"expires":"1h","uses":1}')
enroll web-9 "$RENEW" || fail "enrolling web-9: $(cat "$T/enroll.out")"
FIRST=$(openssl x509 -in "$T/web-9-state/enroll/agent.pem" -noout -serial)
echo "web-9 line 1" > "$T/web-9.log"
start_host web-9
wait_for 20 "web-9's first line" records_are web-9 1
wait_for 20 "the renewal" grep -q "renewed the certificate" "$T/agent-web-9.log"
[ "$(openssl x509 -in "$T/web-9-state/enroll/agent.pem" -noout -serial)" != "$FIRST" ] || fail "the certificate file was not replaced"
openssl verify -CAfile "$CA/ca.pem" "$T/web-9-state/enroll/agent.pem" > /dev/null || fail "the renewed certificate is not the CA's"
# Past the first certificate's end: a new connection works only with the renewed one.
sleep 5
kill -TERM "$PID_web_9"
wait "$PID_web_9" 2>/dev/null || true
echo "web-9 line 2" >> "$T/web-9.log"
start_host web-9
wait_for 20 "web-9's line after the first certificate expired" records_are web-9 2
api GET /api/v1/enroll/certs "$TOKEN" > /dev/null
grep -q '"origin": *"renewal of' "$T/answer.json" || fail "the renewal is not in the certificates' list"
echo ok

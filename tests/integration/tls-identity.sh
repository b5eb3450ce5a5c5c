#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Under TLS an agent is known by its certificate: its host is the name the
# certificate holds, and its agent id belongs to the certificate it was
# first stored with. A peer with another certificate from the same CA can
# neither claim a victim's sequence numbers (which would have the victim's
# batches answered "duplicate" and deleted from its spool) nor pass for its
# host. The TLS under nng is OpenSSL's: TLS 1.3, and a CRL in tls_ca.
. "$(dirname "$0")/lib.sh"

mkca ca
mkcert collector ca server
mkcert web-1 ca client
mkcert intruder ca client
cat "$P/ca.crt" > "$P/trust.pem"
INGEST_ADDR="tls+tcp://127.0.0.1:$INGEST_PORT"
INGEST_EXTRA="tls_ca=$P/trust.pem
tls_cert=$P/collector.crt
tls_key=$P/collector.key"
write_collector_conf
TOKEN=$(make_token admin)
start_collector
VICTIM=5151515151515151aaaaaaaaaaaaaaaa
INTRUDER=6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e
get() { curl -s -H "Authorization: Bearer $TOKEN" "$URL$1"; }
host_field() { # agent field
	get /api/v1/hosts | "$PY" -c 'import json, sys
print(*[h.get(sys.argv[2]) for h in json.load(sys.stdin)["items"] if h["id"] == sys.argv[1]])' "$1" "$2"
}
send_as() { # file agent seq cert
	"$B/nngsend" "$INGEST_ADDR" "$1" --frame "$2" "$3" 1 --tls "$P/ca.crt" "$P/$4.crt" "$P/$4.key"
}

info "web-1 ships 3 lines: its host is its certificate's name, not the one its config gives"
AGENT_ID=$VICTIM AGENT_ADDR=$INGEST_ADDR COLLECTOR_EXTRA="tls_ca=$P/ca.crt
tls_cert=$P/web-1.crt
tls_key=$P/web-1.key" write_agent_conf
"$PY" "$S/tests/integration/writer.py" "$T/logs/app.log" 3 --expect "$T/expected"
start_agent
wait_for 20 "3 lines over TLS" count_is 3
stop_agent TERM
[ "$(host_field $VICTIM hostname)" = web-1 ] || fail "host is $(host_field $VICTIM hostname), not the certificate's web-1"
[ "$(host_field $VICTIM certificate)" = web-1 ] || fail "the id is not bound to web-1's certificate"
grep -q "without TLS" "$T/collector.log" && fail "a TLS collector warns that identities are unauthenticated"

info "the intruder claims web-1's id and sequence numbers 1 to 10: each refused, none acknowledged"
printf '_HOSTNAME=web-1\nMESSAGE=filler\n\n' > "$T/filler.txt"
for s in $(seq 1 10); do
	send_as "$T/filler.txt" $VICTIM "$s" intruder > "$T/reply"
	grep -q "^refused $s agent id is bound to the certificate of web-1; this batch came with the certificate of intruder" \
		"$T/reply" || fail "seq $s: $(cat "$T/reply")"
done
[ "$(metric 'vigil_ingest_batches_total{result="refused"}')" = 10 ] || fail "refusals not counted"
[ "$(grep -c "refused batch $VICTIM" "$T/collector.log")" = 1 ] || fail "refusals not logged exactly once a minute"
get "/api/v1/logs?q=filler" | grep -q filler && fail "the intruder's filler was stored"

info "web-1's next lines are all stored, none answered as duplicates"
for i in 1 2 3 4 5; do echo "victim SECURITY EVENT $i: root login from 10.0.0.66" | tee -a "$T/expected"; done >> "$T/logs/app.log"
start_agent
wait_for 20 "8 lines" count_is 8
agent_status_is batches_duplicate 0 || fail "the victim's batches were answered duplicate"
stop_agent TERM
pull_messages --expect "$T/expected" || fail "web-1's lines"

info "the intruder under its own id is stored as the intruder, whatever _HOSTNAME says"
printf '_HOSTNAME=web-1\nMESSAGE=forged as web-1\n\n' > "$T/forged.txt"
send_as "$T/forged.txt" $INTRUDER 1 intruder | grep -q "^stored 1" || fail "the intruder's own batch"
[ "$(host_field $INTRUDER hostname)" = intruder ] || fail "the intruder named itself $(host_field $INTRUDER hostname)"
get "/api/v1/logs?host=web-1" | grep -q "forged as web-1" && fail "the intruder's line is listed under web-1"

info "a certificate without a name an agent could be known by is refused"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/O=nameless" \
	-keyout "$P/nameless.key" -out "$P/nameless.csr" 2> /dev/null
openssl x509 -req -in "$P/nameless.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 30 \
	-extfile "$P/ext.cnf" -extensions client -out "$P/nameless.crt" 2> /dev/null
send_as "$T/forged.txt" 0123456789abcdef0123456789abcdef 1 nameless | grep -q "^refused 1 the client certificate names no host" ||
	fail "a nameless certificate was not refused"

info "the ingest port speaks TLS 1.3 (OpenSSL's engine under nng)"
openssl s_client -connect "127.0.0.1:$INGEST_PORT" -tls1_3 -CAfile "$P/ca.crt" -cert "$P/web-1.crt" \
	-key "$P/web-1.key" < /dev/null > "$T/s_client.out" 2>&1 || true
grep -q "TLSv1.3" "$T/s_client.out" || fail "no TLS 1.3: $(tail -n 5 "$T/s_client.out")"

info "a CRL in tls_ca: the revoked intruder is refused at the handshake, web-1 is not"
mkdir -p "$P/db"
: > "$P/db/index.txt"
echo 01 > "$P/db/crlnumber"
cat > "$P/ca.cnf" <<EOC
[ca]
default_ca=ca
[ca]
database=$P/db/index.txt
crlnumber=$P/db/crlnumber
default_md=sha256
default_crl_days=30
EOC
openssl ca -config "$P/ca.cnf" -keyfile "$P/ca.key" -cert "$P/ca.crt" -revoke "$P/intruder.crt" 2> "$T/ca.log" ||
	fail "revoke: $(cat "$T/ca.log")"
openssl ca -config "$P/ca.cnf" -keyfile "$P/ca.key" -cert "$P/ca.crt" -gencrl -out "$P/crl.pem" 2>> "$T/ca.log" ||
	fail "gencrl: $(cat "$T/ca.log")"
cat "$P/ca.crt" "$P/crl.pem" > "$P/trust.pem"
stop_collector
start_collector
before=$(metric 'vigil_ingest_transport_errors_total{reason="tls_auth"}')
send_as "$T/forged.txt" $INTRUDER 2 intruder > "$T/reply" && fail "a revoked certificate got an answer: $(cat "$T/reply")"
[ "$(metric 'vigil_ingest_transport_errors_total{reason="tls_auth"}')" -gt "$before" ] || fail "the revoked handshake was not counted"
printf 'MESSAGE=after the CRL\n\n' > "$T/after.txt"
send_as "$T/after.txt" $VICTIM 100 web-1 | grep -q "^stored 100" || fail "web-1 refused after the CRL"

info "without TLS the collector says at start that identities are claimed, not proven"
stop_collector
INGEST_ADDR="" INGEST_EXTRA="" write_collector_conf
start_collector
grep -q "without TLS, agent ids and host names are what batches claim" "$T/collector.log" || fail "no warning"
echo ok

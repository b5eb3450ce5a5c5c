#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tls+tcp:// with mutual certificate checks: an agent whose certificate the
# collector's CA signed gets through; one signed by another CA, or one that
# trusts another CA for the collector, is refused and keeps its spool.
. "$(dirname "$0")/lib.sh"

mkca ca
mkca rogue-ca
mkcert collector ca server
mkcert agent ca client
mkcert intruder rogue-ca client

INGEST_ADDR="tls+tcp://127.0.0.1:$INGEST_PORT"
INGEST_EXTRA="tls_ca=$P/ca.crt
tls_cert=$P/collector.crt
tls_key=$P/collector.key"
write_collector_conf
TOKEN=$(make_token admin)
start_collector

agent_tls() { # cert ca
	AGENT_ADDR="tls+tcp://127.0.0.1:$INGEST_PORT" COLLECTOR_EXTRA="tls_ca=$P/$2.crt
tls_cert=$P/$1.crt
tls_key=$P/$1.key
tls_server_name=localhost" write_agent_conf
}

info "an agent with a certificate from the collector's CA gets through"
agent_tls agent ca
"$B/vigil-agent" --config "$T/agent.conf" --check-config > /dev/null || fail "TLS agent config refused"
"$PY" "$S/tests/integration/writer.py" "$T/logs/app.log" 500 --expect "$T/expected"
start_agent
wait_for 20 "500 lines over TLS" count_is 500
pull_messages --expect "$T/expected" || fail "TLS stored set"
stop_agent TERM

info "an agent with a certificate from another CA is refused"
rm -rf "$T/state"
AGENT_ID=ffeeddccbbaa99887766554433221100 agent_tls intruder rogue-ca
sed -i "s|^tls_ca=.*|tls_ca=$P/ca.crt|" "$T/agent.conf"
echo "intruder line" >> "$T/logs/app.log"
start_agent
wait_for 30 "the rogue agent's batch spooled" agent_status_is spool_batches 1
sleep 2
[ "$(stored_count)" = 500 ] || fail "a rogue agent's lines were stored"
agent_status_is spool_batches 1 || fail "rogue agent's batch should stay spooled"
refused=$(metric 'vigil_ingest_transport_errors_total{reason="tls_auth"}')
[ "$refused" -ge 1 ] || fail "refused TLS handshakes not counted"
info "refused handshakes counted: $refused"
stop_agent TERM

info "an agent that trusts another CA refuses the collector"
rm -rf "$T/state"
AGENT_ID=0f0e0d0c0b0a09080706050403020100 agent_tls agent rogue-ca
start_agent
wait_for 30 "the batch spooled" agent_status_is spool_batches 1
sleep 2
[ "$(stored_count)" = 500 ] || fail "an agent stored lines through a collector it cannot verify"
agent_status_is spool_batches 1 || fail "batch should stay spooled"

info "without tls_server_name the collector's certificate must name the host dialled"
stop_agent TERM
rm -rf "$T/state"
AGENT_ID=1f1e1d1c1b1a19181716151413121110 AGENT_ADDR="tls+tcp://localhost:$INGEST_PORT" COLLECTOR_EXTRA="tls_ca=$P/ca.crt
tls_cert=$P/agent.crt
tls_key=$P/agent.key" write_agent_conf
echo "dialled by name" >> "$T/logs/app.log"
# A new agent: it sends the whole file.
want=$(($(stored_count) + $(wc -l < "$T/logs/app.log")))
start_agent
wait_for 20 "delivered to the collector its certificate names" count_is "$want"
stop_agent TERM
cat >> "$P/ext.cnf" <<EOC
[elsewhere]
subjectAltName=DNS:not-the-collector.example
extendedKeyUsage=serverAuth
EOC
mkcert impostor ca elsewhere
stop_collector
sed -i "s|^tls_cert=.*|tls_cert=$P/impostor.crt|; s|^tls_key=.*|tls_key=$P/impostor.key|" "$T/collector.conf"
start_collector
failed=$(metric 'vigil_ingest_transport_errors_total{reason="tls_auth"}')
echo "not for an impostor" >> "$T/logs/app.log"
start_agent
tried() { [ "$(metric 'vigil_ingest_transport_errors_total{reason="tls_auth"}')" -gt "${failed:-0}" ] ||
	[ "$(metric 'vigil_ingest_transport_errors_total{reason="protocol"}')" -gt 0 ]; }
wait_for 20 "the agent's handshake with the impostor" tried
# The refused handshake can come before the new line is sealed into a batch (under ASan, by seconds).
spooled() { agent_status_is spool_batches 1; }
wait_for 20 "the batch kept in the spool" spooled
[ "$(stored_count)" = "$want" ] || fail "delivered to a collector whose certificate names another host"
stop_agent TERM

info "tls+tcp:// without key files is a config error"
printf '[collector]\naddress=tls+tcp://127.0.0.1:1\n' > "$T/notls.conf"
if "$B/vigil-agent" --config "$T/notls.conf" --check-config 2> "$T/notls.err"; then fail "accepted"; fi
grep -q "needs tls_ca, tls_cert and tls_key" "$T/notls.err" || fail "no clear error: $(cat "$T/notls.err")"
echo ok

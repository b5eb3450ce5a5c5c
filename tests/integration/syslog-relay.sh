#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The agent relays the devices of its network segment (docs/security-center.md,
# Relaying): what they send its [syslog] goes through its spool, so it
# survives the collector's absence and the agent's kill -9, and each device
# is a host at the collector; under TLS, only for a certificate [ingest]
# relays= names.
. "$(dirname "$0")/lib.sh"

RELAY_PORT=$(free_port)
send() { "$PY" "$S/tests/integration/syslogsend.py" "$@"; }
logs_of() { pull_messages host="$1"; }
count_of() { [ "$(logs_of "$1" | grep -c "$2")" = "$3" ]; }

write_collector_conf
AGENT_EXTRA="" write_agent_conf "[syslog]
listen=udp://127.0.0.1:$RELAY_PORT tcp://127.0.0.1:$RELAY_PORT
utc_offset=+08:00"
TOKEN=$(make_token admin)
start_collector
start_agent
port_listening() { "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $RELAY_PORT), 1)"; }
wait_for 10 "the agent's syslog port" port_listening

info "devices and Debian's logger send to the agent; each sender is a host at the collector"
send udp "$RELAY_PORT" '<134>Dec  2 11:00:02 sw-zone-a-1 %LINK-3-UPDOWN: Interface Gi0/1, changed state to down'
send tcp "$RELAY_PORT" '<13>1 2026-12-02T11:00:03Z fw-zone-a-2 FW - - - blocked 10.9.8.7'
logger --rfc5424 --udp -n 127.0.0.1 -P "$RELAY_PORT" -t relayed "logger over udp, relayed"
logger --rfc5424 --tcp --octet-count -n 127.0.0.1 -P "$RELAY_PORT" -t relayed "logger over tcp, relayed"
wait_for 20 "sw-zone-a-1's line" count_of sw-zone-a-1 "changed state to down" 1
wait_for 20 "fw-zone-a-2's line" count_of fw-zone-a-2 "blocked 10.9.8.7" 1
wait_for 20 "logger's lines under $(hostname)" count_of "$(hostname)" "logger over .*, relayed" 2
api GET "/api/v1/hosts" "$TOKEN" > /dev/null
"$PY" - "$T/answer.json" <<'EOP' || fail "hosts: $(cat "$T/answer.json")"
import json, sys
hosts = {h["hostname"]: h for h in json.load(open(sys.argv[1]))["items"]}
for name in ("sw-zone-a-1", "fw-zone-a-2"):
    assert hosts[name]["inventory"]["sender"] == "syslog" and hosts[name]["id"] != "00112233445566778899aabbccddeeff", hosts[name]
EOP

info "the collector away, then the agent killed: what devices sent is in its spool, and arrives"
stop_collector
send tcp "$RELAY_PORT" --count 500 '<13>1 - sw-zone-a-3 app - - - while away'
relayed_at_least() { [ "$(agent_status syslog_relayed)" -ge "$1" ]; }
wait_for 20 "500 more relayed into the spool" relayed_at_least 504
stop_agent KILL
start_agent
start_collector
wait_for 30 "the 500 lines stored" count_of sw-zone-a-3 "while away" 500
[ "$(agent_status syslog_dropped)" = 0 ] || fail "dropped: $(agent_status syslog_dropped)"
[ "$(agent_status syslog_received)" -ge 504 ] || fail "received: $(agent_status syslog_received)"
stop_agent TERM
stop_collector

info "under TLS: a device's host is its own only for a certificate relays= names"
mkca ca
mkcert collector ca server
mkcert relay-1 ca client
rm -rf "$T/data" "$T/state"
INGEST_ADDR="tls+tcp://127.0.0.1:$INGEST_PORT" INGEST_EXTRA="tls_ca=$P/ca.crt
tls_cert=$P/collector.crt
tls_key=$P/collector.key" write_collector_conf
AGENT_ADDR="tls+tcp://127.0.0.1:$INGEST_PORT" COLLECTOR_EXTRA="tls_ca=$P/ca.crt
tls_cert=$P/relay-1.crt
tls_key=$P/relay-1.key" write_agent_conf "[syslog]
listen=tcp://127.0.0.1:$RELAY_PORT"
TOKEN=$(make_token admin)
start_collector
start_agent
wait_for 10 "the agent's syslog port" port_listening
send tcp "$RELAY_PORT" '<13>1 - sw-tls-1 app - - - not a relay yet'
wait_for 20 "the line, under the relay's certificate" count_of relay-1 "not a relay yet" 1
count_of sw-tls-1 "not a relay yet" 1 && fail "a certificate not in relays= named another host"
stop_collector
sed -i "s|^tls_key=$P/collector.key|&\nrelays=relay-1|" "$T/collector.conf"
start_collector
send tcp "$RELAY_PORT" '<13>1 - sw-tls-1 app - - - relayed'
wait_for 20 "the line, under the device's host" count_of sw-tls-1 "relayed" 1
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Syslog in (docs/security-center.md): Debian's logger over UDP and TCP (LF
# and octet-counted), a TLS client with and without a certificate, RFC 3164
# and RFC 5424; each sender becomes a host with its address and goes silent
# like one; oversize and garbage lines are kept, cut or raw, and counted;
# connections past max_connections are refused and counted; nothing is lost.
. "$(dirname "$0")/lib.sh"

SYSLOG_PORT=$(free_port)
TLS_PORT=$(free_port)
mkca ca
mkcert localhost ca server
mkcert device ca client
send() { "$PY" "$S/tests/integration/syslogsend.py" "$@"; }

info "the configuration's checks"
printf '[syslog]\nlisten=udp://127.0.0.1:514 tls://127.0.0.1:6514\nutc_offset=+8\n' > "$T/bad.conf"
config_refused vigil-collector "$T/bad.conf" 'bad.conf:2: .*listen=tls://... needs tls_cert= and tls_key=' \
	'bad.conf:2: .*utc_offset=+8: expected local'
printf '[syslog]\nlisten=udp://127.0.0.1:514 smtp://127.0.0.1:25\n' > "$T/bad.conf"
config_refused vigil-collector "$T/bad.conf" 'bad.conf:2: .*smtp://127.0.0.1:25: expected udp://, tcp:// or tls://HOST:PORT'

write_collector_conf "[syslog]
listen=udp://127.0.0.1:$SYSLOG_PORT tcp://127.0.0.1:$SYSLOG_PORT tls://127.0.0.1:$TLS_PORT
tls_cert=$P/localhost.crt
tls_key=$P/localhost.key
max_message=1K
max_connections=3
utc_offset=+08:00
[hosts]
silent_after=3s"
TOKEN=$(make_token admin)
start_collector
HOST=$(hostname)

# logs_of HOST: every stored message of HOST, one per line.
logs_of() { pull_messages host="$1"; }
has_line() { logs_of "$1" | grep -qxF -- "$2"; }

info "logger: RFC 5424 over UDP and over TCP (octet-counted), RFC 3164 over TCP (LF)"
logger --rfc5424 --udp -n 127.0.0.1 -P "$SYSLOG_PORT" -t vigil-test --msgid ID47 --sd-id "t@32473" --sd-param 'k="v"' \
	"logger over udp"
logger --rfc5424 --tcp --octet-count -n 127.0.0.1 -P "$SYSLOG_PORT" -t vigil-test "logger over tcp, octet-counted"
logger --rfc3164 --tcp -n 127.0.0.1 -P "$SYSLOG_PORT" -t oldapp "logger rfc3164 over tcp"
wait_for 10 "logger's lines stored under $HOST" has_line "$HOST" "logger rfc3164 over tcp"
has_line "$HOST" "logger over udp" || fail "$(logs_of "$HOST")"
has_line "$HOST" "logger over tcp, octet-counted" || fail "$(logs_of "$HOST")"
api GET "/api/v1/logs?host=$HOST&q=SYSLOG_MSGID:ID47" "$TOKEN" > /dev/null
"$PY" - "$T/answer.json" <<'EOP' || fail "fields: $(cat "$T/answer.json")"
import json, sys
items = json.load(open(sys.argv[1]))["items"]
assert len(items) == 1, items
f = items[0]["fields"]
assert f["SYSLOG_IDENTIFIER"] == "vigil-test" and f["SYSLOG_FORMAT"] == "rfc5424" and f["SYSLOG_TRANSPORT"] == "udp", f
assert f["SYSLOG_SD_T_32473_K"] == "v" and f["PRIORITY"] == "5" and f["SYSLOG_FACILITY"] == "1", f
EOP

info "a device of its own name over TLS, octet-counted and LF-framed, and one that must show a certificate"
send tls "$TLS_PORT" --ca "$P/ca.crt" '<189>1 2026-12-02T11:00:01.5+08:00 fw-edge-1 FW - TRAFFIC [fw@2011 src="10.1.2.3" act="deny"] denied 10.1.2.3'
send tls "$TLS_PORT" --ca "$P/ca.crt" --framing lf '<134>Dec  2 11:00:02 fw-edge-1 %ASA-6-302013: Built outbound TCP connection'
wait_for 10 "fw-edge-1's lines" has_line fw-edge-1 "Built outbound TCP connection"
has_line fw-edge-1 "denied 10.1.2.3" || fail "$(logs_of fw-edge-1)"
api GET "/api/v1/hosts" "$TOKEN" > /dev/null
"$PY" - "$T/answer.json" <<'EOP' || fail "hosts: $(cat "$T/answer.json")"
import json, sys
hosts = {h["hostname"]: h for h in json.load(open(sys.argv[1]))["items"]}
fw = hosts["fw-edge-1"]
assert fw["inventory"]["addresses"] == ["127.0.0.1"] and fw["inventory"]["sender"] == "syslog", fw
assert fw["status"] == "up" and fw["records"] >= 2, fw
EOP
api GET "/api/v1/logs?host=fw-edge-1&q=outbound" "$TOKEN" > /dev/null
"$PY" - "$T/answer.json" <<'EOP' || fail "the RFC 3164 line: $(cat "$T/answer.json")"
import json, sys
items = json.load(open(sys.argv[1]))["items"]
assert len(items) == 1, items
# Dec  2 11:00:02 at +08:00 (utc_offset): 03:00:02 UTC.
assert items[0]["ts"] % 86400000000 == (3 * 3600 + 2) * 1000000, items[0]
EOP

info "silent like any host"
host_status() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/hosts" |
	"$PY" -c 'import json,sys; print({h["hostname"]: h["status"] for h in json.load(sys.stdin)["items"]}[sys.argv[1]])' "$1"; }
status_is() { [ "$(host_status "$1")" = "$2" ]; }
wait_for 15 "fw-edge-1 silent" status_is fw-edge-1 silent

info "oversize and garbage: kept, cut or raw, and counted"
LONG=$(head -c 3000 /dev/zero | tr '\0' x)
send tcp "$SYSLOG_PORT" --framing lf "<13>Dec  2 11:00:03 big-1 app: $LONG" '<13>Dec  2 11:00:04 big-1 app: after the long one'
send tcp "$SYSLOG_PORT" "<13>1 - big-1 app - - - octet $LONG" '<13>1 - big-1 app - - - after the long octet one'
send udp "$SYSLOG_PORT" 'not syslog at all'
wait_for 10 "the lines after the long ones" has_line big-1 "after the long octet one"
has_line big-1 "after the long one" || fail "$(logs_of big-1)"
[ "$(logs_of big-1 | grep -c 'xxxx$')" = 2 ] || fail "the cut lines: $(logs_of big-1)"
wait_for 10 "the garbage line" has_line 127.0.0.1 "not syslog at all"
metric_is() { [ "$(metric "$1")" = "$2" ]; }
wait_for 5 "2 cut" metric_is vigil_syslog_truncated_total 2
metric_is vigil_syslog_unparsed_total 1 || fail "unparsed: $(metric vigil_syslog_unparsed_total)"

info "a TLS client without the certificate asked for is refused, and counted"
stop_collector
sed -i "s|^tls_key=.*|&\ntls_client_ca=$P/ca.crt|" "$T/collector.conf"
start_collector
send tls "$TLS_PORT" --ca "$P/ca.crt" '<13>1 - nocert-1 a - - - without a certificate' 2>/dev/null || true
send tls "$TLS_PORT" --ca "$P/ca.crt" --cert "$P/device.crt" --key "$P/device.key" '<13>1 - cert-1 a - - - with one'
wait_for 10 "the line of the client with a certificate" has_line cert-1 "with one"
has_line nocert-1 "without a certificate" && fail "a TLS client without a certificate was heard"
wait_for 5 "the failed handshake counted" metric_is vigil_syslog_tls_failures_total 1

info "past max_connections: refused, counted"
"$PY" - "$SYSLOG_PORT" <<'EOP' || fail "max_connections"
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
time.sleep(0.5)
extra = socket.create_connection(("127.0.0.1", port))
extra.settimeout(5)
assert extra.recv(1) == b"", "the fourth connection was kept"
EOP
metric_is vigil_syslog_refused_total 1 || fail "refused: $(metric vigil_syslog_refused_total)"

info "none lost: 3000 over UDP and 3000 over TCP"
send udp "$SYSLOG_PORT" --count 3000 '<13>1 - many-udp a - - - m'
send tcp "$SYSLOG_PORT" --count 3000 '<13>1 - many-tcp a - - - m'
count_of() { [ "$(logs_of "$1" | grep -c '^m #')" = "$2" ]; }
wait_for 20 "3000 over TCP" count_of many-tcp 3000
wait_for 20 "3000 over UDP" count_of many-udp 3000
metric_is vigil_syslog_udp_overflows_total 0 || fail "UDP overflows: $(metric vigil_syslog_udp_overflows_total)"
metric_is vigil_syslog_dropped_total 0 || fail "dropped: $(metric vigil_syslog_dropped_total)"
echo ok

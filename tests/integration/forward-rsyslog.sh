#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Syslog out to Debian's rsyslog, the receiver most SIEM setups put first:
# imtcp over plain TCP (octet-counted and LF-framed) and over TLS (gtls,
# the collector checking rsyslog's certificate), and imrelp (RELP: each
# message answered by rsyslog), in clear and over TLS (the collector showing
# a client certificate rsyslog checks); rsyslog's own RFC
# 5424 parser must read back
# each message's host, app, procid, structured data (the record's id) and
# text.
. "$(dirname "$0")/lib.sh"

command -v rsyslogd > /dev/null || fail "rsyslogd missing (scripts/deps.sh installs rsyslog)"
AGENT=aaaabbbbccccddddeeeeffff00004444
TCP_PORT=$(free_port)
TLS_PORT=$(free_port)
RELP_PORT=$(free_port)
RELPTLS_PORT=$(free_port)
mkca ca
mkcert localhost ca server
mkcert forwarder ca client
mkdir -p "$T/rsyslog"
cat > "$T/rsyslog.conf" <<EOC
global(workDirectory="$T/rsyslog" net.ipprotocol="ipv4-only"
       defaultNetstreamDriverCAFile="$P/ca.crt" defaultNetstreamDriverCertFile="$P/localhost.crt"
       defaultNetstreamDriverKeyFile="$P/localhost.key")
module(load="imtcp")
module(load="imrelp")
input(type="imrelp" port="$RELP_PORT" ruleset="out")
input(type="imrelp" port="$RELPTLS_PORT" ruleset="out" tls="on" tls.caCert="$P/ca.crt"
      tls.myCert="$P/localhost.crt" tls.myPrivKey="$P/localhost.key" tls.authMode="certvalid")
input(type="imtcp" address="127.0.0.1" port="$TCP_PORT" ruleset="out")
input(type="imtcp" address="127.0.0.1" port="$TLS_PORT" ruleset="out" streamDriver.name="gtls"
      streamDriver.mode="1" streamDriver.authMode="anon")
template(name="fields" type="list") {
	property(name="hostname") constant(value="|") property(name="app-name") constant(value="|")
	property(name="procid") constant(value="|") property(name="pri") constant(value="|")
	property(name="structured-data") constant(value="|") property(name="msg") constant(value="\n")
}
ruleset(name="out") { action(type="omfile" file="$T/rsyslog.out" template="fields") }
EOC
rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rsyslog.pid" >> "$T/rsyslogd.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 10 "rsyslog listening" port_up "$TCP_PORT"
wait_for 10 "rsyslog listening on TLS" port_up "$TLS_PORT"
wait_for 10 "rsyslog listening for RELP" port_up "$RELP_PORT"
wait_for 10 "rsyslog listening for RELP over TLS" port_up "$RELPTLS_PORT"

write_collector_conf "[forward \"octet\"]
url=tcp://127.0.0.1:$TCP_PORT
filter=via:octet
retry_max=1s
[forward \"lines\"]
url=tcp://127.0.0.1:$TCP_PORT
framing=lf
filter=via:lines
retry_max=1s
[forward \"tls\"]
url=tls://localhost:$TLS_PORT
tls_ca=$P/ca.crt
filter=via:tls
retry_max=1s
[forward \"relp\"]
url=relp://127.0.0.1:$RELP_PORT
filter=via:relp
retry_max=1s
[forward \"relptls\"]
url=relp+tls://localhost:$RELPTLS_PORT
tls_ca=$P/ca.crt
tls_cert=$P/forwarder.crt
tls_key=$P/forwarder.key
filter=via:relptls
retry_max=1s"
TOKEN=$(make_token viewer)
start_collector
"$PY" - "$T/batch.txt" <<'PYEOF'
import sys, time
now = int(time.time() * 10**6)
with open(sys.argv[1], "w") as f:
    for i, via in enumerate(["octet", "lines", "tls", "relp", "relptls"] * 3):
        f.write(f"__REALTIME_TIMESTAMP={now + i}\n_HOSTNAME=gw-{i}\nSYSLOG_IDENTIFIER=gateway\nPRIORITY=4\n"
                f"SYSLOG_FACILITY=4\n_PID={100 + i}\nVIA={via}\n"
                f"MESSAGE=登录失败 用户=张三 via={via} [i={i}] \"quoted\" back\\slash\n\n")
PYEOF
"$B/nngsend" "tcp://127.0.0.1:$INGEST_PORT" "$T/batch.txt" --frame $AGENT 1 15 | grep -q "^stored" || fail "batch not stored"
lines() { [ -f "$T/rsyslog.out" ] && [ "$(wc -l < "$T/rsyslog.out")" -ge "$1" ]; }
wait_for 30 "rsyslog wrote the 15 messages" lines 15

info "rsyslog read each message's header, structured data and text back"
"$PY" - "$T/rsyslog.out" <<'PYEOF' || fail "what rsyslog read: $(cat "$T/rsyslog.out")"
import re, sys
rows = [l.rstrip("\n").split("|", 5) for l in open(sys.argv[1], encoding="utf-8")]
assert len(rows) == 15, rows
for host, app, procid, pri, sd, msg in rows:
    i = int(host.split("-")[1])
    via = ["octet", "lines", "tls", "relp", "relptls"][i % 5]
    assert app == "gateway" and procid == str(100 + i) and pri == "36", (host, app, procid, pri)
    assert re.fullmatch(r'\[vigil@32473 id="\d+-1-%d" source="gateway"\]' % i, sd), sd
    assert msg == f'登录失败 用户=张三 via={via} [i={i}] "quoted" back\\slash', msg
print(f"# {len(rows)} messages read back by rsyslog")
PYEOF
for name in tls relp relptls; do
	[ "$(metric "vigil_forward_records_total{forward=\"$name\"}")" = 3 ] ||
		fail "$name forwarder counted $(metric "vigil_forward_records_total{forward=\"$name\"}")"
done
info "ok"

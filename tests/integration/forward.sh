#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Syslog out ([forward]): every stored record reaches the receiver (a SIEM),
# in RFC 5424 with its id, octet-counted, while the receiver is away for a
# while and the collector is killed -9 once: none lost, the repeats counted;
# LF framing and a filter; TLS with the receiver's certificate checked (and
# refused when it does not chain to tls_ca), and mutual TLS; UDP; the metrics say how far
# behind a forwarder is; bad sections refused with file:line.
. "$(dirname "$0")/lib.sh"

AGENT=aaaabbbbccccddddeeeeffff00003333
N=100000
SIEM_PORT=$(free_port)
LF_PORT=$(free_port)
TLS_PORT=$(free_port)
BADTLS_PORT=$(free_port)
MTLS_PORT=$(free_port)
UDP_PORT=$(free_port)
ALERTS_PORT=$(free_port)
AUDIT_PORT=$(free_port)
RELP_PORT=$(free_port)
LATE_PORT=$(free_port)
mkca ca
mkca other
mkcert localhost ca server
mkcert collector ca client
write_collector_conf "[forward \"siem\"]
url=tcp://127.0.0.1:$SIEM_PORT
batch=2000
rate=20000
timeout=3s
retry_max=1s
[forward \"auth-lines\"]
url=tcp://127.0.0.1:$LF_PORT
framing=lf
filter=source:auth OR 登录失败 OR \"n=12345\"
retry_max=1s
[forward \"tls\"]
url=tls://localhost:$TLS_PORT
tls_ca=$P/ca.crt
filter=\"n=7\" OR \"n=99999\"
retry_max=1s
[forward \"mtls\"]
url=tls://127.0.0.1:$MTLS_PORT
tls_ca=$P/ca.crt
tls_cert=$P/collector.crt
tls_key=$P/collector.key
filter=\"n=7\"
retry_max=1s
[forward \"badtls\"]
url=tls://127.0.0.1:$BADTLS_PORT
tls_ca=$P/other.crt
retry_max=1s
[forward \"udp\"]
url=udp://127.0.0.1:$UDP_PORT
filter=\"n=7\" OR \"n=107\" OR \"n=207\"
retry_max=1s
[forward \"relp\"]
url=relp://127.0.0.1:$RELP_PORT
filter=\"n=7\" OR \"n=77\" OR \"n=777\"
retry_max=1s
[forward \"late\"]
url=tcp://127.0.0.1:$LATE_PORT
filter=\"n=7\"
retry_max=1s
[forward \"alarms\"]
url=tcp://127.0.0.1:$ALERTS_PORT
what=alerts
retry_max=1s
[forward \"audit\"]
url=tcp://127.0.0.1:$AUDIT_PORT
what=audit
format=json
retry_max=1s
[alerts]
interval=1s
[rule \"siem-behind\"]
type=forward_lag
above=2
severity=warning"
TOKEN=$(make_token viewer)

info "bad [forward] sections are refused with file:line"
cat > "$T/bad.conf" <<EOC
[storage]
data_dir=$T/bad
[forward "x y"]
url=http://siem:514
framing=newline
format=cef2
filter=status:>=
start=yesterday
tls_ca=/etc/ca.pem
[forward "z"]
url=tls://siem:6514
tls_ca=$T/missing-ca.pem
[forward "ev"]
url=tcp://siem:514
what=alarms
[forward "ev2"]
url=tcp://siem:514
what=audit
filter=x
format=cef
EOC
config_refused vigil-collector "$T/bad.conf" 'bad.conf:4: \[forward "x y"\]: a name of' \
	'bad.conf:4: .* url=http://siem:514: expected tcp://HOST:PORT' \
	'bad.conf:5: .* framing=newline: expected octet-counted or lf' \
	'bad.conf:6: .* format=cef2: expected one of rfc5424 json' 'bad.conf:7: .* filter: 10: expected a number' \
	'bad.conf:8: .* start=yesterday: expected oldest or now' \
	'bad.conf:9: .* tls_ca: tls_ca=, tls_cert=, tls_key= and tls_server_name= are for tls://' \
	"bad.conf:12: \\[forward \"z\"\\] tls_ca=$T/missing-ca.pem: cannot read it: No such file or directory" \
	'bad.conf:15: .* what=alarms: expected logs, alerts, audit or seals' 'bad.conf:19: .* filter: is for what=logs' \
	'bad.conf:20: .* format=cef: what=alerts, audit and seals are sent as rfc5424 or json'

# got FILE N...: FILE holds the records n=N... (each at least once) and no other; prints the first's message.
got() {
	"$PY" - "$@" <<'PYEOF'
import json, os, re, sys
entries = [json.loads(l) for l in open(sys.argv[1])] if os.path.exists(sys.argv[1]) else []
want = set(int(x) for x in sys.argv[2:])
assert not [e for e in entries if "error" in e], entries[:3]
have = {int(re.search(r"n=(\d+)", e["msg"]).group(1)): e["msg"] for e in entries}
if set(have) != want:
    sys.exit(f"{len(have)} records, missing {sorted(want - set(have))[:5]}, unasked {sorted(set(have) - want)[:5]}")
print(have[min(want)])
PYEOF
}
# UDP promises nothing: its receiver is there from the start.
"$PY" "$S/tests/integration/syslogd.py" "$UDP_PORT" "$T/udp.jsonl" --udp >> "$T/udp.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 10 "the UDP receiver" grep -q listening "$T/udp.log"
"$PY" "$S/tests/integration/syslogd.py" "$RELP_PORT" "$T/relp.jsonl" --relp --refuse-once "n=77" >> "$T/relp.log" 2>&1 &
PIDS="$PIDS $!"
"$PY" "$S/tests/integration/syslogd.py" "$ALERTS_PORT" "$T/alarms.jsonl" >> "$T/alarms.log" 2>&1 &
PIDS="$PIDS $!"
"$PY" "$S/tests/integration/syslogd.py" "$AUDIT_PORT" "$T/audit.jsonl" --framing octet-counted --raw >> "$T/audit.log" 2>&1 &
PIDS="$PIDS $!"
start_collector
# The batches: N records over 4 hosts, app "web" and every 100th "auth" (some 登录失败), one message of
# three lines and one of 20,000 bytes; n=I names each.
"$PY" - "$T" "$N" <<'PYEOF'
import struct, sys, time
t, n = sys.argv[1], int(sys.argv[2])
now = int(time.time() * 10**6)
per = 10000


def field(key, value):
    """A field in the journal's export format: KEY=VALUE, or binary when the value holds a line feed."""
    v = value.encode()
    return key.encode() + b"\n" + struct.pack("<Q", len(v)) + v + b"\n" if b"\n" in v else key.encode() + b"=" + v + b"\n"


for b in range(n // per):
    with open(f"{t}/batch{b + 1}.txt", "wb") as f:
        for i in range(b * per, (b + 1) * per):
            app = "auth" if i % 100 == 7 else "web"
            msg = f"GET /api/{i} status=200 n={i}"
            if i % 100 == 7:
                msg = f"登录失败 用户=张{i % 10} n={i}" if i % 200 == 7 else f"accepted password for ops n={i}"
            if i == 12345:
                msg = f"first line n={i}\nsecond line\nthird ] \\ \" line"
            if i == 54321:
                msg = f"long n={i} " + "x" * 20000
            f.write(f"__REALTIME_TIMESTAMP={now - 60 * 10**6 + i}\n_HOSTNAME=web-{i % 4}\nSYSLOG_IDENTIFIER={app}\n"
                    f"PRIORITY={i % 8}\nSYSLOG_FACILITY={4 if app == 'auth' else 1}\n_PID={1000 + i % 7}\n".encode()
                    + field("MESSAGE", msg) + b"\n")
PYEOF
# Twelve forwarders read while these are stored: under a sanitizer a batch may take longer than nngsend's 5 s.
for b in $(seq 1 $((N / 10000))); do
	NNGSEND_TIMEOUT_MS=60000 "$B/nngsend" "tcp://127.0.0.1:$INGEST_PORT" "$T/batch$b.txt" --frame $AGENT "$b" 10000 | grep -q "^stored" ||
		fail "batch $b not stored"
done

info "while the receiver is away, the forwarder retries and says how far behind it is"
behind() { "$PY" -c "import sys; sys.exit(0 if float(sys.argv[1] or 0) > 0 else 1)" "$(metric "$1")"; }
wait_for 20 "failures counted" behind 'vigil_forward_failures_total{forward="siem"}'
wait_for 10 "lag shown" behind 'vigil_forward_lag_seconds{forward="siem"}'
metric_is() { [ "$(metric "$1")" = "$2" ]; }
wait_for 10 "records behind shown" metric_is 'vigil_forward_behind_records{forward="siem"}' "$N"
[ "$(metric 'vigil_forward_connected{forward="siem"}')" = 0 ] || fail "connected while the receiver is away"
grep -q 'forward siem: tcp://127.0.0.1:[0-9]*: connect: Connection refused' "$T/collector.log" ||
	fail "the first failure not logged"
# lag_alert FORWARD STATE: the forward_lag rule's newest alert on FORWARD is in STATE.
lag_alert() {
	curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts" | "$PY" -c '
import json, sys
a = [a for a in json.load(sys.stdin)["items"] if a["rule"] == "siem-behind" and a["labels"].get("forward") == sys.argv[1]]
sys.exit(0 if a and a[0]["state"] == sys.argv[2] else 1)' "$1" "$2"
}
wait_for 20 "the forward_lag alert firing" lag_alert siem firing
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts" |
	grep -q '"summary":"forward siem: [0-9]* s behind, [0-9]* records stored after its position; the last attempt: connect: Connection refused' ||
	fail "the alert's value: $(curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts")"

start_siem() {
	"$PY" "$S/tests/integration/syslogd.py" "$SIEM_PORT" "$T/siem.jsonl" >> "$T/siem.log" 2>&1 &
	SIEM_PID=$!
	PIDS="$PIDS $SIEM_PID"
}
received() { [ -f "$T/siem.jsonl" ] && [ "$(wc -l < "$T/siem.jsonl")" -ge "$1" ]; }
start_siem
"$PY" "$S/tests/integration/syslogd.py" "$LF_PORT" "$T/lf.jsonl" --framing lf >> "$T/lf.log" 2>&1 &
PIDS="$PIDS $!"
"$PY" "$S/tests/integration/syslogd.py" "$TLS_PORT" "$T/tls.jsonl" --cert "$P/localhost.crt" --key "$P/localhost.key" \
	>> "$T/tls.log" 2>&1 &
PIDS="$PIDS $!"
"$PY" "$S/tests/integration/syslogd.py" "$MTLS_PORT" "$T/mtls.jsonl" --cert "$P/localhost.crt" --key "$P/localhost.key" \
	--client-ca "$P/ca.crt" >> "$T/mtls.log" 2>&1 &
PIDS="$PIDS $!"
"$PY" "$S/tests/integration/syslogd.py" "$BADTLS_PORT" "$T/badtls.jsonl" --cert "$P/localhost.crt" \
	--key "$P/localhost.key" >> "$T/badtls.log" 2>&1 &
PIDS="$PIDS $!"

info "the collector killed -9 while sending; the receiver away while it is down and after it restarts"
wait_for 60 "30,000 records at the receiver" received 30000
stop_collector KILL
wait_for 10 "the receiver sees the connection end" grep -q closed "$T/siem.log"
kill "$SIEM_PID"
wait "$SIEM_PID" 2>/dev/null || true
start_collector
wait_for 20 "failures counted after the restart" behind 'vigil_forward_failures_total{forward="siem"}'
start_siem
wait_for 120 "every record at the receiver" got "$T/siem.jsonl" $(seq 0 $((N - 1)))

info "none lost, repeats counted; each message RFC 5424 with the record's id, host, app and priority"
"$PY" - "$T/siem.jsonl" "$N" <<'PYEOF' || fail "what the receiver got"
import json, re, sys
entries = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
assert not [e for e in entries if "error" in e], [e for e in entries if "error" in e][:3]
by_n, ids = {}, {}
for e in entries:
    k = int(re.search(r"n=(\d+)", e["msg"]).group(1))
    assert ids.setdefault(e["id"], k) == k, ("one id, two records", e)
    by_n.setdefault(k, e)
assert sorted(by_n) == list(range(n)), f"missing: {sorted(set(range(n)) - set(by_n))[:10]}"
assert len(ids) == n, len(ids)
print(f"# {len(entries)} messages, {n} records, {len(entries) - n} repeats")
e = by_n[7]
assert e["host"] == "web-3" and e["app"] == "auth" and e["pri"] == 4 * 8 + 7 and e["procid"] == "1000", e
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", e["ts"]), e
assert re.fullmatch(r'\[vigil@32473 id="\d+-\d+-\d+" source="auth"\]', e["sd"]), e
e = by_n[12345]
assert e["msg"] == 'first line n=12345\nsecond line\nthird ] \\ " line', e
e = by_n[54321]
assert len(e["msg"].encode()) < 8192 and e["msg"].startswith("long n=54321 xxx"), len(e["msg"])
PYEOF
wait_for 10 "records counted" metric_is 'vigil_forward_records_total{forward="siem"}' "$N"
[ "$(metric 'vigil_forward_truncated_total{forward="siem"}')" -ge 1 ] || fail "the long message's cut not counted"
wait_for 10 "caught up" metric_is 'vigil_forward_lag_seconds{forward="siem"}' 0.000
[ "$(metric 'vigil_forward_behind_records{forward="siem"}')" = 0 ] || fail "records behind once caught up"
wait_for 20 "the forward_lag alert resolved" lag_alert siem resolved

info "the alert's events pulled by cursor (a security token), page by page, none twice"
SECURITY=$(make_token security)
AUDITOR=$(make_token auditor)
[ "$(api GET "/api/v1/alerts/events?limit=1" "$AUDITOR")" = 403 ] || fail "an auditor read alert events"
[ "$(api GET "/api/v1/alerts/events?cursor=x" "$SECURITY")" = 400 ] || fail "a bad cursor: $(cat "$T/answer.json")"
"$PY" - "$URL" "$SECURITY" <<'PYEOF' || fail "the events pull"
import json, sys, urllib.request
url, token = sys.argv[1:]
def page(cursor):
    q = f"{url}/api/v1/alerts/events?limit=1" + (f"&cursor={cursor}" if cursor else "")
    return json.load(urllib.request.urlopen(urllib.request.Request(q, headers={"Authorization": f"Bearer {token}"})))
events, cursor = [], None
for _ in range(1000):
    d = page(cursor)
    if not d["items"]:
        break
    assert len(d["items"]) == 1 and d["next_cursor"] == str(d["items"][0]["id"]), d
    events += d["items"]
    cursor = d["next_cursor"]
assert page(cursor)["items"] == [] and page(cursor)["next_cursor"] == cursor
ids = [e["id"] for e in events]
assert ids == sorted(set(ids)), ids
mine = [e for e in events if e["rule"] == "siem-behind" and e["labels"].get("forward") == "siem"]
actions = [e["action"] for e in mine]
assert "fired" in actions and actions[-1] == "resolved", actions
assert mine[0]["severity"] == "warning" and "behind" in mine[0]["value"], mine[0]
print(f"# {len(events)} events, the lag alert's: {' '.join(actions)}")
PYEOF

info "what=alerts: the same events by syslog, each once (log alert, at the alert's severity); what=audit as JSON"
alarms_sent() {
	"$PY" - "$T/alarms.jsonl" "$URL" "$SECURITY" <<'PYEOF'
import json, re, sys, urllib.request
got = [json.loads(l) for l in open(sys.argv[1])]
req = urllib.request.Request(sys.argv[2] + "/api/v1/alerts/events?limit=10000", headers={"Authorization": "Bearer " + sys.argv[3]})
events = json.load(urllib.request.urlopen(req))["items"]
ids = [int(e["id"]) for e in got]
if sorted(set(ids)) != [e["id"] for e in events]:
    sys.exit(f"{len(set(ids))} of {len(events)}")
fired = [e for e in got if 'action="fired"' in e["sd"] and e["msg"].startswith("forward siem: ")]
assert fired and fired[0]["pri"] == 14 * 8 + 4 and fired[0]["app"] == "vigil" and fired[0]["msgid"] == "alert", got
assert 'rule="siem-behind" severity="warning"' in fired[0]["sd"] and " behind, " in fired[0]["msg"], fired[0]
assert " — " not in fired[0]["msg"], fired[0]
PYEOF
}
wait_for 20 "every alert event by syslog" alarms_sent
audit_sent() {
	"$PY" - "$T/audit.jsonl" <<'PYEOF'
import json, sys
rows = [json.loads(json.loads(l)["raw"]) for l in open(sys.argv[1])]
made = [r for r in rows if r["action"] == "token.create" and "(role security)" in r["object"]]
sys.exit(0 if made and made[0]["source"] == "local" and len({r["id"] for r in rows}) == len(rows) else 1)
PYEOF
}
wait_for 20 "the audit log's token.create rows by syslog" audit_sent

info "LF framing with a filter: only source:auth, 登录失败 and n=12345, its line feeds sent as #012"
wait_for 30 "the filtered lines" got "$T/lf.jsonl" $(seq 7 100 $N) 12345
"$PY" - "$T/lf.jsonl" <<'PYEOF' || fail "the lines with #012"
import json, sys
m = [json.loads(l)["msg"] for l in open(sys.argv[1]) if "n=12345" in l]
assert m and m[0] == 'first line n=12345#012second line#012third ] \\ " line', m
PYEOF

info "TLS: the receiver's certificate checked against tls_ca; one of another CA refused, and said why"
wait_for 30 "the TLS receiver's records" got "$T/tls.jsonl" 7 99999
wait_for 30 "the mutual TLS receiver's record (the collector's client certificate)" got "$T/mtls.jsonl" 7
wait_for 10 "the refusal logged" grep -q "forward badtls: tls://127.0.0.1:[0-9]*: TLS handshake: the receiver's certificate: " \
	"$T/collector.log"
[ ! -s "$T/badtls.jsonl" ] || fail "records sent to a receiver whose certificate did not chain to tls_ca"
[ "$(metric 'vigil_forward_records_total{forward="badtls"}')" = 0 ] || fail "badtls counted records"

info "RELP: a batch the receiver refused a message of is sent again; the position moves once all are answered"
wait_for 30 "the RELP receiver's records" got "$T/relp.jsonl" 7 77 777
grep -q "forward relp: relp://127.0.0.1:[0-9]*: RELP: the receiver refused: 500 refused for the test" "$T/collector.log" ||
	fail "the refusal not logged"
metric_is 'vigil_forward_records_total{forward="relp"}' 3 || fail "relp counted $(metric 'vigil_forward_records_total{forward="relp"}')"

info "UDP: a message a datagram"
wait_for 30 "the datagrams" got "$T/udp.jsonl" 7 107 207
[ "$(metric 'vigil_forward_dropped_total{forward="udp"}')" = 0 ] || fail "datagrams dropped on loopback"
grep -q '"msg": "登录失败 用户=张7 n=7"' "$T/udp.jsonl" || fail "the datagram's text: $(head -c 300 "$T/udp.jsonl")"

info "a restart goes on from the kept position: nothing sent again once caught up"
lines=$(wc -l < "$T/siem.jsonl")
stop_collector
start_collector
sleep 2
[ "$(wc -l < "$T/siem.jsonl")" = "$lines" ] || fail "records sent again after a clean restart"

info "a forwarder whose position's day retention removed says so, counts it, and goes on from the next day kept"
stop_collector
day=$(sqlite3 "$T/data/meta.db" "SELECT min(day) FROM shards")
sqlite3 "$T/data/meta.db" "UPDATE forward_positions SET cursor='$((day - 1))-5-0' WHERE name='late'"
"$PY" "$S/tests/integration/syslogd.py" "$LATE_PORT" "$T/late.jsonl" >> "$T/late.log" 2>&1 &
PIDS="$PIDS $!"
start_collector
wait_for 30 "the late forwarder's record of the next day" got "$T/late.jsonl" 7
grep -q "forward late: the day of its position ($((day - 1))) was removed by retention before it was sent" "$T/collector.log" ||
	fail "the lost day not logged"
metric_is 'vigil_forward_expired_days_total{forward="late"}' 1 || fail "the lost day not counted"

info "a forwarder taken out of the configuration is no longer behind: its forward_lag alert resolves"
wait_for 20 "badtls's alert firing" lag_alert badtls firing
stop_collector
"$PY" - "$T/collector.conf" <<'PYEOF'
import re, sys
text = open(sys.argv[1]).read()
open(sys.argv[1], "w").write(re.sub(r'\[forward "badtls"\]\n(?:[a-z_]+=.*\n)*', "", text))
PYEOF
grep -q badtls "$T/collector.conf" && fail "badtls still configured"
start_collector
wait_for 20 "badtls's alert resolved" lag_alert badtls resolved
info "ok"

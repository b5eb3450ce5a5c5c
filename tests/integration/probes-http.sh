#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# http, cert and tcp-with-TLS probes against real servers on 127.0.0.1: a
# test HTTP server (body checks, a failing status, a slow answer against the
# timeout), an openssl TLS server whose certificate the test made to expire
# in 10 days (trusted through tls_ca=, untrusted, unverified), and a PEM
# file expiring in 3 days.
. "$(dirname "$0")/lib.sh"

HTTP_PORT_T=$(free_port)
TLS_PORT=$(free_port)
"$PY" - "$HTTP_PORT_T" <<'PYEOF' &
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/slow":
            time.sleep(3)
        code = 503 if self.path == "/fail" else 200
        body = b"status: green, build 4711\n"
        self.send_response(code); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PYEOF
PIDS="$PIDS $!"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 10 -subj "/CN=localhost" \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$T/tls.key" -out "$T/tls.crt" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3 -subj "/CN=soon" \
	-keyout "$T/soon.key" -out "$T/soon.crt" 2>/dev/null
# Days left are whole days, down: checked within the certificates' second, 10 days would still be 10.
sleep 1
openssl s_server -accept "$TLS_PORT" -cert "$T/tls.crt" -key "$T/tls.key" -www -quiet > /dev/null 2>&1 &
PIDS="$PIDS $!"

write_collector_conf
write_agent_conf "[probe \"web-ok\"]
type=http
url=http://127.0.0.1:$HTTP_PORT_T/ok
contains=green
regex=build [0-9]+
interval=1s
[probe \"web-body\"]
type=http
url=http://127.0.0.1:$HTTP_PORT_T/ok
contains=red
interval=1s
[probe \"web-fail\"]
type=http
url=http://127.0.0.1:$HTTP_PORT_T/fail
interval=1s
[probe \"web-slow\"]
type=http
url=http://127.0.0.1:$HTTP_PORT_T/slow
timeout=1s
interval=2s
[probe \"web-refused\"]
type=http
url=http://127.0.0.1:1/
interval=1s
[probe \"tls-expiry\"]
type=cert
address=127.0.0.1:$TLS_PORT
interval=1s
[probe \"file-expiry\"]
type=cert
file=$T/soon.crt
interval=1s
[probe \"tls-trusted\"]
type=tcp
address=localhost:$TLS_PORT
tls=yes
tls_ca=$T/tls.crt
send=GET / HTTP/1.0\\r\\n\\r\\n
expect=HTTP/1.0 200
interval=1s
[probe \"tls-untrusted\"]
type=tcp
address=127.0.0.1:$TLS_PORT
tls=yes
interval=1s
[probe \"tls-unverified\"]
type=tcp
address=127.0.0.1:$TLS_PORT
tls=yes
tls_verify=no
interval=1s
[probe \"web-tls\"]
type=http
url=https://localhost:$TLS_PORT/
tls_ca=$T/tls.crt
interval=1s"
TOKEN=$(make_token operator)
start_collector
wait_for 10 "TLS server up" port_up "$TLS_PORT"
start_agent

all_reported() {
	curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/probes" > "$T/probes.json"
	"$PY" -c 'import json,sys; sys.exit(0 if len(json.load(open(sys.argv[1]))["items"]) == 11 else 1)' "$T/probes.json"
}
wait_for 20 "11 probes reported" all_reported
"$PY" - "$T/probes.json" <<'PYEOF' || fail "probe results: $(cat "$T/probes.json")"
import json, sys
items = {i["name"]: i for i in json.load(open(sys.argv[1]))["items"]}
def want(name, status, text):
    i = items[name]
    assert i["status"] == status and text in i["message"], (name, i)
want("web-ok", "ok", "HTTP 200")
want("web-body", "critical", "lacks 'red'")
want("web-fail", "critical", "HTTP 503 (expected 2xx 3xx)")
want("web-slow", "critical", "timed out after 1000 ms")
want("web-refused", "critical", "onnect")
want("tls-expiry", "warning", "expires in 9 days")
want("file-expiry", "critical", "expires in 2 days")
want("tls-trusted", "ok", "answered with 'HTTP/1.0 200'")
want("tls-untrusted", "critical", "TLS handshake with 127.0.0.1:")
want("tls-untrusted", "critical", "self-signed certificate")
want("tls-unverified", "ok", "handshake done")
want("web-tls", "ok", "HTTP 200")
PYEOF

info "phase timings and days left travel with the results"
VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" --json logs --kind probe -q '"HTTP 200"' --limit 1 > "$T/one.json"
"$PY" - "$T/one.json" <<'PYEOF' || fail "details: $(cat "$T/one.json")"
import json, sys
f = json.loads(open(sys.argv[1]).readline())["fields"]
assert f["VIGIL_KIND"] == "probe" and f["PROBE_HTTP_STATUS"] == "200", f
for k in ("PROBE_CONNECT_US", "PROBE_TTFB_US", "PROBE_TOTAL_US", "PROBE_BYTES"):
    assert int(f[k]) > 0, (k, f)
PYEOF
VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" --json logs --kind probe -q "expires in 9 days" --limit 1 | grep -q '"PROBE_CERT_DAYS_LEFT":"9"' \
	|| fail "no PROBE_CERT_DAYS_LEFT"
VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" --json logs --kind probe -q "answered with 'HTTP/1.0 200'" --limit 1 \
	| grep -q '"PROBE_TLS_VERSION":"TLSv1.[23]"' || fail "no PROBE_TLS_VERSION"
echo ok

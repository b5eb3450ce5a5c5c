#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The API over HTTPS: tokens and logs do not travel in clear. TLS 1.2 and
# 1.3 only; vigilctl checks the collector's certificate (--cacert); SIGHUP
# serves a new certificate without a restart; with tls_client_ca a request
# needs a client certificate from that CA besides its token.
. "$(dirname "$0")/lib.sh"

mkca ca
mkca other-ca
mkcert api ca server
mkcert api2 ca server
mkcert puller ca client
mkcert stranger other-ca client
URL="https://127.0.0.1:$HTTP_PORT"
export CURL_CA_BUNDLE="$P/ca.crt"

printf '[http]\ntls_cert=%s\n' "$P/api.crt" > "$T/half.conf"
if "$B/vigil-collector" --config "$T/half.conf" --check-config 2> "$T/half.err"; then fail "tls_cert without tls_key accepted"; fi
grep -q "half.conf:2: \[http\]: tls_cert= and tls_key= go together" "$T/half.err" || fail "$(cat "$T/half.err")"

write_collector_conf "tls_cert=$P/api.crt
tls_key=$P/api.key"
TOKEN=$(make_token security)
start_collector
ctl() { VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" "$@"; }

info "HTTPS with the token; plain HTTP on the same port gets nowhere"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/api/v1/audit")" = 200 ] ||
	fail "no answer over HTTPS"
if curl -s -m 5 -o /dev/null -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HTTP_PORT/api/v1/audit"; then
	fail "plain HTTP answered"
fi

info "TLS 1.2 and 1.3 only"
curl -s -o /dev/null --tlsv1.2 --tls-max 1.2 "$URL/api/v1/hosts" || fail "TLS 1.2 refused"
curl -s -o /dev/null --tlsv1.3 "$URL/api/v1/hosts" || fail "TLS 1.3 refused"
if openssl s_client -connect "127.0.0.1:$HTTP_PORT" -tls1_1 < /dev/null > "$T/tls11.out" 2>&1 &&
	grep -q "^ *Protocol *: TLSv1.1" "$T/tls11.out"; then
	fail "TLS 1.1 accepted"
fi
if openssl s_client -connect "127.0.0.1:$HTTP_PORT" -tls1_2 -cipher AES128-SHA < /dev/null > "$T/cbc.out" 2>&1 &&
	grep -q "Cipher is AES128-SHA" "$T/cbc.out"; then
	fail "a CBC cipher accepted"
fi

info "vigilctl checks the collector's certificate"
ctl --cacert "$P/ca.crt" verify > "$T/ctl.out" || fail "vigilctl --cacert: $(cat "$T/ctl.out")"
if env -u CURL_CA_BUNDLE VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" --cacert "$P/other-ca.crt" verify 2> "$T/ctl.err"; then
	fail "vigilctl trusted a certificate from another CA"
fi
grep -qi "certificate" "$T/ctl.err" || fail "vigilctl: $(cat "$T/ctl.err")"
VIGIL_CACERT="$P/ca.crt" ctl verify > /dev/null || fail "VIGIL_CACERT"

info "SIGHUP: a new certificate for new connections, no restart"
serial() { openssl s_client -connect "127.0.0.1:$HTTP_PORT" < /dev/null 2> /dev/null | openssl x509 -noout -serial; }
before=$(serial)
[ "$before" = "$(openssl x509 -noout -serial -in "$P/api.crt")" ] || fail "serving $before"
cp "$P/api2.crt" "$P/api.crt"
cp "$P/api2.key" "$P/api.key"
kill -HUP "$COLLECTOR_PID"
renewed() { [ "$(serial)" = "$(openssl x509 -noout -serial -in "$P/api2.crt")" ]; }
wait_for 10 "the new certificate served" renewed
kill -0 "$COLLECTOR_PID" || fail "the collector died at SIGHUP"
ctl --cacert "$P/ca.crt" verify > /dev/null || fail "after the reload"
echo "not a certificate" > "$P/api.crt"
kill -HUP "$COLLECTOR_PID"
wait_for 10 "the bad reload logged" grep -q "cannot start the HTTPS server with the new certificates\|certificates cannot be read" "$T/collector.log"
ctl --cacert "$P/ca.crt" verify > /dev/null || fail "a bad reload broke the API"
cp "$P/api2.crt" "$P/api.crt"
stop_collector

info "tls_client_ca: a client certificate from that CA besides the token"
write_collector_conf "tls_cert=$P/api.crt
tls_key=$P/api.key
tls_client_ca=$P/ca.crt"
api_up() { curl -s -o /dev/null --cert "$P/puller.crt" --key "$P/puller.key" "$URL/api/v1/hosts"; }
start_collector
code() { curl -s -o "$T/resp.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$@" "$URL/api/v1/audit"; }
[ "$(code --cert "$P/puller.crt" --key "$P/puller.key")" = 200 ] || fail "the puller's certificate: $(cat "$T/resp.json")"
got=$(code)
[ "$got" = 403 ] && grep -q "no client certificate" "$T/resp.json" || fail "no certificate: $got $(cat "$T/resp.json")"
got=$(code --cert "$P/stranger.crt" --key "$P/stranger.key" || true)
[ "$got" = 403 ] || [ "$got" = 000 ] || fail "another CA's certificate: $got $(cat "$T/resp.json")"
[ "$got" = 000 ] || grep -q "not accepted" "$T/resp.json" || fail "$(cat "$T/resp.json")"
ctl --cacert "$P/ca.crt" --cert "$P/puller.crt" --key "$P/puller.key" verify > /dev/null || fail "vigilctl --cert"
audited() { sqlite3 "$T/data/audit.db" "SELECT count(*) FROM audit WHERE action='auth.certificate' AND status=403" | grep -qv '^0$'; }
wait_for 5 "the refusal audited" audited
echo ok

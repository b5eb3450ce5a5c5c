#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Email notifications through a real SMTP server on 127.0.0.1 that offers
# STARTTLS and only then AUTH: a message goes out encrypted, logged in, to
# every recipient, its Chinese subject and text intact (RFC 2047, Base64);
# a wrong password, an untrusted certificate and a server without STARTTLS
# are refused, retried and shown with curl's reason; bad email targets are
# refused at start.
. "$(dirname "$0")/lib.sh"

P="$T/pki"
mkdir -p "$P"
printf '[server]\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$P/ext.cnf"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=test-ca" \
	-keyout "$P/ca.key" -out "$P/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
	-keyout "$P/smtp.key" -out "$P/smtp.csr" 2>/dev/null
openssl x509 -req -in "$P/smtp.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 30 \
	-extfile "$P/ext.cnf" -extensions server -out "$P/smtp.crt" 2>/dev/null

info "bad email targets are refused with the reason"
printf '[notify "m"]\ntype=email\nurl=http://x\nusername=u\n[notify "w"]\ntype=webhook\nurl=http://x\nto=a@b\n' > "$T/bad.conf"
if "$B/vigil-collector" --config "$T/bad.conf" --check-config 2> "$T/bad.err"; then fail "bad targets accepted"; fi
for want in 'url=http://x: expected smtp:// or smtps://' 'type=email needs from= and to=' \
	'username= and a password (secret= or secret_file=) go together' \
	'[notify "w"]: from=, to=, username=, starttls= apply to type=email'; do
	grep -qF "$want" "$T/bad.err" || fail "no '$want' in $(cat "$T/bad.err")"
done

SMTP_PORT=$(free_port)
"$PY" "$S/tests/integration/smtpd.py" "$SMTP_PORT" "$T/mail.jsonl" "$P/smtp.crt" "$P/smtp.key" vigil 's3cret pw' &
PIDS="$PIDS $!"
wait_for 10 "SMTP server up" port_up "$SMTP_PORT"
PLAIN_PORT=$(free_port)
"$PY" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
while True:
    c, _ = s.accept()
    try:
        f = c.makefile("rb"); c.sendall(b"220 old ESMTP\r\n")
        for l in f:
            v = l.split()[0].upper() if l.split() else b""
            c.sendall(b"250-old\r\n250 SIZE 1000\r\n" if v == b"EHLO" else b"221 bye\r\n" if v == b"QUIT" else b"502 no\r\n")
            if v == b"QUIT": break
    except OSError:
        pass
    c.close()' "$PLAIN_PORT" &
PIDS="$PIDS $!"
wait_for 10 "plain SMTP server up" port_up "$PLAIN_PORT"
echo 's3cret pw' > "$T/mail.secret"

write_collector_conf "[notify \"mail\"]
type=email
url=smtp://127.0.0.1:$SMTP_PORT
from=vigil@gov.example
to=ops@gov.example oncall@gov.example
username=vigil
secret_file=$T/mail.secret
tls_ca=$P/ca.crt
[notify \"mail-badpw\"]
type=email
url=smtp://127.0.0.1:$SMTP_PORT
from=vigil@gov.example
to=ops@gov.example
username=vigil
secret=wrong
tls_ca=$P/ca.crt
lang=en
[notify \"mail-untrusted\"]
type=email
url=smtp://127.0.0.1:$SMTP_PORT
from=vigil@gov.example
to=ops@gov.example
username=vigil
secret=s3cret pw
[notify \"mail-nostarttls\"]
type=email
url=smtp://127.0.0.1:$PLAIN_PORT
from=vigil@gov.example
to=ops@gov.example"
ADMIN=$(make_token admin)
start_collector

send_test() { # target
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN" "$URL/api/v1/notify/$1/test")
	[ "$code" = 202 ] || fail "test message to $1: $code"
}
info "a test message goes out over STARTTLS, logged in, to both recipients, in Chinese"
send_test mail
mailed() { [ -s "$T/mail.jsonl" ]; }
wait_for 20 "the message accepted" mailed
"$PY" - "$T/mail.jsonl" <<'PYEOF' || fail "the message: $(cat "$T/mail.jsonl")"
import email, email.header, email.policy, json, sys
m = [json.loads(l) for l in open(sys.argv[1])]
assert len(m) == 1, m
m = m[0]
assert m["tls"] and m["user"] == "vigil", m
assert m["from"] == "<vigil@gov.example>" and m["rcpts"] == ["<ops@gov.example>", "<oncall@gov.example>"], m
msg = email.message_from_string(m["message"], policy=email.policy.default)
assert msg["Subject"] == "[信息] 测试: 无故障: vigil test notification", msg["Subject"]
assert msg["To"] == "ops@gov.example, oncall@gov.example" and msg["X-Vigil-Notification"], msg
text = msg.get_content()
assert "### [信息] 测试: 无故障: vigil test notification" in text and "- 主机: -" in text, text
PYEOF

info "a wrong password, an untrusted certificate, no STARTTLS: refused, retried, with curl's reason"
send_test mail-badpw
send_test mail-untrusted
send_test mail-nostarttls
last_error() { # target substring
	curl -s -H "Authorization: Bearer $ADMIN" "$URL/api/v1/notify/$1" |
		"$PY" -c 'import json, sys; t = json.load(sys.stdin); sys.exit(0 if sys.argv[1] in (t["last_error"] or "") and t["queued"] == 1 else 1)' "$2"
}
wait_for 20 "the wrong password refused" last_error mail-badpw "Login denied"
wait_for 20 "the untrusted certificate refused" last_error mail-untrusted "SSL peer certificate"
wait_for 20 "no STARTTLS refused" last_error mail-nostarttls "SSL"
[ "$(wc -l < "$T/mail.jsonl")" = 1 ] || fail "a refused message was delivered: $(cat "$T/mail.jsonl")"
info "ok"

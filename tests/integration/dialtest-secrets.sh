#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A tested service cannot take a dial test's secrets or its next request:
# secrets only from [dialtests] secrets_dir and variables with the prefix;
# what a service echoes of a secret is redacted from the stored result;
# values from an answer with a line break do not become headers of the next
# request, {{json:name}} keeps them inside a JSON string; redirects to
# another origin or protocol are not followed with the step's headers.
. "$(dirname "$0")/lib.sh"

ECHO=$(free_port)
"$PY" "$S/tests/integration/echo.py" "$ECHO" "$T/echo.jsonl" &
PIDS="$PIDS $!"
wait_for 10 "the echo service" port_up "$ECHO"
mkdir -p "$T/secrets" "$T/elsewhere"
echo 'S3cr3t-SMTP-Passw0rd' > "$T/secrets/pw"
echo 'not-for-dial-tests' > "$T/elsewhere/pw"
ln -s "$T/elsewhere/pw" "$T/secrets/link"
write_collector_conf "max_answer=4K
[dialtests]
secrets_dir=$T/secrets
secrets_env_prefix=VIGIL_SECRET_"
ADMIN=$(make_token admin)
VIEWER=$(make_token viewer)
OPERATOR=$(make_token operator)
TOKEN=$ADMIN
VIGIL_SECRET_EXTRA=from-the-environment start_collector
E="http://127.0.0.1:$ECHO"
define() { # json -> ID
	[ "$(api POST /api/v1/dialtests "$ADMIN" "$1")" = 201 ] || fail "defining: $(cat "$T/answer.json")"
	ID=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/answer.json")
}
run() { # id: the result in $T/answer.json
	dialtest_run "$1" "$OPERATOR"
}
holds() { "$PY" -c 'import json, sys
r = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    sys.exit("does not hold: " + sys.argv[2] + "\n" + json.dumps(r)[:2000])' "$T/answer.json" "$1"; }

info "secrets only from the folder and the variables configured"
[ "$(api POST /api/v1/dialtests "$ADMIN" "{\"name\":\"a\",\"secrets\":{\"p\":{\"file\":\"$T/elsewhere/pw\"}},\"steps\":[{\"name\":\"s\",\"url\":\"$E/\"}]}")" = 400 ] &&
	grep -q "a file in $T/secrets (\[dialtests\] secrets_dir)" "$T/answer.json" || fail "a file elsewhere: $(cat "$T/answer.json")"
[ "$(api POST /api/v1/dialtests "$ADMIN" "{\"name\":\"a\",\"secrets\":{\"p\":{\"file\":\"$T/secrets/../elsewhere/pw\"}},\"steps\":[{\"name\":\"s\",\"url\":\"$E/\"}]}")" = 400 ] ||
	fail "a path climbing out: $(cat "$T/answer.json")"
[ "$(api POST /api/v1/dialtests "$ADMIN" "{\"name\":\"a\",\"secrets\":{\"p\":{\"env\":\"PATH\"}},\"steps\":[{\"name\":\"s\",\"url\":\"$E/\"}]}")" = 400 ] &&
	grep -q "starts with VIGIL_SECRET_" "$T/answer.json" || fail "any variable: $(cat "$T/answer.json")"
define "{\"name\":\"link\",\"interval\":\"1h\",\"secrets\":{\"p\":{\"file\":\"$T/secrets/link\"}},\"steps\":[{\"name\":\"s\",\"url\":\"$E/{{secret:p}}\"}]}"
run "$ID"
holds 'r["outcome"] == "probe_error" and "cannot be read" in r["message"]' || fail "a link out of the folder was read"
grep -q "resolves to $T/elsewhere/pw, outside" "$T/collector.log" || fail "the refused link is not logged"

info "what a service echoes of a secret is not stored nor shown"
define "{\"name\":\"echoes\",\"interval\":\"1h\",\"secrets\":{\"pw\":{\"file\":\"$T/secrets/pw\"},\"e\":{\"env\":\"VIGIL_SECRET_EXTRA\"}},
 \"steps\":[{\"name\":\"s\",\"url\":\"$E/x/{{secret:pw}}/{{secret:e}}\",\"assert\":[{\"type\":\"body\",\"contains\":\"nothing like it\"}]}]}"
ECHOES=$ID
run "$ECHOES"
holds 'r["outcome"] == "assertion_failed"' || fail "the run"
grep -q "S3cr3t\|from-the-environment" "$T/answer.json" && fail "a secret in the run's answer: $(cat "$T/answer.json")"
grep -q '\[secret:pw\]' "$T/answer.json" && grep -q '\[secret:e\]' "$T/answer.json" || fail "not redacted: $(cat "$T/answer.json")"
api GET "/api/v1/dialtests/$ECHOES/results" "$VIEWER" > /dev/null
grep -q "S3cr3t\|from-the-environment" "$T/answer.json" && fail "a secret in the stored results"
holds 'len(r["items"]) >= 1' || fail "no stored result"
[ "$(curl -s -H "Authorization: Bearer $OPERATOR" "$URL/api/v1/logs?q=S3cr3t&kind=all" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')" = 0 ] ||
	fail "a secret in the stored blocks"
grep -q "S3cr3t" "$T/collector.log" && fail "a secret in the log"

info "a test's results come in pages of max_answer bytes, newest first"
for i in $(seq 1 11); do run "$ECHOES"; done
"$PY" - "$URL" "$VIEWER" "$ECHOES" <<'PYEOF' || fail "results pages"
import json, sys, urllib.parse, urllib.request
url, token, tid = sys.argv[1:]
until, starts, pages = None, [], 0
while pages < 50:
    q = "/api/v1/dialtests/%s/results?since=1h&limit=1000" % tid + ("&until=" + urllib.parse.quote(until) if until else "")
    req = urllib.request.Request(url + q, headers={"Authorization": "Bearer " + token})
    body = urllib.request.urlopen(req, timeout=30).read()
    d = json.loads(body)
    pages += 1
    assert len(body) < 4096 + 2048, len(body)
    starts += [it["started"] for it in d["items"]]
    if not d["truncated"]:
        break
    until = d["next_until"]
assert len(starts) == 12 and starts == sorted(starts, reverse=True) and len(set(starts)) == 12, starts
assert pages > 1, pages
PYEOF

info "an answer's line break does not become a header of the next request; {{json:}} keeps quotes inside"
define "{\"name\":\"inject\",\"interval\":\"1h\",\"steps\":[
 {\"name\":\"login\",\"url\":\"$E/login\",\"extract\":[{\"name\":\"token\",\"from\":\"json\",\"path\":\"\$.token\"},{\"name\":\"who\",\"from\":\"json\",\"path\":\"\$.name\"}]},
 {\"name\":\"use\",\"method\":\"POST\",\"url\":\"$E/use\",\"headers\":{\"X-Token\":\"{{token}}\"},\"body\":\"{}\"}]}"
run "$ID"
holds 'r["outcome"] == "probe_error" and "line break" in r["message"]' || fail "a header with a line break was sent"
grep -q "X-Injected" "$T/echo.jsonl" 2> /dev/null && fail "a header was injected: $(cat "$T/echo.jsonl")"
define "{\"name\":\"json\",\"interval\":\"1h\",\"steps\":[
 {\"name\":\"login\",\"url\":\"$E/login\",\"extract\":[{\"name\":\"who\",\"from\":\"json\",\"path\":\"\$.name\"}]},
 {\"name\":\"use\",\"method\":\"POST\",\"url\":\"$E/use\",\"headers\":{\"Content-Type\":\"application/json\"},\"body\":\"{\\\"user\\\":\\\"{{json:who}}\\\",\\\"role\\\":\\\"reader\\\"}\"}]}"
run "$ID"
holds 'r["ok"]' || fail "the JSON step"
tail -n1 "$T/echo.jsonl" | "$PY" -c 'import json, sys
body = json.loads(json.loads(sys.stdin.read())["body"])
assert body == {"user": "x\",\"admin\":true,\"y\":\"", "role": "reader"}, body' || fail "{{json:}}: $(tail -n1 "$T/echo.jsonl")"

info "redirects: not to another origin with the step's secrets, not to another protocol"
define "{\"name\":\"redir\",\"interval\":\"1h\",\"secrets\":{\"pw\":{\"file\":\"$T/secrets/pw\"}},\"steps\":[
 {\"name\":\"go\",\"method\":\"POST\",\"url\":\"$E/redir\",\"follow_redirects\":true,\"headers\":{\"X-Api-Key\":\"{{secret:pw}}\"},\"body\":\"{\\\"password\\\":\\\"{{secret:pw}}\\\"}\"}]}"
run "$ID"
holds 'r["outcome"] == "probe_error" and "not followed" in r["message"]' || fail "a cross-origin redirect"
grep -q '"path": "/catch"' "$T/echo.jsonl" 2> /dev/null && fail "the secret went to another origin: $(grep catch "$T/echo.jsonl")"
define "{\"name\":\"ftp\",\"interval\":\"1h\",\"steps\":[{\"name\":\"go\",\"url\":\"$E/ftp\",\"follow_redirects\":true}]}"
run "$ID"
holds 'r["outcome"] == "probe_error"' || fail "a redirect to ftp:// was followed"

info "credentials written into a definition are for admins' eyes"
define "{\"name\":\"literal\",\"interval\":\"1h\",\"enabled\":false,\"steps\":[{\"name\":\"s\",\"url\":\"$E/\",\"bearer\":\"eyJliteral.prod.token\",
 \"headers\":{\"X-Api-Key\":\"k-123456\",\"Content-Type\":\"application/json\"}},
 {\"name\":\"t\",\"url\":\"$E/\",\"basic_auth\":{\"user\":\"probe\",\"password\":\"hunter2-literal\"}}]}"
for who in "$VIEWER" "$OPERATOR"; do
	api GET /api/v1/dialtests "$who" > /dev/null
	grep -q "eyJliteral\|hunter2\|k-123456" "$T/answer.json" && fail "a non-admin reads credentials in the list"
	api GET "/api/v1/dialtests/$ID" "$who" > /dev/null
	grep -q "eyJliteral\|hunter2\|k-123456" "$T/answer.json" && fail "a non-admin reads credentials in the test"
	holds 'r["steps"][0]["headers"]["Content-Type"] == "application/json" and r["steps"][1]["basic_auth"]["user"] == "probe"' ||
		fail "what is no credential is hidden too"
done
api GET "/api/v1/dialtests/$ID" "$ADMIN" > /dev/null
holds 'r["steps"][0]["bearer"] == "eyJliteral.prod.token"' || fail "the admin does not see the definition"
echo ok

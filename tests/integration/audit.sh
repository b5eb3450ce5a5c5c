#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Roles and the audit log: every endpoint answers each role as the table in
# docs/api.md says (403 names the roles needed); reads of logs and of the
# audit log, refusals, bad tokens and token creation are audit rows with
# time, user, action, object, outcome and source address; no API changes
# or deletes a row, SQL refuses to, and a row changed behind the
# collector's back breaks the chain that --verify and /api/v1/verify check.
. "$(dirname "$0")/lib.sh"

# Failed authentications past the first of a window are one row when it ends: a short window here.
write_collector_conf "$(printf '[audit]\nauth_failure_window=1s')"
for role in viewer operator admin security auditor; do
	declare "TOK_$role=$(make_token "$role")"
done
start_collector

code() { # token method path
	curl -s -o "$T/body" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $1" "$URL$3"
}

info "each role against each endpoint"
# endpoint: the roles that may read it
check_roles() { # path allowed-roles...
	local path=$1 role tok want got
	shift
	for role in viewer operator admin security auditor; do
		tok=TOK_$role
		want=403
		case " $* " in *" $role "*) want=${OK:-200} ;; esac
		got=$(code "${!tok}" GET "$path")
		[ "$got" = "$want" ] || fail "GET $path as $role: $got, expected $want: $(cat "$T/body")"
		if [ "$want" = 403 ]; then
			grep -q '"error":"forbidden"' "$T/body" && grep -q "needs the role" "$T/body" ||
				fail "403 body: $(cat "$T/body")"
		fi
	done
}
check_roles /api/v1/hosts viewer operator admin
check_roles /api/v1/probes viewer operator admin
# Nothing stores this metric: those who may ask are told so (404), the others are refused.
OK=404 check_roles "/api/v1/metrics?name=cpu.user" viewer operator admin
check_roles /api/v1/logs operator admin security
check_roles /api/v1/audit security auditor
check_roles /api/v1/verify admin security
check_roles /metrics viewer operator admin security
check_roles /api/v1/alerts viewer operator admin
check_roles /api/v1/silences viewer operator admin
check_roles /api/v1/rules viewer operator admin
check_roles /api/v1/notify operator admin
check_roles /api/v1/tokens admin
code "$TOK_viewer" GET /api/v1/logs > /dev/null
grep -q 'GET /api/v1/logs needs the role operator, admin or security; token t-viewer-[0-9]* has viewer' "$T/body" ||
	fail "403 reason: $(cat "$T/body")"

info "what the audit log holds"
curl -s -o /dev/null -H "Authorization: Bearer not-a-token" "$URL/api/v1/logs?q=secret"
code "$TOK_security" GET "/api/v1/logs?host=web-1&q=sshd" > /dev/null
code "$TOK_viewer" GET "/api/v1/audit" > /dev/null
"$B/vigil-collector" --config "$T/collector.conf" --create-token late-admin --role admin > /dev/null
audit_json() { curl -s -H "Authorization: Bearer $TOK_security" "$URL/api/v1/audit$1"; }
refused_row() { sqlite3 "$T/data/audit.db" "SELECT 1 FROM audit WHERE action='auth.failed' AND object='/api/v1/logs?q=secret'" | grep -q 1; }
wait_for 10 "the refused call's row" refused_row
audit_json "?limit=1000" > "$T/audit.json"
"$PY" - "$T/audit.json" <<'PYEOF' || fail "audit rows: $(head -c 1500 "$T/audit.json")"
import json, sys
rows = json.load(open(sys.argv[1]))["items"]
for r in rows:
    assert set(r) == {"id", "ts", "user", "role", "action", "object", "outcome", "status", "source", "detail"}, r
    assert r["ts"] > 1.7e15 and r["outcome"] in ("success", "failure"), r
ids = [r["id"] for r in rows]
assert ids == sorted(ids) and len(set(ids)) == len(ids), ids
def one(**kw):
    m = [r for r in rows if all(r[k] == v for k, v in kw.items())]
    assert m, kw
    return m[-1]
r = one(action="logs.read", role="security", object="/api/v1/logs?host=web-1&q=sshd")
assert r["outcome"] == "success" and r["status"] == 200 and r["source"].startswith("127.0.0.1:"), r
assert r["user"].startswith("t-security-"), r
r = one(action="auth.failed", object="/api/v1/logs?q=secret")
assert r["user"] == "-" and r["outcome"] == "failure" and r["status"] == 401, r
r = one(action="audit.read", role="viewer")
assert r["outcome"] == "failure" and r["status"] == 403, r
r = one(action="token.create", object="token late-admin (role admin)")
assert r["user"].startswith("local:") and r["source"] == "local" and r["outcome"] == "success", r
# Reads of state are not audited, refusals of them are.
assert not [r for r in rows if r["action"] == "hosts.read" and r["outcome"] == "success"], rows
assert [r for r in rows if r["action"] == "hosts.read" and r["status"] == 403], rows
PYEOF
info "filters and paging"
audit_json "?action=token.create" | grep -q '"object":"token late-admin (role admin)"' || fail "action filter"
[ "$(audit_json "?user=nobody" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')" = 0 ] ||
	fail "user filter"
page=$(audit_json "?limit=2")
next=$(echo "$page" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["next_cursor"])')
audit_json "?limit=2&cursor=$next" | "$PY" -c 'import json,sys
d = json.load(sys.stdin); assert d["items"] and d["items"][0]["id"] > int(sys.argv[1]), d' "$next" || fail "paging"
[ "$(code "$TOK_security" GET "/api/v1/audit?cursor=x")" = 400 ] || fail "bad cursor accepted"

info "an admin makes and revokes tokens through the API"
curl -s -o "$T/tok.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOK_operator" \
	--data '{"name":"carol","role":"operator"}' "$URL/api/v1/tokens" | grep -qx 403 || fail "an operator made a token"
[ "$(curl -s -o "$T/tok.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOK_admin" \
	--data '{"name":"carol","role":"root"}' "$URL/api/v1/tokens")" = 400 ] && grep -q "role: expected" "$T/tok.json" ||
	fail "a bad role: $(cat "$T/tok.json")"
[ "$(curl -s -o "$T/tok.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOK_admin" \
	--data '{"name":"carol","role":"operator"}' "$URL/api/v1/tokens")" = 201 ] || fail "token: $(cat "$T/tok.json")"
CAROL=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$T/tok.json")
[ "$(code "$CAROL" GET /api/v1/logs)" = 200 ] || fail "the new token does not work"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOK_admin" \
	--data '{"name":"carol","role":"viewer"}' "$URL/api/v1/tokens")" = 409 ] || fail "a second carol"
code "$TOK_admin" GET /api/v1/tokens > /dev/null
grep -q '"name":"carol","role":"operator"' "$T/body" && ! grep -q vgl_ "$T/body" || fail "token list: $(cat "$T/body")"
ADMIN_NAME=$("$PY" -c 'import json,sys; print([t["name"] for t in json.load(open(sys.argv[1]))["items"] if t["name"].startswith("t-admin-")][0])' "$T/body")
[ "$(code "$TOK_admin" DELETE "/api/v1/tokens/$ADMIN_NAME")" = 409 ] || fail "a token revoked itself"
[ "$(code "$TOK_admin" DELETE /api/v1/tokens/carol)" = 200 ] || fail "revoke: $(cat "$T/body")"
[ "$(code "$CAROL" GET /api/v1/logs)" = 401 ] || fail "a revoked token still works"
[ "$(code "$TOK_admin" DELETE /api/v1/tokens/carol)" = 404 ] || fail "revoking twice"
audit_json "?action=token.delete" | grep -q '"object":"/api/v1/tokens/carol","outcome":"success"' ||
	fail "no token.delete row: $(audit_json "?action=token.delete")"

info "no API changes the audit log, and SQL refuses to"
before=$(audit_json "?limit=1000" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
for m in POST PUT DELETE PATCH; do
	[ "$(code "$TOK_admin" "$m" /api/v1/audit)" = 405 ] || fail "$m /api/v1/audit: $(cat "$T/body")"
done
after=$(audit_json "?limit=1000" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
# The four refused calls and the one read between are rows too; none went away.
[ "$after" -ge "$((before + 5))" ] || fail "audit rows: $before before, $after after"
if sqlite3 "$T/data/audit.db" "DELETE FROM audit WHERE id=1" 2> "$T/sql.err"; then fail "DELETE allowed"; fi
grep -q "audit rows cannot be deleted" "$T/sql.err" || fail "$(cat "$T/sql.err")"
if sqlite3 "$T/data/audit.db" "UPDATE audit SET user='x' WHERE id=1" 2> "$T/sql.err"; then fail "UPDATE allowed"; fi

info "the chain: intact, then broken by a change behind the collector's back"
"$B/vigil-collector" --config "$T/collector.conf" --verify > "$T/verify.out" || fail "verify: $(cat "$T/verify.out")"
grep -q "audit rows checked (sha256), chain intact" "$T/verify.out" || fail "$(cat "$T/verify.out")"
sqlite3 "$T/data/audit.db" "DROP TRIGGER audit_no_update; UPDATE audit SET user='someone-else' WHERE id=3"
if "$B/vigil-collector" --config "$T/collector.conf" --verify > "$T/verify.out"; then fail "tampering not found"; fi
grep -q "audit log: row 3 does not match the chain" "$T/verify.out" || fail "$(cat "$T/verify.out")"
curl -s -H "Authorization: Bearer $TOK_admin" "$URL/api/v1/verify" | grep -q '"audit":{"ok":false,.*"first_bad":3}' ||
	fail "/api/v1/verify does not report the broken chain"
echo ok

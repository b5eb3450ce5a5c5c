#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The console's users and sessions shared by two collectors on one
# PostgreSQL database ([storage] backend=postgresql): a user made on one
# logs in on the other, a session begun on one is good on the other and a
# logout or password change on one ends it on both, failed logins add up
# across them (and the lockout made through B raises the lockout rule's
# alert on A, which evaluates), a TOTP code or recovery code is good once
# on all of them; an
# API token made on one works on the other, and revoked on one, on neither.
# The database stopped: a session's request is 503, never a 401 that would
# log the console out; started again, the same session goes on. A database
# that never answers does not hold a collector's start for good.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

pg_start
pg_collectors_conf "[users]
lockout_failures=3
lockout_time=1h
[alerts]
interval=1s
[rule \"locked-out\"]
type=lockout
severity=critical"
start_collector
start_collector_b
for log in "$T/collector.log" "$T/collector-b.log"; do
	grep -q "the users, sessions and API tokens are in PostgreSQL" "$log" || fail "$(basename "$log"): users not in PostgreSQL"
done

info "a user made on A logs in on B; a session begun on A is good on B, its CSRF token too"
echo "Operator-pass-2026" | "$B/vigil-collector" --config "$T/collector.conf" --create-user li.na --role operator \
	> /dev/null || fail "--create-user on A"
echo "Root-password-2026" | "$B/vigil-collector" --config "$T/collector-b.conf" --create-user root --role admin \
	> /dev/null || fail "--create-user on B"
echo "Root-password-2026" | "$B/vigil-collector" --config "$T/collector.conf" --create-user root --role admin \
	2> "$T/twice.err" && fail "root made twice, once on each collector"
[ "$(URL=$URL_B login op li.na Operator-pass-2026)" = 200 ] || fail "login on B: $(cat "$T/op.json")"
[ "$(login op2 li.na Operator-pass-2026)" = 200 ] || fail "login on A: $(cat "$T/op2.json")"
[ "$(jar op "$URL_A/api/v1/session")" = 200 ] && [ "$(member op user)" = li.na ] || fail "B's session on A: $(cat "$T/op.json")"
[ "$(jar op2 "$URL_B/api/v1/alerts")" = 200 ] || fail "A's session on B: $(cat "$T/op2.json")"

info "a password changed on A ends the user's other sessions on B too, and keeps the one that changed it"
[ "$(URL=$URL_A as op POST /api/v1/session/password '{"old":"Operator-pass-2026","new":"Operator-new-2027"}')" = 200 ] ||
	fail "change on A with B's session: $(cat "$T/op.json")"
[ "$(jar op2 "$URL_B/api/v1/alerts")" = 401 ] || fail "the other session still works on B"
[ "$(jar op "$URL_B/api/v1/alerts")" = 200 ] || fail "the changing session ended on B"
[ "$(URL=$URL_B login op3 li.na Operator-new-2027)" = 200 ] || fail "the new password on B"
[ "$(URL=$URL_B as op3 DELETE /api/v1/session)" = 200 ] || fail "logout on B"
[ "$(jar op3 "$URL_A/api/v1/alerts")" = 401 ] || fail "a session logged out on B still works on A"

info "failed logins add up across collectors: two on A and one on B lock the user on both; A raises the alert"
[ "$(login bad li.na Wrong-password-9)" = 401 ] || fail "wrong password 1 (A)"
[ "$(login bad li.na Wrong-password-9)" = 401 ] || fail "wrong password 2 (A)"
[ "$(URL=$URL_B login bad li.na Wrong-password-9)" = 403 ] && grep -q '"locked"' "$T/bad.json" ||
	fail "not locked: $(cat "$T/bad.json")"
[ "$(login bad li.na Operator-new-2027)" = 403 ] || fail "the right password on A while locked"
grep -q "alerting: this collector .* does this work now" "$T/collector.log" || fail "A does not evaluate"
WATCH=$(make_token viewer)
locked_alert() {
	curl -s -H "Authorization: Bearer $WATCH" "$URL_A/api/v1/alerts?state=firing" | grep -q '"rule":"locked-out".*li\.na'
}
wait_for 15 "the lockout's alert on A" locked_alert

info "root enrols TOTP on B; a code taken on A is refused on B, a recovery code used on B is refused on A"
[ "$(URL=$URL_B login adm root Root-password-2026)" = 200 ] && [ "$(member adm must_enrol_totp)" = True ] ||
	fail "admin login: $(cat "$T/adm.json")"
[ "$(URL=$URL_B as adm POST /api/v1/session/totp '{"password":"Root-password-2026"}')" = 200 ] ||
	fail "begin: $(cat "$T/adm.json")"
SECRET=$(member adm secret)
[ "$(URL=$URL_B as adm POST /api/v1/session/totp/confirm "{\"code\":\"$(totp "$SECRET")\"}")" = 200 ] ||
	fail "confirm: $(cat "$T/adm.json")"
RECOVERY=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["recovery_codes"][0])' "$T/adm.json")
CODE=$(totp "$SECRET" 30)
[ "$(login adm root Root-password-2026 ",\"totp\":\"$CODE\"")" = 200 ] || fail "a code on A: $(cat "$T/adm.json")"
[ "$(URL=$URL_B login adm2 root Root-password-2026 ",\"totp\":\"$CODE\"")" = 401 ] || fail "A's code again on B"
[ "$(URL=$URL_B login adm3 root Root-password-2026 ",\"recovery\":\"$RECOVERY\"")" = 200 ] || fail "recovery on B"
[ "$(login adm4 root Root-password-2026 ",\"recovery\":\"$RECOVERY\"")" = 401 ] || fail "B's recovery code again on A"
[ "$(jar adm "$URL_B/api/v1/users")" = 200 ] || fail "users on B: $(cat "$T/adm.json")"
"$PY" - "$T/adm.json" <<'PYEOF' || fail "the users B lists: $(cat "$T/adm.json")"
import json, sys
u = {x["name"]: x for x in json.load(open(sys.argv[1]))["items"]}
assert set(u) == {"li.na", "root"}, u
assert u["li.na"]["locked_until"] > 0 and u["root"]["totp"] is True, u
PYEOF

info "an API token made on A works on B; B lists it; revoked through B, A refuses it at once"
TOKEN_A=$(make_token admin)
OTHER=$("$B/vigil-collector" --config "$T/collector.conf" --create-token "puller" --role security)
[ "$(URL=$URL_B api GET /api/v1/logs "$OTHER")" = 200 ] || fail "A's token on B: $(cat "$T/answer.json")"
[ "$(URL=$URL_B api GET /api/v1/tokens "$TOKEN_A")" = 200 ] && grep -q '"puller"' "$T/answer.json" ||
	fail "B's token list: $(cat "$T/answer.json")"
[ "$(URL=$URL_B api DELETE /api/v1/tokens/puller "$TOKEN_A")" = 200 ] || fail "revoke on B: $(cat "$T/answer.json")"
[ "$(api GET /api/v1/logs "$OTHER")" = 401 ] || fail "a token revoked on B still works on A"
pg_sql -c "SELECT encode(hash, 'hex') FROM tokens" | grep -q "${TOKEN_A#vgl_}" && fail "a token stored in clear"

info "PostgreSQL stopped: a session's request is 503, not a logout; a login too; started again, the session goes on"
pg_halt
[ "$(jar adm "$URL_A/api/v1/alerts")" = 503 ] && grep -q '"unavailable"' "$T/adm.json" ||
	fail "with the database down: $(cat "$T/adm.json")"
[ "$(api GET /api/v1/hosts "$TOKEN_A")" = 503 ] || fail "a token with the database down: $(cat "$T/answer.json")"
[ "$(URL=$URL_B login adm5 root Root-password-2026)" = 503 ] || fail "a login with the database down: $(cat "$T/adm5.json")"
pg_resume
wait_for 20 "A's session again" test "$(jar adm "$URL_A/api/v1/alerts")" = 200
[ "$(jar adm "$URL_B/api/v1/alerts")" = 200 ] || fail "B after the database came back: $(cat "$T/adm.json")"

info "the database refuses the collectors' own password (rotated there, not in their file): 503, not a logout"
pg_sql -c "ALTER ROLE vigil PASSWORD 'rotated-elsewhere'"
PGPASSWORD=rotated-elsewhere "$PG_BIN/psql" -X -q -A -t "$PG_URL" \
	-c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'vigil-collector'" > /dev/null
[ "$(jar adm "$URL_A/api/v1/alerts")" = 503 ] || fail "with the password refused: $(cat "$T/adm.json")"
[ "$(api GET /api/v1/hosts "$TOKEN_A")" = 503 ] || fail "a token with the password refused: $(cat "$T/answer.json")"
PGPASSWORD=rotated-elsewhere "$PG_BIN/psql" -X -q -A -t "$PG_URL" \
	-c "ALTER ROLE vigil PASSWORD '$(cat "$PG_PASSWORD_FILE")'" > /dev/null
wait_for 20 "A's session with the password back" test "$(jar adm "$URL_A/api/v1/alerts")" = 200

info "only hashes in the database: the password's argon2id, the session's SHA-256; no secret in a log"
pg_sql -c "SELECT password FROM users" | grep -qv '^\$argon2id\$' && fail "a password not hashed"
COOKIE=$(awk '$6 == "vigil_session" { print $7 }' "$T/adm.jar")
[ ${#COOKIE} = 64 ] || fail "no session cookie in the jar"
[ "$(pg_sql -c "SELECT count(*) FROM sessions WHERE id=sha256(convert_to('$COOKIE', 'UTF8'))")" = 1 ] ||
	fail "the session is not stored by its SHA-256"
pg_sql -c "SELECT encode(id, 'hex') FROM sessions" | grep -q "$COOKIE" && fail "a session id stored in clear"
for s in Operator-pass-2026 Operator-new-2027 Root-password-2026 Wrong-password-9 "$SECRET" "$RECOVERY" "$COOKIE" \
	"$TOKEN_A" "$OTHER" "$(cat "$PG_PASSWORD_FILE")"; do
	grep -q -- "$s" "$T/collector.log" "$T/collector-b.log" && fail "a secret in a log"
done

info "a database that never answers: the collector gives up connecting after 5 s and says so"
SILENT=$(free_port)
"$PY" -c "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',$SILENT)); s.listen(8); time.sleep(60)" &
PIDS="$PIDS $!"
wait_for 5 "the silent listener" port_up "$SILENT"
sed "s|^url=.*|url=postgresql://vigil@127.0.0.1:$SILENT/vigil|" "$T/collector.conf" > "$T/silent.conf"
START=$(date +%s)
RC=0
timeout 30 "$B/vigil-collector" --config "$T/silent.conf" > "$T/silent.out" 2>&1 || RC=$?
[ "$RC" != 124 ] && [ "$RC" != 0 ] || fail "the collector waited on a silent database (exit $RC)"
grep -q "cannot connect to" "$T/silent.out" || fail "not said: $(cat "$T/silent.out")"
info "gave up after $(($(date +%s) - START)) s"
echo ok

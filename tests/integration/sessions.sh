#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Named users and console sessions over HTTP: the first admin from the
# command line, users made by an admin change their password first, a
# change without the session's CSRF token is refused, failed logins lock,
# roles that need a second factor enrol TOTP before anything else, codes and
# recovery codes work once, sessions end at logout and when idle, and the
# audit log names the user, never a password. A lockout fires the lockout
# rule's alert.
. "$(dirname "$0")/lib.sh"

write_collector_conf "[users]
session_idle=6s
lockout_failures=3
lockout_time=1h
[alerts]
interval=1s
[rule \"console-lockout\"]
type=lockout
severity=warning"
TOKEN=$(make_token admin)
start_collector


info "the first admin from the command line; a weak password is refused with the policy"
echo "short" | "$B/vigil-collector" --config "$T/collector.conf" --create-user root --role admin 2> "$T/create.err" &&
	fail "a weak password was taken"
grep -q "at least 12 characters of at least 3" "$T/create.err" || fail "policy not said: $(cat "$T/create.err")"
echo "Root-password-2026" | "$B/vigil-collector" --config "$T/collector.conf" --create-user root --role admin > /dev/null ||
	fail "--create-user"

info "a user an admin makes changes the password first; a change needs the CSRF token"
[ "$(api POST /api/v1/users "$TOKEN" '{"name":"li.na","role":"operator","password":"Given-by-admin-1"}')" = 201 ] ||
	fail "create: $(cat "$T/answer.json")"
[ "$(login op li.na Given-by-admin-1)" = 200 ] || fail "login: $(cat "$T/op.json")"
[ "$(member op must_change_password)" = True ] || fail "must change: $(cat "$T/op.json")"
grep -qiE '^Set-Cookie: vigil_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict' "$T/op.headers" ||
	fail "the cookie: $(grep -i set-cookie "$T/op.headers")"
[ "$(jar op "$URL/api/v1/alerts")" = 403 ] && grep -q password_change_required "$T/op.json" ||
	fail "used before the change: $(cat "$T/op.json")"
[ "$(jar op -X POST -H 'Content-Type: application/json' -d '{"old":"Given-by-admin-1","new":"Mine-own-pass-22"}' \
	"$URL/api/v1/session/password")" = 403 ] && grep -q '"csrf"' "$T/op.json" || fail "no CSRF taken: $(cat "$T/op.json")"
[ "$(as op POST /api/v1/session/password '{"old":"Given-by-admin-1","new":"weak"}')" = 400 ] || fail "weak new password"
[ "$(as op POST /api/v1/session/password '{"old":"Given-by-admin-1","new":"Mine-own-pass-22"}')" = 200 ] ||
	fail "change: $(cat "$T/op.json")"
[ "$(jar op "$URL/api/v1/alerts")" = 200 ] || fail "after the change: $(cat "$T/op.json")"
[ "$(jar op -X POST -d '{"matchers":{"host":"web-1"},"comment":"x","duration":"1h"}' "$URL/api/v1/silences")" = 403 ] ||
	fail "a silence without the CSRF token"
[ "$(as op POST /api/v1/silences '{"matchers":{"host":"web-1"},"comment":"kernel upgrade","duration":"1h"}')" = 201 ] ||
	fail "a silence with it: $(cat "$T/op.json")"
[ "$(jar op "$URL/api/v1/users")" = 403 ] && grep -q "needs the role admin; user li.na has operator" "$T/op.json" ||
	fail "an operator manages users: $(cat "$T/op.json")"

info "failed logins lock, even against the right password; an admin's reset unlocks"
for i in 1 2; do [ "$(login bad li.na Wrong-password-9)" = 401 ] || fail "wrong password $i"; done
[ "$(login bad li.na Wrong-password-9)" = 403 ] && grep -q '"locked"' "$T/bad.json" || fail "not locked: $(cat "$T/bad.json")"
[ "$(login bad li.na Mine-own-pass-22)" = 403 ] || fail "the right password while locked"
grep -q "li.na locked for 3600 s after 3 failed logins" "$T/collector.log" || fail "the lock is not logged"
lockout_alert() {
	[ "$(api GET /api/v1/alerts "$TOKEN")" = 200 ] && "$PY" - "$T/answer.json" <<'PYEOF'
import json, sys
a = [x for x in json.load(open(sys.argv[1]))["items"] if x["rule"] == "console-lockout"]
assert len(a) == 1 and a[0]["labels"]["user"] == "li.na" and a[0]["state"] == "firing", a
assert a[0]["summary"].startswith("console user li.na locked out: 1 lockout in 3600 s after failed logins"), a
PYEOF
}
wait_for 10 "the lockout rule's alert" lockout_alert
CODE=$(api POST /api/v1/users/li.na "$TOKEN" '{"action":"reset-password","password":"Second-given-33"}')
[ "$CODE" = 200 ] || fail "reset: $CODE $(cat "$T/answer.json")"
[ "$(login op li.na Second-given-33)" = 200 ] && [ "$(member op must_change_password)" = True ] || fail "after reset"
[ "$(login nobody nobody Whatever-pass-1)" = 401 ] || fail "an unknown user"

info "vigilctl manages users: add (the password on standard input), list, role, disable"
ctl() { VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" "$@"; }
echo "Viewer-given-44" | ctl user add wang.wu viewer > /dev/null || fail "vigilctl user add"
ctl user list > "$T/users.txt"
grep -qE "^wang.wu +viewer +active +must change" "$T/users.txt" || fail "user list: $(cat "$T/users.txt")"
ctl user role wang.wu operator > /dev/null || fail "vigilctl user role"
ctl user disable wang.wu > /dev/null || fail "vigilctl user disable"
[ "$(login ww wang.wu Viewer-given-44)" = 403 ] && grep -q '"disabled"' "$T/ww.json" || fail "a disabled user logged in"
ctl user enable wang.wu > /dev/null && [ "$(login ww wang.wu Viewer-given-44)" = 200 ] || fail "enable"
[ "$(member ww role)" = operator ] || fail "the role change"
ctl user role wang.wu root 2> "$T/ctl.err" && fail "an unknown role taken"
grep -q "role: expected viewer, operator, admin, security or auditor" "$T/ctl.err" || fail "$(cat "$T/ctl.err")"

info "an admin enrols TOTP before anything else; then a login needs a code, each code and recovery code once"
[ "$(login adm root Root-password-2026)" = 200 ] && [ "$(member adm must_enrol_totp)" = True ] || fail "admin login"
[ "$(as adm GET /api/v1/users)" = 403 ] && grep -q totp_enrolment_required "$T/adm.json" || fail "used before enrolling"
[ "$(as adm POST /api/v1/session/totp '{"password":"wrong"}')" = 403 ] || fail "enrolment without the password"
[ "$(as adm POST /api/v1/session/totp '{"password":"Root-password-2026"}')" = 200 ] || fail "begin: $(cat "$T/adm.json")"
SECRET=$(member adm secret)
grep -q "otpauth://totp/vigil:root?secret=$SECRET" "$T/adm.json" || fail "no otpauth URI"
cp "$T/adm.json" "$T/totp-begin.json"
[ "$(as adm POST /api/v1/session/totp/confirm '{"code":"000000"}')" = 403 ] || fail "a wrong code enrolled"
[ "$(as adm POST /api/v1/session/totp/confirm "{\"code\":\"$(totp "$SECRET")\"}")" = 200 ] || fail "confirm: $(cat "$T/adm.json")"
RECOVERY=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["recovery_codes"][0])' "$T/adm.json")
[ "$(as adm GET /api/v1/users)" = 200 ] && grep -q '"li.na"' "$T/adm.json" || fail "users after enrolling"
[ "$(as adm DELETE /api/v1/session)" = 200 ] || fail "logout"
[ "$(jar adm "$URL/api/v1/users")" = 401 ] || fail "the cookie still works after logout"
[ "$(login adm root Root-password-2026)" = 401 ] && grep -q code_required "$T/adm.json" || fail "no code asked"
CODE=$(totp "$SECRET" 30)
[ "$(login adm root Root-password-2026 ",\"totp\":\"$CODE\"")" = 200 ] || fail "login with a code: $(cat "$T/adm.json")"
[ "$(login adm2 root Root-password-2026 ",\"totp\":\"$CODE\"")" = 401 ] || fail "a code taken twice"
[ "$(login adm3 root Root-password-2026 ",\"recovery\":\"$RECOVERY\"")" = 200 ] || fail "a recovery code"
[ "$(login adm4 root Root-password-2026 ",\"recovery\":\"$RECOVERY\"")" = 401 ] || fail "a recovery code twice"

info "an auditor reads the audit log and nothing else; an admin does not read it"
AUDITOR=$(make_token auditor)
[ "$(api GET /api/v1/audit "$AUDITOR")" = 200 ] || fail "auditor: audit log"
[ "$(api GET /api/v1/alerts "$AUDITOR")" = 403 ] || fail "auditor: alerts"
[ "$(api GET /api/v1/audit "$TOKEN")" = 403 ] || fail "admin: audit log"

info "a session unused for session_idle ends"
[ "$(login idle li.na Second-given-33)" = 200 ] && [ "$(jar idle "$URL/api/v1/session")" = 200 ] || fail "the session"
sleep 7
[ "$(jar idle "$URL/api/v1/session")" = 401 ] || fail "the idle session still works"

info "the audit log names the user of each action, and holds no password"
curl -s -H "Authorization: Bearer $AUDITOR" "$URL/api/v1/audit?limit=1000" > "$T/audit.json"
"$PY" - "$T/audit.json" <<'PYEOF' || fail "audit log"
import json, sys
rows = json.load(open(sys.argv[1]))["items"]
def has(user, action, ok=None):
    return any(r["user"] == user and r["action"] == action and (ok is None or (r["outcome"] == "success") == ok)
               for r in rows)
assert has("li.na", "silence.create", True), "the silence under li.na"
assert has("li.na", "password.change", True), "the password change"
assert has("root", "totp.enrol", True), "the enrolment"
assert has("root", "session.create", True), "root's login"
assert any(r["action"] == "session.create" and r["outcome"] != "success" for r in rows), "a failed login"
text = json.dumps(rows)
for pw in ("Given-by-admin-1", "Mine-own-pass-22", "Root-password-2026", "Wrong-password-9", "Second-given-33"):
    assert pw not in text, pw
PYEOF
for pw in Given-by-admin-1 Mine-own-pass-22 Root-password-2026 Second-given-33 "$SECRET" "$RECOVERY"; do
	grep -q -- "$pw" "$T/collector.log" && fail "a secret in the log"
done
info "the enrolment's QR code (checked here: a session ends after 6 s unused)"
# The QR code the console draws, as an image a reader decodes: the same URI.
"$PY" - "$T/totp-begin.json" "$T/qr.pgm" <<'PYEOF'
import json, sys
rows = json.load(open(sys.argv[1]))["qr"]
n, scale, quiet = len(rows), 4, 4
assert n >= 21 and all(len(r) == n for r in rows), rows
side = (n + 2 * quiet) * scale
px = bytearray(b"\xff" * side * side)
for y, row in enumerate(rows):
    for x, m in enumerate(row):
        if m == "1":
            for dy in range(scale):
                o = ((y + quiet) * scale + dy) * side + (x + quiet) * scale
                px[o:o + scale] = b"\x00" * scale
open(sys.argv[2], "wb").write(b"P5 %d %d 255\n" % (side, side) + px)
PYEOF
[ "$(zbarimg -q --raw "$T/qr.pgm" 2>/dev/null)" = "$(member totp-begin uri)" ] || fail "the QR code says: $(zbarimg -q --raw "$T/qr.pgm")"
echo ok

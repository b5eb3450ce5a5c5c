#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# An audit log that ends: a puller that reads it to the end gets an empty
# page (its pull is one row, not a row a page); rows say what was done to
# what; failed authentications cannot flood it; objects are the request as
# sent, cut to a sane length; retention drops whole months and the chain
# stays verifiable across the cut, which cannot be moved unseen.
. "$(dirname "$0")/lib.sh"

write_collector_conf "$(printf '[audit]\nsession_idle=3s\nauth_failure_window=2s')"
SEC=$(make_token security)
ADMIN=$(make_token admin)
OPER=$(make_token operator)
start_collector
get() { curl -s -H "Authorization: Bearer $1" "$URL$2"; }
rows() { sqlite3 "$T/data/audit.db" "$1"; }

info "a puller that reads to the end gets an empty page"
get "$ADMIN" /api/v1/hosts?bogus=1 > /dev/null # a refused request or two to read
"$PY" - "$URL" "$SEC" <<'PYEOF' || fail "the audit log never ends"
import json, sys, urllib.request
url, token = sys.argv[1], sys.argv[2]
def page(cursor):
    q = "/api/v1/audit?limit=2" + ("&cursor=" + cursor if cursor else "")
    req = urllib.request.Request(url + q, headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req, timeout=10))
cursor, seen = None, 0
for i in range(200):
    d = page(cursor)
    if not d["items"]:
        break
    seen += len(d["items"])
    cursor = d["next_cursor"]
else:
    sys.exit("no empty page after 200 pages")
# Polling on from there (a follower) finds nothing new of its own making.
for i in range(5):
    d = page(cursor)
    assert not d["items"] and d["next_cursor"] == cursor, d
print(seen)
PYEOF
[ "$(rows "SELECT count(*) FROM audit WHERE action='audit.read'")" = 1 ] ||
	fail "a pull is not one row: $(rows "SELECT id, object, detail FROM audit WHERE action='audit.read'")"
rows "SELECT detail FROM audit WHERE action='audit.read'" | grep -q "^pull session from the start" ||
	fail "the row does not say it is a pull session"

info "a pull of logs is one row too; a new pull after the idle time is another"
for i in 1 2 3; do get "$OPER" "/api/v1/logs?cursor=0-0-0&limit=1" > /dev/null; done
pull_messages_as() { "$PY" "$S/tests/integration/pull.py" "$URL" "$1" --count; }
[ "$(pull_messages_as "$OPER")" = 0 ] || fail "logs where none were sent"
n=$(rows "SELECT count(*) FROM audit WHERE action='logs.read'")
# Three reads from the same cursor that each were given it back: one session. pull.py: another (no cursor first).
[ "$n" = 2 ] || fail "logs reads: $n rows: $(rows "SELECT object, detail FROM audit WHERE action='logs.read'")"
sleep 3.5
get "$OPER" "/api/v1/logs?cursor=0-0-0&limit=1" > /dev/null
[ "$(rows "SELECT count(*) FROM audit WHERE action='logs.read'")" = 3 ] || fail "no new row after the idle time"
get "$OPER" "/api/v1/logs?cursor=0-0-0&limit=0" > /dev/null
[ "$(rows "SELECT status FROM audit ORDER BY id DESC LIMIT 1")" = 400 ] || fail "a refused read is not its own row"

info "the object is the request as sent, cut to a sane length"
get "$OPER" "/api/v1/logs?q=harmless%26host%3Dpayroll-db%26source%3Dauth.log" > /dev/null
rows "SELECT object FROM audit WHERE object LIKE '%harmless%'" | grep -qx '/api/v1/logs?q=harmless%26host%3Dpayroll-db%26source%3Dauth.log' ||
	fail "object: $(rows "SELECT object FROM audit WHERE object LIKE '%harmless%'")"
long=$(head -c 6000 /dev/zero | tr '\0' 'a')
get "$OPER" "/api/v1/logs?q=$long" > /dev/null
len=$(rows "SELECT max(length(object)) FROM audit")
[ "$len" -le 512 ] || fail "an object of $len bytes"
rows "SELECT object FROM audit WHERE object LIKE '%aaaa%'" | grep -q '\.\.\. (6015 bytes)$' || fail "the cut does not say so"

info "failed authentications: a row for the first of a window, one for the rest"
before=$(rows "SELECT count(*) FROM audit WHERE action='auth.failed'")
for i in $(seq 1 300); do
	printf 'url = "%s/api/v1/logs?q=%s"\noutput = "/dev/null"\nheader = "Authorization: Bearer nope"\n' "$URL" "$i"
done > "$T/flood.cfg"
curl -s -K "$T/flood.cfg"
[ "$(TOKEN=$ADMIN metric vigil_http_unauthorized_total)" -ge 300 ] || fail "the refusals are not counted"
[ "$(rows "SELECT count(*) FROM audit WHERE action='auth.failed'")" = $((before + 1)) ] ||
	fail "300 failures made $(( $(rows "SELECT count(*) FROM audit WHERE action='auth.failed'") - before )) rows"
more_row() { rows "SELECT detail FROM audit WHERE action='auth.failed' AND detail LIKE '299 more failed%'" | grep -q 127.0.0.1; }
wait_for 10 "the window's count written" more_row
[ "$(rows "SELECT count(*) FROM audit WHERE action='auth.failed'")" = $((before + 2)) ] || fail "rows after the window"

info "rows say what was done to what"
[ "$(api POST /api/v1/tokens "$ADMIN" '{"name":"bob","role":"viewer"}')" = 201 ] || fail "token"
[ "$(api POST /api/v1/silences "$OPER" '{"matchers":{"host":"web-1","probe":"nginx"},"comment":"patching","duration":"2h"}')" = 201 ] ||
	fail "silence: $(cat "$T/answer.json")"
SIL=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/answer.json")
[ "$(api DELETE "/api/v1/silences/$SIL" "$OPER")" = 200 ] || fail "silence expire"
[ "$(api POST /api/v1/rules "$ADMIN" '{"name":"disk","type":"metric","metric":"filesystem.used_pct","above":"90"}')" = 201 ] ||
	fail "rule: $(cat "$T/answer.json")"
[ "$(api POST /api/v1/notify "$ADMIN" '{"name":"hook","type":"webhook","url":"http://127.0.0.1:9/x"}')" = 201 ] || fail "target"
[ "$(api DELETE /api/v1/tokens/bob "$ADMIN")" = 200 ] || fail "revoke"
[ "$(api POST /api/v1/tokens "$ADMIN" '{"name":"eve","role":"root"}')" = 400 ] || fail "bad role"
detail() { rows "SELECT detail FROM audit WHERE action='$1' ORDER BY id" | grep -qF "$2" || fail "$1: $(rows "SELECT detail FROM audit WHERE action='$1'")"; }
detail token.create "token bob, role viewer"
detail token.create "token eve, role root"
detail token.delete "token bob revoked"
detail silence.create "silence $SIL: {\"host\":\"web-1\",\"probe\":\"nginx\"} from "
detail silence.create "'patching'"
detail silence.expire "silence $SIL: {\"host\":\"web-1\",\"probe\":\"nginx\"}"
detail rule.create "rule disk (type metric) defined"
detail notify.create "target hook (type webhook) defined"
[ "$(rows "SELECT outcome FROM audit WHERE detail='token eve, role root'")" = failure ] || fail "the refused one's outcome"
"$B/vigil-collector" --config "$T/collector.conf" --verify > "$T/verify.out" || fail "verify: $(cat "$T/verify.out")"

info "retention drops whole months; the chain holds across the cut, which cannot move unseen"
stop_collector
total=$(rows "SELECT count(*) FROM audit")
# Back-date the first five rows by 100 days and chain everything again, as if they were written then.
"$PY" - "$T/data/audit.db" <<'PYEOF'
import hashlib, sqlite3, struct, sys, time
db = sqlite3.connect(sys.argv[1])
db.execute("DROP TRIGGER audit_no_update")
old = int((time.time() - 100 * 86400) * 1e6)
def field(b): return struct.pack("<I", len(b)) + b
def num(n): return field(struct.pack("<Q", n))
prev = bytes(32)
for (rid, ts, user, role, action, obj, outcome, status, source, detail) in db.execute(
        "SELECT id, ts, user, role, action, object, outcome, status, source, detail FROM audit ORDER BY id").fetchall():
    if rid <= 5:
        ts = old + rid
    b = num(rid) + num(ts) + b"".join(field(x.encode()) for x in (user, role, action, obj, outcome))
    b += num(status) + field(source.encode()) + (field(detail.encode()) if detail else b"")
    h = hashlib.sha256(prev + b).digest()
    db.execute("UPDATE audit SET ts=?, hash=? WHERE id=?", (ts, h, rid))
    prev = h
db.execute("CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit rows cannot be changed'); END")
db.commit()
PYEOF
"$B/vigil-collector" --config "$T/collector.conf" --verify > "$T/verify.out" || fail "the re-chained log: $(cat "$T/verify.out")"
printf '[audit]\nretention_days=30\nsession_idle=3s\n' > "$T/retention.conf"
sed -i '/^\[audit\]/,$d' "$T/collector.conf"
cat "$T/retention.conf" >> "$T/collector.conf"
start_collector
dropped() { [ "$(rows "SELECT min(id) FROM audit")" = 6 ]; }
wait_for 10 "the old months dropped" dropped
rows "SELECT object FROM audit WHERE action='audit.retention'" | grep -q "^audit rows through 5 (before " ||
	fail "retention is not recorded: $(rows "SELECT * FROM audit WHERE action='audit.retention'")"
[ "$(rows "SELECT first_id || ' ' || dropped FROM anchor")" = "6 5" ] || fail "anchor: $(rows "SELECT * FROM anchor")"
[ "$(rows "SELECT count(*) FROM audit")" -ge $((total - 5 + 1)) ] || fail "more than the old months went"
"$B/vigil-collector" --config "$T/collector.conf" --verify > "$T/verify.out" || fail "after retention: $(cat "$T/verify.out")"
grep -q "audit rows checked (sha256), chain intact" "$T/verify.out" || fail "$(cat "$T/verify.out")"
get "$SEC" /api/v1/verify | grep -q '"audit":{"ok":true' || fail "/api/v1/verify after retention"
sqlite3 "$T/data/audit.db" "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE id = 6"
if "$B/vigil-collector" --config "$T/collector.conf" --verify > "$T/verify.out"; then fail "a row removed at the cut went unseen"; fi
grep -q "audit log: row 7 does not match the chain" "$T/verify.out" || fail "$(cat "$T/verify.out")"
echo ok

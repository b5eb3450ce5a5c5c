#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vigil-collector --migrate URL copies a SQLite store's blocks into
# PostgreSQL, verified (the SHA-256 of every frame as stored there) and
# resumable (a second run finds each block there already and copies
# nothing), in one chain the migration's run wrote (--verify walks it); a
# frame altered in the database afterwards is caught; a collector on the
# database then serves every line once (by its source too, each block's
# streams copied), and a probe's results derived from the blocks (once,
# however often it runs). The users and tokens go too: the same password
# logs in, the same token works there; and the alerts with their history and notifications: the collector on
# the database lists the same alert, id and history; and the rules and dial
# tests made through the API, and the dial tests of files, with their ids
# and history.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
[ -x "$B/pgrace" ] || { echo "SKIP: built without PostgreSQL (configure found no libpq)"; exit 77; }

info "a collector on SQLite stores 5000 lines in many batches; a probe's alert fires, its notification fails"
DEAD=$(free_port)
mkdir -p "$T/dialtests.d"
printf '{"name":"file-test","interval":"1h","steps":[{"name":"get","url":"http://127.0.0.1:%s/"}]}\n' "$DEAD" \
	> "$T/dialtests.d/file.json"
write_collector_conf "[dialtests]
dir=$T/dialtests.d
[alerts]
interval=1s
[notify \"hook\"]
type=webhook
url=http://127.0.0.1:$DEAD/hook
[rule \"absent\"]
type=probe
probe=absent
notify=hook"
TOKEN=$(make_token operator)
ADMIN=$(make_token admin)
echo "Operator-pass-2026" | "$B/vigil-collector" --config "$T/collector.conf" --create-user li.na --role operator \
	> /dev/null || fail "--create-user"
start_collector
silence() { curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" --data "$1" "$URL/api/v1/silences"; }
[ "$(silence '{"matchers":{"host":"db-1"},"comment":"backup window","duration":"1h","every":"1d"}')" = 201 ] || fail "silence 1"
[ "$(silence '{"matchers":{"rule":"disk"},"comment":"known","duration":"2h"}')" = 201 ] || fail "silence 2"
admin() { # method path body: the status
	curl -s -o "$T/admin.json" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $ADMIN" ${3:+--data "$3"} "$URL$2"
}
[ "$(admin POST /api/v1/rules '{"name":"api-rule","type":"probe","probe":"api-*"}')" = 201 ] || fail "the rule: $(cat "$T/admin.json")"
[ "$(admin PUT /api/v1/config-groups/web '{"selector":"role=web","config":"[metrics]\ninterval=30s\n"}')" = 200 ] ||
	fail "the config group: $(cat "$T/admin.json")"
DT="{\"name\":\"api-test\",\"interval\":\"1h\",\"steps\":[{\"name\":\"get\",\"url\":\"http://127.0.0.1:$DEAD/x\"}]}"
[ "$(admin POST /api/v1/dialtests "$DT")" = 201 ] || fail "the dial test: $(cat "$T/admin.json")"
API_TEST=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$T/admin.json")
[ "$(admin PUT "/api/v1/dialtests/$API_TEST" "${DT/\/x/\/y}")" = 200 ] || fail "the dial test changed: $(cat "$T/admin.json")"
echo x > "$T/present"
MAX_DELAY=20 write_agent_conf "[probe \"present\"]
type=file
path=$T/present
interval=1s
[probe \"absent\"]
type=file
path=$T/absent
interval=1s"
start_agent
"$PY" "$S/tests/integration/writer.py" "$T/logs/app.log" 5000 --rate 2500 --expect "$T/expected"
logs_are() { [ "$(pull_messages kind=log --count)" = "$1" ]; }
wait_for 30 "5000 lines stored" logs_are 5000
retried() { [ "$(sqlite3 "$T/data/meta.db" "SELECT count(*) FROM alert_events WHERE action = 'notify_retry'")" -ge 1 ]; }
wait_for 20 "the alert's notification tried" retried
stop_agent
stop_collector
BLOCKS=$(sqlite3 "$T/data/shards/"*.db "SELECT count(*) FROM blocks")
EVENTS=$(sqlite3 "$T/data/meta.db" "SELECT count(*) FROM alert_events")
QUEUED=$(sqlite3 "$T/data/meta.db" "SELECT count(*) FROM notifications")
ROWS=$((1 + EVENTS + QUEUED))
PRESENT=$(sqlite3 "$T/data/shards/"*.db "SELECT count(*) FROM probes WHERE name = 'present'")
[ "$PRESENT" -ge 2 ] || fail "only $PRESENT results of the probe to copy"
# Every result under its name (each block's records decoded into a buffer of its own).
history_copied() { [ "$(pg_sql -c "SELECT count(*) FROM probe_results")" = "$(pg_sql -c "SELECT count(*) FROM probe_results
	WHERE name IN ('present', 'absent')")" ] && [ "$(pg_sql -c "SELECT count(*) FROM probe_results WHERE name = 'present'")" = "$PRESENT" ]; }
[ "$BLOCKS" -gt 5 ] || fail "only $BLOCKS blocks: the lines went in too few batches"

pg_start
printf '[storage]\npassword_file=%s\n' "$PG_PASSWORD_FILE" >> "$T/collector.conf"
migrate() { "$B/vigil-collector" --config "$T/collector.conf" --migrate "$PG_URL" > "$T/migrate.out" 2>> "$T/migrate.log"; }
info "--migrate: every block copied and verified"
migrate || fail "--migrate: $(cat "$T/migrate.out")"
cat "$T/migrate.out"
grep -q "^$BLOCKS blocks of 1 days: $BLOCKS copied, 0 there already, 0 conflicting (not copied), 0 unreadable, 0 without their rows; $BLOCKS verified" \
	"$T/migrate.out" || fail "the first run: $(cat "$T/migrate.out")"
grep -q "^1 users: 1 copied, 0 there already; 2 tokens: 2 copied, 0 there already; 3 verified in PostgreSQL" \
	"$T/migrate.out" || fail "the users and tokens: $(cat "$T/migrate.out")"
grep -q "^1 hosts: 1 copied, 0 there already; 2 probes: 2 copied, 0 there already; 3 verified in PostgreSQL" \
	"$T/migrate.out" || fail "the hosts and probes: $(cat "$T/migrate.out")"
[ "$(pg_sql -c "SELECT hostname, batches > 5, streak > 1 FROM hosts, probe_state WHERE id = agent AND name = 'present'")" = "testhost|t|t" ] ||
	fail "the host as copied: $(pg_sql -c "SELECT * FROM hosts")"
[ "$(pg_sql -c "SELECT count(*) FROM blocks")" = "$BLOCKS" ] || fail "PostgreSQL holds another number of blocks"
grep -q "^2 silences: 2 copied, 0 there already; 2 verified in PostgreSQL" "$T/migrate.out" ||
	fail "the silences: $(cat "$T/migrate.out")"
grep -q "^1 alerts, $EVENTS events, $QUEUED notifications: $ROWS copied, 0 there already; $ROWS verified in PostgreSQL" \
	"$T/migrate.out" || fail "the alerts: $(cat "$T/migrate.out")"
grep -q "^3 definitions: 3 copied, 0 there already; 3 verified in PostgreSQL" "$T/migrate.out" ||
	fail "the definitions: $(cat "$T/migrate.out")"
grep -q "^2 dial tests, 3 changes of them: 5 copied, 0 there already; 5 verified in PostgreSQL" "$T/migrate.out" ||
	fail "the dial tests: $(cat "$T/migrate.out")"
history_copied || fail "the history: $PRESENT results in the store," \
	"$(pg_sql -c "SELECT count(*) FROM probe_results WHERE name = 'present'") in the database"

info "run again (as after one cut short): nothing copied twice, all verified"
migrate || fail "the second run: $(cat "$T/migrate.out")"
grep -q "^$BLOCKS blocks of 1 days: 0 copied, $BLOCKS there already, .* $BLOCKS verified" "$T/migrate.out" ||
	fail "the second run: $(cat "$T/migrate.out")"
grep -q "^1 users: 0 copied, 1 there already; 2 tokens: 0 copied, 2 there already; 3 verified" "$T/migrate.out" ||
	fail "the users and tokens again: $(cat "$T/migrate.out")"
grep -q "^1 hosts: 0 copied, 1 there already; 2 probes: 0 copied, 2 there already; 3 verified" "$T/migrate.out" ||
	fail "the hosts and probes again: $(cat "$T/migrate.out")"
grep -q "^2 silences: 0 copied, 2 there already; 2 verified" "$T/migrate.out" || fail "the silences again: $(cat "$T/migrate.out")"
grep -q "^1 alerts, $EVENTS events, $QUEUED notifications: 0 copied, $ROWS there already; $ROWS verified" "$T/migrate.out" ||
	fail "the alerts again: $(cat "$T/migrate.out")"
grep -q "^3 definitions: 0 copied, 3 there already; 3 verified" "$T/migrate.out" ||
	fail "the definitions again: $(cat "$T/migrate.out")"
grep -q "^2 dial tests, 3 changes of them: 0 copied, 5 there already; 5 verified" "$T/migrate.out" ||
	fail "the dial tests again: $(cat "$T/migrate.out")"
[ "$(pg_sql -c "SELECT count(*) FROM blocks")" = "$BLOCKS" ] || fail "a second run stored blocks again"
history_copied || fail "a second run changed the history"
# In one chain, the first run's: the second had nothing to write in its own.
[ "$(pg_sql -c "SELECT count(*) || ' ' || count(DISTINCT chain) || ' ' || max(pos) FROM blocks")" = "$BLOCKS 1 $BLOCKS" ] &&
	[ "$(pg_sql -c "SELECT count(*) || ' ' || max(pos) FROM block_chains")" = "1 $BLOCKS" ] ||
	fail "the migration's chain: $(pg_sql -c "SELECT name, pos FROM block_chains")"

info "a collector on the database serves every line once, to the token made on SQLite; the user logs in"
sed -e "s|data_dir=$T/data|data_dir=$T/data-pg|" "$T/collector.conf" > "$T/collector-pg.conf"
printf 'backend=postgresql\nurl=%s\n' "$PG_URL" >> "$T/collector-pg.conf"
"$B/vigil-collector" --config "$T/collector-pg.conf" >> "$T/collector-pg.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 10 "collector on PostgreSQL up" api_up
"$B/vigil-collector" --config "$T/collector-pg.conf" --verify > "$T/verify.out" 2>&1 || fail "--verify: $(cat "$T/verify.out")"
grep -Eq "^[12] chains walked in PostgreSQL, [0-9]+ blocks, 0 in no chain, 0 problems" "$T/verify.out" ||
	fail "--verify of the migrated blocks' chain: $(cat "$T/verify.out")"
pull_messages kind=log --expect "$T/expected" > "$T/pull.out" || fail "$(cat "$T/pull.out")"
grep -q "stored 5000 missing 0 unexpected 0 duplicates 0" "$T/pull.out" || fail "$(cat "$T/pull.out")"
# Found by their source too: the migration gave each block its streams, as ingest did.
curl -s -o "$T/count.json" -H "Authorization: Bearer $TOKEN" "$URL/api/v1/logs/count?source=app&kind=log&since=1d&step=1d"
[ "$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["total"])' "$T/count.json")" = 5000 ] ||
	fail "the lines by their source: $(cat "$T/count.json")"
curl -s -o "$T/none.json" -H "Authorization: Bearer $TOKEN" "$URL/api/v1/logs?source=none&since=1d"
"$PY" -c 'import json, sys; a = json.load(open(sys.argv[1])); assert a["items"] == [] and a["scanned"]["blocks"] == 0, a' \
	"$T/none.json" || fail "blocks of no such source were read: $(cat "$T/none.json")"
[ "$(login op li.na Operator-pass-2026)" = 200 ] || fail "the migrated user's login: $(cat "$T/op.json")"
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/hosts/testhost" > "$T/host.json"
"$PY" -c 'import json,sys; h = json.load(open(sys.argv[1])); assert [p["name"] for p in h["probe_results"]] == ["absent", "present"], h' \
	"$T/host.json" || fail "the migrated host on the database: $(cat "$T/host.json")"
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/probes/testhost/present/history?since=1h" > "$T/history.json"
"$PY" -c 'import json,sys; h = json.load(open(sys.argv[1]))["items"]; assert len(h) >= int(sys.argv[2]), len(h)' \
	"$T/history.json" "$PRESENT" || fail "the probe's history on the database: $(head -c 300 "$T/history.json")"
[ "$(login bad li.na Wrong-password-9)" = 401 ] || fail "a wrong password for the migrated user"
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/silences" > "$T/silences.json"
"$PY" -c 'import json,sys; s = json.load(open(sys.argv[1]))["items"]
assert [x["id"] for x in s] == [2, 1] and s[1]["every"] == 86400 and s[0]["comment"] == "known", s' "$T/silences.json" ||
	fail "the migrated silences on the database: $(cat "$T/silences.json")"
[ "$(silence '{"matchers":{"host":"web-9"},"comment":"new","duration":"1h"}')" = 201 ] || fail "a silence after the migration"
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts/1" > "$T/alert.json"
"$PY" -c 'import json,sys; a = json.load(open(sys.argv[1]))
assert a["rule"] == "absent" and a["state"] == "firing", a
assert len(a["history"]) >= int(sys.argv[2]) and a["history"][0]["action"] in ("pending", "fired"), a["history"]
assert [d for d in a["deliveries"] if d["target"] == "hook"], a["deliveries"]' "$T/alert.json" "$EVENTS" ||
	fail "the migrated alert on the database: $(cat "$T/alert.json")"
[ "$(pg_sql -c "SELECT count(*) FROM alerts")" = 1 ] || fail "another alert raised after the migration: $(pg_sql -c 'TABLE alerts')"
[ "$(pg_sql -c "SELECT max(id) FROM silences")" = 3 ] || fail "a new silence's id: $(pg_sql -c "SELECT id FROM silences")"
[ "$(admin GET /api/v1/rules/api-rule)" = 200 ] && grep -q '"defined_in":"api"' "$T/admin.json" ||
	fail "the migrated rule on the database: $(cat "$T/admin.json")"
[ "$(admin GET /api/v1/config-groups/web/versions)" = 200 ] && grep -q 'interval=30s' "$T/admin.json" ||
	fail "the migrated config group on the database: $(cat "$T/admin.json")"
[ "$(admin GET "/api/v1/dialtests/$API_TEST")" = 200 ] || fail "the migrated dial test: $(cat "$T/admin.json")"
"$PY" -c 'import json,sys; t = json.load(open(sys.argv[1]))
assert t["name"] == "api-test" and t["steps"][0]["url"].endswith("/y"), t
assert [h["action"] for h in t["history"]] == ["created", "updated"], t["history"]' "$T/admin.json" ||
	fail "the migrated dial test on the database: $(cat "$T/admin.json")"
curl -s -H "Authorization: Bearer $ADMIN" "$URL/api/v1/dialtests" > "$T/dialtests.json"
"$PY" -c 'import json,sys; t = {x["name"]: x["id"] for x in json.load(open(sys.argv[1]))["items"]}
assert t == {"file-test": 1, "api-test": int(sys.argv[2])}, t' "$T/dialtests.json" "$API_TEST" ||
	fail "the dial tests' ids on the database: $(cat "$T/dialtests.json")"
# Past the migrated ids (a file's test synced takes a number of the sequence too: ids are unique, not dense).
[ "$(admin POST /api/v1/dialtests "${DT/api-test/new-test}")" = 201 ] &&
	"$PY" -c 'import json,sys; assert json.load(open(sys.argv[1]))["id"] > 2' "$T/admin.json" ||
	fail "a dial test made after the migration: $(cat "$T/admin.json")"

info "a frame altered in the database is caught by the verification, and a user whose password differs there"
pg_sql -c "UPDATE blocks SET zframe = zframe || '\\x00'::bytea WHERE id = (SELECT min(id) FROM blocks)"
pg_sql -c "UPDATE users SET password = 'altered' WHERE name = 'li.na'"
pg_sql -c "UPDATE silences SET comment = 'altered' WHERE id = 1"
pg_sql -c "UPDATE definitions SET definition = '{}' WHERE name = 'api-rule'"
pg_sql -c "UPDATE dialtests SET definition = definition || ' ' WHERE name = 'api-test'"
migrate && fail "--migrate passed over an altered frame: $(cat "$T/migrate.out")"
grep -q "; $((BLOCKS - 1)) verified" "$T/migrate.out" || fail "the altered frame: $(cat "$T/migrate.out")"
grep -q "^1 users: 0 copied, 1 there already; .* 2 verified" "$T/migrate.out" || fail "the altered user: $(cat "$T/migrate.out")"
grep -q "user li.na differs in the database" "$T/migrate.log" || fail "not said: $(cat "$T/migrate.log")"
grep -q "^2 silences: 0 copied, 2 there already; 1 verified" "$T/migrate.out" || fail "the altered silence: $(cat "$T/migrate.out")"
[ "$(grep -c "silence [0-9]* differs in the database" "$T/migrate.log")" = 1 ] ||
	fail "not said once, of the one altered: $(grep "differs" "$T/migrate.log")"
grep -q "^3 definitions: 0 copied, 3 there already; 2 verified" "$T/migrate.out" ||
	fail "the altered definition: $(cat "$T/migrate.out")"
grep -q "^2 dial tests, 1 changes of them: 0 copied, 3 there already; 2 verified" "$T/migrate.out" ||
	fail "the altered dial test: $(cat "$T/migrate.out")"
grep -q "dial test $API_TEST (api-test) differs in the database" "$T/migrate.log" || fail "not said: $(cat "$T/migrate.log")"
grep -q "Operator-pass-2026\|$TOKEN" "$T/migrate.out" "$T/migrate.log" && fail "a secret in --migrate's output"
echo ok

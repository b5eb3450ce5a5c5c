#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The dial tests of two collectors on one database (dialtests/pgdialtests.c):
# a test of A's [dialtests] dir has one id on both, and B, whose dir does
# not have it, leaves it be; a test made through B (which does not run the
# schedule) is listed by A with its id and dialed by A within seconds; the
# name made again through A is 409; deleted through B, A stops dialing it;
# the runs A made are B's results and summary too; A's file removed and A
# started again, its test is gone from both, and retention (at its start)
# deleted the runs of days past [storage] retention_days.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
SITE=$(free_port)
"$PY" "$S/tests/integration/hitsite.py" "$SITE" "$T/hits" &
PIDS="$PIDS $!"
wait_for 10 "the site up" port_up "$SITE"
mkdir -p "$T/dialtests.d" "$T/dialtests-b.d"
printf '{"name":"file-ping","interval":"1s","timeout":"1s","steps":[{"name":"get","url":"http://127.0.0.1:%s/file"}]}\n' \
	"$SITE" > "$T/dialtests.d/ping.json"
pg_start
pg_collectors_conf "[dialtests]
dir=$T/dialtests.d
host=dial-a
[alerts]
interval=1s"
sed -i -e 's/^host=dial-a$/host=dial-b/' -e "s|^dir=$T/dialtests.d$|dir=$T/dialtests-b.d|" "$T/collector-b.conf"
ADMIN=$(make_token admin)
start_collectors_a_leading

on() { # url method path [body]: the status; the answer in $T/on.json
	curl -s -o "$T/on.json" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $ADMIN" ${4:+--data "$4"} "$1$3"
}
id_of() { # url name: the id that collector lists the test under, or nothing
	on "$1" GET /api/v1/dialtests > /dev/null
	"$PY" -c 'import json, sys
print(" ".join(str(t["id"]) for t in json.load(open(sys.argv[1]))["items"] if t["name"] == sys.argv[2]))' "$T/on.json" "$2"
}

info "A's file test: one id on both; B, which lacks the file, leaves it"
FILE_ID=$(id_of "$URL_A" file-ping)
[ -n "$FILE_ID" ] && [ "$(id_of "$URL_B" file-ping)" = "$FILE_ID" ] ||
	fail "file-ping: A lists '$FILE_ID', B '$(id_of "$URL_B" file-ping)'"

info "made through B: A lists it with its id and dials it"
BODY="{\"name\":\"api-ping\",\"interval\":\"1s\",\"timeout\":\"1s\",\"steps\":[{\"name\":\"get\",\"url\":\"http://127.0.0.1:$SITE/api\"}]}"
[ "$(on "$URL_B" POST /api/v1/dialtests "$BODY")" = 201 ] || fail "api-ping through B: $(cat "$T/on.json")"
API_ID=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$T/on.json")
[ "$(id_of "$URL_A" api-ping)" = "$API_ID" ] || fail "A lists api-ping as '$(id_of "$URL_A" api-ping)', B made $API_ID"
on "$URL_A" GET "/api/v1/dialtests/$API_ID" > /dev/null
grep -q '"action":"created"' "$T/on.json" && grep -q '"actor":"t-admin' "$T/on.json" ||
	fail "api-ping's history on A: $(cat "$T/on.json")"
dialed() { [ -s "$T/hits" ] && grep -q ' /api$' "$T/hits"; }
wait_for 15 "A dials api-ping" dialed
grep -q "dialtests: the dial tests changed through another collector are in force" "$T/collector.log" ||
	fail "A did not say it took B's test"
N=$(hits_in 6 /api)
[ "$N" -ge 3 ] && [ "$N" -le 9 ] || fail "$N requests for a 1 s test in 6 s"

info "the name through A: 409; deleted through B, A stops dialing it"
[ "$(on "$URL_A" POST /api/v1/dialtests "$BODY")" = 409 ] || fail "api-ping again through A: $(cat "$T/on.json")"
[ "$(on "$URL_B" DELETE "/api/v1/dialtests/$API_ID")" = 200 ] || fail "delete through B: $(cat "$T/on.json")"
[ "$(on "$URL_A" GET "/api/v1/dialtests/$API_ID")" = 404 ] || fail "api-ping on A after its deletion: $(cat "$T/on.json")"
sleep 7
N=$(hits_in 4 /api)
[ "$N" = 0 ] || fail "$N requests for api-ping 7 s after its deletion"
N=$(hits_in 4 /file)
[ "$N" -ge 2 ] || fail "file-ping dialed $N times in 4 s"

info "A's runs of the file test: B's results and summary"
[ "$(on "$URL_B" GET "/api/v1/dialtests/$FILE_ID/results?limit=5")" = 200 ] || fail "results through B: $(cat "$T/on.json")"
"$PY" -c 'import json, sys; r = json.load(open(sys.argv[1]))["items"]
assert len(r) == 5 and all(x["outcome"] == "ok" for x in r), r
ts = [x["started"] for x in r]; assert ts == sorted(ts, reverse=True), ts' "$T/on.json" ||
	fail "A's runs as B gives them: $(cat "$T/on.json")"
[ "$(on "$URL_B" GET "/api/v1/dialtests/$FILE_ID/summary")" = 200 ] || fail "summary through B: $(cat "$T/on.json")"
"$PY" -c 'import json, sys; s = json.load(open(sys.argv[1])); assert s["runs"] >= 10 and s["ok"] == s["runs"], s' \
	"$T/on.json" || fail "the summary through B: $(cat "$T/on.json")"

info "A's file removed, A started again: its test gone from both"
rm "$T/dialtests.d/ping.json"
pg_sql -c "INSERT INTO dialtest_results SELECT test, 1000, agent, host, name, outcome, latency_us, result
	FROM dialtest_results WHERE test = $FILE_ID LIMIT 1"
stop_collector
start_collector
[ -z "$(id_of "$URL_B" file-ping)" ] || fail "file-ping still listed by B"
old_gone() { [ "$(pg_sql -c "SELECT count(*) FROM dialtest_results WHERE ts < 86400000000")" = 0 ]; }
wait_for 10 "retention deletes a run of 1970" old_gone
[ "$(pg_sql -c "SELECT count(*) FROM dialtest_results WHERE test = $FILE_ID")" -ge 10 ] || fail "retention deleted today's runs"
echo ok

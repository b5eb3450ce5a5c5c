#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The audit logs of two collectors on one database (api/pgaudit.c): an
# action through A and one through B are listed by each collector's
# GET /api/v1/audit, each row naming its chain and collector; paged through
# by the cursor, every row comes once, in the order copied; the database
# stopped, A still records what it is asked (its own log, audit.db), and
# the database back, those rows are copied and listed; the chains are
# each collector's own, verified there (--verify).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
pg_start
pg_collectors_conf
ADMIN=$(make_token admin)
AUDITOR=$(make_token auditor)
start_collector
start_collector_b

on() { # url method path [body]: the status; the answer in $T/on.json
	curl -s -o "$T/on.json" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $ADMIN" ${4:+--data "$4"} "$1$3"
}
audit() { # url query: the status of GET /api/v1/audit?query as the auditor; the answer in $T/on.json
	curl -s -o "$T/on.json" -w '%{http_code}' -H "Authorization: Bearer $AUDITOR" "$1/api/v1/audit?$2"
}
info "a token made through A, another through B: both in each collector's audit log"
[ "$(on "$URL_A" POST /api/v1/tokens '{"name":"via-a","role":"viewer"}')" = 201 ] || fail "token through A: $(cat "$T/on.json")"
[ "$(on "$URL_B" POST /api/v1/tokens '{"name":"via-b","role":"viewer"}')" = 201 ] || fail "token through B: $(cat "$T/on.json")"
both_listed() { # url
	audit "$1" "action=token.create&limit=1000" > /dev/null &&
		"$PY" -c 'import json, sys; r = json.load(open(sys.argv[1]))["items"]
made = {x["detail"].split(",")[0] for x in r if x["outcome"] == "success"}
assert {"token via-a", "token via-b"} <= made, made
assert len({x["chain"] for x in r}) == 2, r' "$T/on.json" 2> /dev/null
}
wait_for 10 "both tokens in A's audit log" both_listed "$URL_A"
both_listed "$URL_B" || fail "B's audit log: $(cat "$T/on.json")"

info "paged through the cursor: each row once, in order"
page_all() { # url: the seqs of every row, a page of 3 at a time
	local cursor=0 n=0
	: > "$T/seqs"
	while [ "$n" -lt 200 ]; do
		audit "$1" "limit=3&cursor=$cursor" > /dev/null
		"$PY" -c 'import json, sys; a = json.load(open(sys.argv[1]))
for x in a["items"]: print(x["seq"])' "$T/on.json" >> "$T/seqs"
		[ "$("$PY" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["items"]))' "$T/on.json")" = 0 ] && return 0
		cursor=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["next_cursor"])' "$T/on.json")
		n=$((n + 1))
	done
	fail "more than 200 pages"
}
page_all "$URL_B"
[ "$(sort -n "$T/seqs" | uniq | wc -l)" = "$(wc -l < "$T/seqs")" ] || fail "a row twice: $(tr '\n' ' ' < "$T/seqs")"
sort -n -c "$T/seqs" || fail "out of order: $(tr '\n' ' ' < "$T/seqs")"
[ "$(wc -l < "$T/seqs")" -ge "$(pg_sql -c "SELECT count(*) FROM audit_log WHERE seq <= $(tail -1 "$T/seqs")")" ] ||
	fail "rows skipped: $(wc -l < "$T/seqs") paged, $(pg_sql -c "SELECT count(*) FROM audit_log")"

info "four readers at once while the rows they add are copied: every answer a page of rows"
readers=""
for k in 1 2 3 4; do
	for i in $(seq 40); do
		curl -s -m 30 -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $AUDITOR" "$URL_A/api/v1/audit?limit=50"
	done > "$T/readers-$k" &
	readers="$readers $!"
done
# The readers only: a bare wait would wait for the collectors too.
wait $readers
[ "$(sort "$T"/readers-* | uniq -c | awk '{ print $1 " " $2 }')" = "160 200" ] ||
	fail "the readers' answers: $(sort "$T"/readers-* | uniq -c | tr '\n' ' ')"

info "the database stopped: A records what it is asked in its own log; back, those rows are copied"
LOCAL=$(sqlite3 "$T/data/audit.db" "SELECT count(*) FROM audit")
pg_halt
[ "$(audit "$URL_A" "")" = 503 ] || fail "the shared audit log with the database stopped: $(cat "$T/on.json")"
[ "$(sqlite3 "$T/data/audit.db" "SELECT count(*) FROM audit")" -gt "$LOCAL" ] || fail "A did not record the request in its log"
wait_for 10 "A says it cannot copy" grep -q "audit: the rows cannot be copied to the shared store" "$T/collector.log"
pg_resume
CHAIN=$(sqlite3 "$T/data/audit.db" "SELECT name FROM chain")
copied() {
	[ "$(pg_sql -c "SELECT count(*) FROM audit_log WHERE chain = '$CHAIN'")" = \
		"$(sqlite3 "$T/data/audit.db" "SELECT count(*) FROM audit")" ]
}
wait_for 15 "A's rows copied" copied
grep -q "audit: the rows are copied to the shared store again" "$T/collector.log" || fail "A did not say it copies again"
[ "$(pg_sql -c "SELECT count(DISTINCT chain) FROM audit_log")" = 2 ] || fail "chains: $(pg_sql -c "SELECT DISTINCT chain FROM audit_log")"

info "each chain is its collector's, and holds"
stop_collector
"$B/vigil-collector" --config "$T/collector.conf" --verify > "$T/verify.out" 2>&1 || fail "--verify: $(cat "$T/verify.out")"
grep -q "audit rows checked (sha256), chain intact" "$T/verify.out" || fail "--verify said: $(cat "$T/verify.out")"
echo ok

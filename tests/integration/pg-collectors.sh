#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two collectors on one PostgreSQL database ([storage] backend=postgresql),
# three agents given both addresses, 200,000 lines: collector A killed (-9)
# in the middle and started again, then B killed: every line is stored
# once in the shared store (a batch a killed collector stored and could
# not acknowledge, sent again to the other, is a duplicate there), and a
# puller following the cursor through all of it, from whichever collector
# answers, sees each line exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
[ -x "$B/pgrace" ] || { echo "SKIP: built without PostgreSQL (configure found no libpq)"; exit 77; }

info "configuration: what backend=postgresql needs is said with file:line"
write_collector_conf "[storage]
backend=postgresql"
config_refused vigil-collector "$T/collector.conf" "collector.conf:[0-9]*: \\[storage\\] backend=postgresql: set url= to the database"
write_collector_conf "[storage]
backend=postgres"
config_refused vigil-collector "$T/collector.conf" "collector.conf:[0-9]*: \\[storage\\] backend=postgres: expected sqlite or postgresql"
write_collector_conf "[storage]
backend=postgresql
url=postgresql://vigil:s3cret@db.example/vigil"
config_refused vigil-collector "$T/collector.conf" "collector.conf:[0-9]*: \\[storage\\] url=: holds a password"
grep -q s3cret "$T/check.out" && fail "the password is repeated in the error"
write_collector_conf "[storage]
url=postgresql:///vigil"
config_refused vigil-collector "$T/collector.conf" "collector.conf:[0-9]*: \\[storage\\] url= is for backend=postgresql"

pg_start
pg_collectors_conf
cp -p "$PG_PASSWORD_FILE" "$T/pw-open" && chmod 0644 "$T/pw-open"
sed "s|^password_file=.*|password_file=$T/pw-open|" "$T/collector.conf" > "$T/pw-open.conf"
"$B/vigil-collector" --config "$T/pw-open.conf" > "$T/pw-open.out" 2>&1 && fail "a collector started with a password file others can read"
grep -q "can be read by others (mode 0644)" "$T/pw-open.out" || fail "an open password file: $(cat "$T/pw-open.out")"
TOKEN_A=$(make_token operator)
TOKEN_B=$("$B/vigil-collector" --config "$T/collector-b.conf" --create-token "t-b-$RANDOM" --role operator)
start_collector
start_collector_b
grep -q "blocks are shared in PostgreSQL" "$T/collector.log" || fail "A does not say it shares its blocks"
grep -q "$(cat "$PG_PASSWORD_FILE")" "$T/collector.log" "$T/collector-b.log" && fail "the password is in a log"

AGENT_ADDR="tcp://127.0.0.1:$INGEST_PORT tcp://127.0.0.1:$PORT_B" MAX_DELAY=50 write_agent_conf
for k in 1 2 3; do
	sed -e "s|^state_dir=.*|state_dir=$T/state-$k|" -e "s|^id=.*|id=0011223344556677889900000000000$k|" \
		-e "s|^hostname=.*|hostname=host-$k|" -e "s|^path=.*|path=$T/logs-$k/*.log|" "$T/agent.conf" > "$T/agent-$k.conf"
	mkdir -p "$T/logs-$k"
	"$B/vigil-agent" --config "$T/agent-$k.conf" >> "$T/agent-$k.log" 2>&1 &
	PIDS="$PIDS $!"
done

PER_AGENT=${PG_LINES:-200000}
PER_AGENT=$((PER_AGENT / 3 + 1))
TOTAL=$((3 * PER_AGENT))
info "three agents write $TOTAL lines; a puller follows the cursor from whichever collector answers"
"$PY" "$S/tests/integration/follow.py" "$T/followed" "$TOTAL" 300 "$URL_A=$TOKEN_A" "$URL_B=$TOKEN_B" -- kind=log \
	> "$T/follow.out" 2>&1 &
FOLLOWER=$!
PIDS="$PIDS $FOLLOWER"
WRITERS=""
for k in 1 2 3; do
	"$PY" "$S/tests/integration/writer.py" "$T/logs-$k/app.log" "$PER_AGENT" --start $((k * 1000000)) \
		--rate 8000 --expect "$T/expected-$k" &
	WRITERS="$WRITERS $!"
	PIDS="$PIDS $!"
done
followed() { [ "$(wc -l < "$T/followed")" -ge "$1" ]; }
wait_for 120 "a third of the lines followed" followed $((TOTAL / 3))
info "collector A killed (-9) mid-stream, then started again"
stop_collector KILL
sleep 1
start_collector
wait_for 120 "two thirds followed" followed $((2 * TOTAL / 3))
info "collector B killed (-9) mid-stream"
kill -9 "$PID_B"
wait "$PID_B" 2>/dev/null || true
for w in $WRITERS; do wait "$w"; done
wait "$FOLLOWER" || fail "the puller: $(cat "$T/follow.out")"
cat "$T/follow.out"

info "the puller saw each line exactly once"
cat "$T"/expected-? | sort > "$T/want"
sort "$T/followed" > "$T/got"
DUPS=$(uniq -d "$T/got" | wc -l)
[ "$DUPS" = 0 ] || fail "$DUPS lines followed twice: $(uniq -d "$T/got" | head -n 3)"
cmp -s "$T/want" "$T/got" || fail "followed lines differ from those written: $(comm -3 "$T/want" "$T/got" | head -n 3)"

info "every line is stored once in the shared store, whatever each collector's own store holds"
start_collector_b
"$PY" "$S/tests/integration/pull.py" "$URL_B" "$TOKEN_B" kind=log --ids > "$T/pulled"
cut -d' ' -f2- "$T/pulled" | sort > "$T/pulled-sorted"
cmp -s "$T/want" "$T/pulled-sorted" || fail "a pull from the start differs: $(comm -3 "$T/want" "$T/pulled-sorted" | head -n 3)"
grep -q '^p[0-9]*-[0-9]*-[0-9]* ' "$T/pulled" || fail "item ids are not the shared store's cursors: $(head -n 1 "$T/pulled")"
info "a search on either collector finds any agent's lines; newest first goes back in cursor order"
N3=$(URL=$URL_A TOKEN=$TOKEN_A pull_messages kind=log host=host-3 --count)
[ "$N3" = "$PER_AGENT" ] || fail "host-3's lines found through A: $N3, not $PER_AGENT"
curl -sf -H "Authorization: Bearer $TOKEN_A" "$URL_A/api/v1/logs?q=%22line+2000007%22&kind=log" > "$T/one.json"
"$PY" -c 'import json,sys; it=json.load(open(sys.argv[1]))["items"]; assert len(it)==1 and it[0]["host"]=="host-2" and it[0]["message"].startswith("line 2000007 "), it' \
	"$T/one.json" || fail "a word search: $(cat "$T/one.json")"
curl -sf -H "Authorization: Bearer $TOKEN_B" "$URL_B/api/v1/logs?kind=log&order=desc&limit=50" > "$T/newest.json"
"$PY" -c '
import json, sys
items = json.load(open(sys.argv[1]))["items"]
at = [tuple(int(x) for x in it["id"][1:].split("-")) for it in items]
assert len(at) == 50 and at == sorted(at, reverse=True) and len(set(at)) == 50, at' "$T/newest.json" ||
	fail "newest first is not in the cursor order backwards: $(head -c 300 "$T/newest.json")"
SEQS=$(pg_sql -c "SELECT count(*) FROM block_seqs")
BLOCKS=$(pg_sql -c "SELECT count(*) FROM blocks")
RECORDS=$(pg_sql -c "SELECT sum(records) FROM blocks")
[ "$SEQS" = "$BLOCKS" ] || fail "$BLOCKS blocks but $SEQS (agent, seq) rows"
OWN=$(($(TOKEN=$TOKEN_A stored_count) + $(URL=$URL_B TOKEN=$TOKEN_B stored_count)))
info "$TOTAL lines in $BLOCKS blocks ($RECORDS records) in PostgreSQL; the collectors' own stores hold $OWN between them"
[ "$RECORDS" -ge "$TOTAL" ] || fail "the shared store holds $RECORDS records, fewer than $TOTAL lines"

info "PostgreSQL stopped: batches wait in the agents' spools, the API says why; started again, they arrive"
pg_halt
"$PY" "$S/tests/integration/writer.py" "$T/logs-1/app.log" 3000 --start 5000000 --expect "$T/expected-1"
wait_for 30 "a batch refused for want of PostgreSQL" grep -q "not stored in PostgreSQL" "$T/collector.log" "$T/collector-b.log"
[ "$(api GET "/api/v1/logs?kind=log&limit=1" "$TOKEN_A")" = 503 ] || fail "a search without PostgreSQL: $(cat "$T/answer.json")"
grep -q "PostgreSQL" "$T/answer.json" || fail "the 503 does not name PostgreSQL: $(cat "$T/answer.json")"
pg_resume
host1_has() { [ "$(URL=$URL_A TOKEN=$TOKEN_A pull_messages kind=log host=host-1 --count)" = "$1" ]; }
wait_for 60 "the 3000 lines written during the outage" host1_has $((PER_AGENT + 3000))
URL=$URL_A TOKEN=$TOKEN_A pull_messages kind=log host=host-1 --expect "$T/expected-1" || fail "host-1's lines after the outage"
echo ok

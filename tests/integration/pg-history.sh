#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The history readers page through, shared by two collectors on one
# PostgreSQL database (store/pgderived.c): a probe's results, a host
# metric's series and a log metric's series of a host whose agent sends to
# B are read through A, by host name and by agent id, and a search through A
# passes the blocks its tokens' filter rules out unread, and one by source
# is given only the block holding that stream; B's own store keeps
# its blocks and their chain (verified), not those rows, and --verify finds
# a copy of one of them altered or deleted in the database, and the chains
# in the database find those, a block's streams emptied, a block added there and a chain cut at its
# end without B's store (the chains SM3, as the stores' hash= says), and
# B's seals a whole chain of B's removed there; a log metric's rows older
# than the rules' day stay for its chart; the database out of reach is a
# 503; retention drops the history's day partitions with the blocks'.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
pg_start
head -c 32 /dev/urandom > "$T/seal.key"
chmod 600 "$T/seal.key"
pg_collectors_conf "seal_key_file=$T/seal.key
seal_interval=1s
hash=sm3
[logmetric \"errs\"]
query=error"
TOKEN=$(make_token operator)
start_collector
start_collector_b
echo x > "$T/present"

ID_B=00112233445566778899000000000002
AGENT_ID=$ID_B AGENT_ADDR="tcp://127.0.0.1:$PORT_B" AGENT_METRICS=yes write_agent_conf "[probe \"present\"]
type=file
path=$T/present
interval=500ms"
sed -i -e 's|^\[metrics\]$|[metrics]\ninterval=1s|' -e 's|^hostname=.*|hostname=host-b|' "$T/agent.conf"
start_agent

get() { curl -s -o "$T/got.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL_A$1"; }
history_has() { # host n: A gives at least n results of host's probe "present"
	[ "$(get "/api/v1/probes/$1/present/history?since=10m")" = 200 ] &&
		"$PY" -c 'import json, sys; h = json.load(open(sys.argv[1]))
assert len(h["items"]) >= int(sys.argv[2]) and all(i["status"] == "ok" and i["type"] == "file" for i in h["items"]), h
ts = [i["ts"] for i in h["items"]]; assert ts == sorted(ts), ts' "$T/got.json" "$2" 2> /dev/null
}
info "B's host's probe results, read through A by its name and by its agent id"
wait_for 20 "A gives host-b's results" history_has host-b 4
history_has "$ID_B" 4 || fail "by agent id: $(cat "$T/got.json")"
[ "$(get /api/v1/probes/host-none/present/history)" = 200 ] || fail "an unknown host: $(cat "$T/got.json")"
"$PY" -c 'import json, sys; assert json.load(open(sys.argv[1]))["items"] == []' "$T/got.json" ||
	fail "an unknown host's results: $(cat "$T/got.json")"

info "B's host's memory series, read through A"
series_of() { # query: the hosts of the series A gives, one line
	[ "$(get "/api/v1/metrics?$1")" = 200 ] &&
		"$PY" -c 'import json, sys; s = json.load(open(sys.argv[1]))["series"]
assert all(len(x["points"]) >= 1 for x in s), s
print(" ".join(sorted(set(x["host"] for x in s))))' "$T/got.json"
}
has_memory() { [ "$(series_of "name=memory.used_pct&since=10m&host=host-b")" = host-b ]; }
wait_for 10 "A gives host-b's memory series" has_memory
[ "$(series_of "name=memory.used_pct&since=10m&host=$ID_B")" = host-b ] || fail "by agent id: $(cat "$T/got.json")"
[ "$(series_of "name=memory.used_pct&since=10m")" = host-b ] || fail "every host's: $(cat "$T/got.json")"
[ "$(get "/api/v1/metrics?name=memory.no_such&since=10m")" = 404 ] || fail "an unknown metric: $(cat "$T/got.json")"

info "a log metric counted from lines sent to B, read through A; a row of 30 hours ago kept for its chart"
NOW=$(( $(date +%s) * 1000000 ))
for m in "error one" fine "error two"; do printf '__REALTIME_TIMESTAMP=%s\n_HOSTNAME=host-l\nVIGIL_SOURCE=app\nMESSAGE=%s\n\n' "$NOW" "$m"; done \
	> "$T/lines.export"
"$B/nngsend" "tcp://127.0.0.1:$PORT_B" "$T/lines.export" --frame 00112233445566778899aabbccddee97 1 3 |
	grep -q "^stored 1" || fail "the lines"
info "a search through A reads the one block whose tokens' filter holds the word, from the database"
[ "$(get "/api/v1/logs?q=two&since=10m")" = 200 ] || fail "the search: $(cat "$T/got.json")"
"$PY" -c 'import json, sys; a = json.load(open(sys.argv[1])); s = a["scanned"]
assert [i["message"] for i in a["items"]] == ["error two"], a["items"]
assert s["unindexed"] == 0 and s["blocks"] == 1 and s["skipped"] >= 3, s' "$T/got.json" ||
	fail "the search's blocks: $(cat "$T/got.json")"
info "a search by source through A reads only the block holding that stream: the database gives no other"
[ "$(get "/api/v1/logs?source=app&since=10m")" = 200 ] || fail "the search: $(cat "$T/got.json")"
"$PY" -c 'import json, sys; a = json.load(open(sys.argv[1])); s = a["scanned"]
assert [i["message"] for i in a["items"]] == ["error one", "fine", "error two"], a["items"]
assert s["blocks"] == 1 and s["skipped"] == 0 and s["unindexed"] == 0, s' "$T/got.json" ||
	fail "the search's blocks: $(cat "$T/got.json")"
OLD=$(( ($(date +%s) - 30 * 3600) * 1000000 ))
pg_sql -c "INSERT INTO logmetric_rows SELECT metric, agent, host, labels, $OLD, $OLD, 5, 0, sketch FROM logmetric_rows
	WHERE metric = 'errs' LIMIT 1"
# B, which its agent sends to, removes the rows no rule reads at its first group after a start.
kill "$PID_B"
wait "$PID_B" 2> /dev/null || true
start_collector_b
n0=$(pg_sql -c "SELECT count(*) FROM probe_results")
more_results() { [ "$(pg_sql -c "SELECT count(*) FROM probe_results")" -gt "$n0" ]; }
wait_for 10 "B stores again" more_results
counts() { # since: the count of each point of log.errs.count A gives from since, one line
	[ "$(get "/api/v1/metrics?name=log.errs.count&since=$1&step=1h")" = 200 ] &&
		"$PY" -c 'import json, sys; s = json.load(open(sys.argv[1]))["series"]
print(" ".join(str(int(p[1])) for x in s for p in x["points"]))' "$T/got.json"
}
[ "$(counts 10m)" = 2 ] || fail "log.errs.count through A: $(cat "$T/got.json")"
[ "$(counts 2d)" = "5 2" ] || fail "the row of 30 hours ago: $(cat "$T/got.json")"

info "B's own store keeps the blocks and their chain, not the rows the database has"
rows=$(for f in "$T"/data-b/shards/*.db; do sqlite3 "$f" "SELECT (SELECT count(*) FROM blocks) || ' ' ||
	((SELECT count(*) FROM probes) + (SELECT count(*) FROM metrics) + (SELECT count(*) FROM streams))"; done)
[ "$(echo "$rows" | awk '{ b += $1; d += $2 } END { print (b > 5) " " d }')" = "1 0" ] || fail "B's shards: $rows"
"$B/vigil-collector" --config "$T/collector-b.conf" --verify > "$T/verify.out" 2>&1 || fail "--verify: $(cat "$T/verify.out")"
grep -q "[0-9]* blocks checked, 0 problems" "$T/verify.out" || fail "--verify said: $(cat "$T/verify.out")"
grep -q "^[1-9][0-9]* chains walked in PostgreSQL, [1-9][0-9]* blocks, 0 in no chain, 0 problems" "$T/verify.out" ||
	fail "the chains in the database: $(cat "$T/verify.out")"
[ "$(pg_sql -c "SELECT string_agg(DISTINCT hash, ' ') FROM block_chains")" = sm3 ] || fail "the chains' digest"
ADMIN=$(make_token admin)
verify_api() { # the shared part of A's GET /api/v1/verify, "ok chains unchained problems"
	curl -s -o "$T/verify.json" -H "Authorization: Bearer $ADMIN" "$URL_A/api/v1/verify" &&
		"$PY" -c 'import json, sys; s = json.load(open(sys.argv[1]))["shared"]
print(s["ok"], s["chains"] > 0, s["unchained"], s["problem_count"], len(s["problems"]))' "$T/verify.json"
}
[ "$(verify_api)" = "True True 0 0 0" ] || fail "GET /api/v1/verify: $(cat "$T/verify.json")"

info "the database out of reach: 503"
pg_halt
[ "$(get /api/v1/probes/host-b/present/history)" = 503 ] || fail "history: $(cat "$T/got.json")"
[ "$(get "/api/v1/metrics?name=memory.used_pct")" = 503 ] || fail "metrics: $(cat "$T/got.json")"
pg_resume

info "retention drops a day's history partitions, today's stay"
for t in probe_results metric_points; do
	pg_sql -c "CREATE TABLE ${t}_1 PARTITION OF $t FOR VALUES FROM (1) TO (2)"
done
pg_sql -c "INSERT INTO probe_results_1 SELECT 1, agent, name, 1000, type, status, latency_us, message
	FROM probe_results LIMIT 1"
stop_collector
start_collector
old_gone() { [ -z "$(pg_sql -c "SELECT relname FROM pg_class WHERE relname IN ('probe_results_1', 'metric_points_1')")" ]; }
wait_for 10 "the partitions of day 1 dropped" old_gone
history_has host-b 4 || fail "today's results after retention: $(cat "$T/got.json")"

info "--verify: the database's copies of B's blocks are B's; one altered there, one deleted, one's streams emptied are found"
# What B received in the last 10 s may not be there yet (it writes its own store first): older blocks are judged.
sleep 11
"$B/vigil-collector" --config "$T/collector-b.conf" --verify > "$T/verify.out" 2>&1 || fail "--verify: $(cat "$T/verify.out")"
"$PY" - "$T/verify.out" <<'PYEOF' || fail "--verify said: $(cat "$T/verify.out")"
import re, sys
m = re.search(r"^(\d+) blocks checked in PostgreSQL: (\d+) the same, 0 altered, 0 missing, (\d+) received", open(sys.argv[1]).read(), re.M)
assert m and int(m[1]) > 10 and int(m[2]) + int(m[3]) == int(m[1]) and int(m[3]) < int(m[1]) // 2, m and m.groups()
PYEOF
OLDEST="(SELECT id FROM blocks WHERE agent = decode('$ID_B', 'hex') ORDER BY id LIMIT 1"
pg_sql -c "UPDATE blocks SET zframe = zframe || '\x00'::bytea WHERE id = $OLDEST)"
pg_sql -c "DELETE FROM blocks WHERE id = $OLDEST OFFSET 1)"
# And a block hidden from a search by source: its streams emptied (its frame and its copy's digest untouched).
pg_sql -c "UPDATE blocks SET streams = '{}' WHERE streams = '{app}'"
[ "$(get "/api/v1/logs?source=app&since=10m")" = 200 ] && "$PY" -c 'import json, sys
assert json.load(open(sys.argv[1]))["items"] == []' "$T/got.json" || fail "the hidden block was found: $(cat "$T/got.json")"
if "$B/vigil-collector" --config "$T/collector-b.conf" --verify > "$T/verify.out" 2>&1; then
	fail "--verify passed with a block altered and one deleted in the database: $(cat "$T/verify.out")"
fi
grep -q "blocks checked in PostgreSQL: [0-9]* the same, 1 altered, 1 missing" "$T/verify.out" &&
	grep -q "altered there" "$T/verify.out" && grep -q "not in the database" "$T/verify.out" ||
	fail "--verify said: $(cat "$T/verify.out")"
# And by the chains alone, which need no collector's own store.
grep -q "chains walked in PostgreSQL, [0-9]* blocks, 0 in no chain, 3 problems" "$T/verify.out" &&
	grep -q "^PostgreSQL day [0-9]* block [0-9]*: chain [0-9a-f]*: its frame or columns are not those its hash" "$T/verify.out" &&
	grep -q "chain [0-9a-f]*: the block before it is not the one it names" "$T/verify.out" ||
	fail "the chains said: $(cat "$T/verify.out")"

info "--verify: blocks added to the database behind the collectors' backs, and a chain cut at its end"
pg_sql -c "INSERT INTO blocks(day, id, xid, agent, seq, host, received, ts_min, ts_max, records, raw_len, digest, zframe)
	SELECT day, nextval('blocks_id'), xid, agent, seq + 1000000, host, received, ts_min, ts_max, records, raw_len,
	digest, zframe FROM blocks WHERE agent = decode('$ID_B', 'hex') ORDER BY id DESC LIMIT 1"
CHAIN_B=$(pg_sql -c "SELECT chain FROM blocks WHERE agent = decode('$ID_B', 'hex') AND chain IS NOT NULL
	ORDER BY id DESC LIMIT 1")
# And one put in B's first run's chain at the place its last block holds, with that block's links.
pg_sql -c "INSERT INTO blocks(day, id, xid, agent, seq, host, received, ts_min, ts_max, records, raw_len, digest, zframe,
	chain, pos, prev_hash, hash, streams) SELECT day, nextval('blocks_id'), xid, agent, seq + 2000000, host, received,
	ts_min, ts_max, records, raw_len, digest, zframe, chain, pos, prev_hash, hash, streams FROM blocks
	WHERE chain = (SELECT chain FROM blocks WHERE agent = decode('$ID_B', 'hex') ORDER BY id LIMIT 1)
	ORDER BY pos DESC LIMIT 1"
pg_sql -c "UPDATE block_chains SET pos = pos + 1 WHERE name = '$CHAIN_B'"
wait_for 10 "B goes on in a new chain" grep -q "the head of chain $CHAIN_B in PostgreSQL is not where" "$T/collector-b.log"
"$B/vigil-collector" --config "$T/collector-b.conf" --verify > "$T/verify.out" 2>&1 && fail "--verify passed: $(cat "$T/verify.out")"
grep -q "chains walked in PostgreSQL, [0-9]* blocks, 1 in no chain, 6 problems" "$T/verify.out" &&
	grep -q "in no collector's chain: added there" "$T/verify.out" &&
	grep -q "^PostgreSQL day 0 block 0: chain $CHAIN_B: its last blocks are not there" "$T/verify.out" ||
	fail "the chains said: $(cat "$T/verify.out")"
[ "$(verify_api)" = "False True 1 6 6" ] || fail "GET /api/v1/verify: $(cat "$T/verify.json")"
[ "$(pg_sql -c "SELECT count(*) FROM blocks WHERE agent = decode('$ID_B', 'hex') AND chain <> '$CHAIN_B'")" -gt 0 ] ||
	fail "no block of B in its new chain"

info "--verify: B's seals bind its chain in the database; that whole chain removed there is found by them"
sealed_b() { [ "$(sqlite3 "$T/data-b/meta.db" "SELECT count(*) FROM seals WHERE shared_chain = '$CHAIN_B'")" -gt 0 ]; }
wait_for 10 "a seal of B's that binds $CHAIN_B" sealed_b
pg_sql -c "DELETE FROM blocks WHERE chain = '$CHAIN_B'; DELETE FROM block_chains WHERE name = '$CHAIN_B'"
"$B/vigil-collector" --config "$T/collector-b.conf" --verify > "$T/verify.out" 2>&1 && fail "--verify passed: $(cat "$T/verify.out")"
# Of the chains, only the four blocks of B's first run's and the one added are left to find.
grep -q "chains walked in PostgreSQL, [0-9]* blocks, 1 in no chain, 5 problems" "$T/verify.out" &&
	grep -q "^seal [0-9]*: block [0-9]* of chain $CHAIN_B in the shared store, which it sealed, is gone" "$T/verify.out" ||
	fail "the seals said: $(cat "$T/verify.out")"
echo ok

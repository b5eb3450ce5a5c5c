#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The hash chain covers every column of every stored block and every row
# derived from it (streams, probe results, dial test results, metrics, log
# rule matches, the token index, log metrics' series): changing any one, adding or removing a derived row, moving
# or reordering blocks is found by --verify and GET /api/v1/verify.
. "$(dirname "$0")/lib.sh"

SVC_PORT=$(free_port)
serve
mkdir -p "$T/dialtests.d"
cat > "$T/dialtests.d/api.json" <<EOJ
{"name":"api","interval":"1s","timeout":"2s",
 "steps":[{"name":"metrics","url":"$URL/metrics","assert":[{"type":"status","in":[401]}]}]}
EOJ
write_collector_conf "[dialtests]
dir=$T/dialtests.d
[rule \"errors\"]
type=log
pattern=ERROR
[logmetric \"lines\"]
query=line
value=priority
labels=vigil_source"
TOKEN=$(make_token admin)
start_collector
AGENT_METRICS=yes BATCH_EXTRA="max_records=20" write_agent_conf "$(svc_probe)"
sed -i 's|^\[metrics\]$|[metrics]\ninterval=1s|' "$T/agent.conf"
for i in $(seq 1 200); do
	if [ $((i % 10)) = 0 ]; then echo "ERROR line $i"; else echo "INFO line $i"; fi
done > "$T/logs/app.log"
start_agent

SHARD() { ls "$T"/data/shards/*.db | head -n1; }
q() { sqlite3 "$(SHARD)" "$1"; }
every_table() {
	[ -n "$(ls "$T"/data/shards/*.db 2>/dev/null)" ] || return 1
	for t in streams probes dialtest_results metrics log_matches block_index logmetric_rows; do
		[ "$(q "SELECT count(*) FROM $t WHERE block IS NOT NULL")" -gt 0 ] || return 1
	done
	[ "$(q "SELECT count(*) FROM blocks")" -ge 12 ]
}
wait_for 30 "rows in every derived table" every_table
stop_agent
stop_collector

verify_cli() { "$B/vigil-collector" --config "$T/collector.conf" --verify > "$T/verify.out" 2>&1; }
verify_cli || fail "an intact store does not verify: $(cat "$T/verify.out")"
[ "$(q "SELECT count(*) FROM blocks WHERE chain <> 4")" = 0 ] || fail "blocks stored with an old scheme"
cp "$(SHARD)" "$T/shard.orig"
cp "$T/data/meta.db" "$T/meta.orig"

# tampered WHAT SQL: the change is found and named
tampered() {
	cp "$T/shard.orig" "$(SHARD)"
	rm -f "$(SHARD)-wal" "$(SHARD)-shm"
	q "$2"
	[ "$(q "SELECT changes()")" != x ] # the statement ran
	if verify_cli; then fail "$1: not found"; fi
	grep -qE "block [0-9]+: (content does not match its hash|prev_hash does not match|a row of)" "$T/verify.out" ||
		fail "$1: $(cat "$T/verify.out")"
	info "found: $1"
}
B1=$(q "SELECT min(block) FROM probes")
BM=$(q "SELECT min(block) FROM metrics WHERE block IS NOT NULL")
BL=$(q "SELECT min(block) FROM log_matches")
BD=$(q "SELECT min(block) FROM dialtest_results")
BS=$(q "SELECT min(block) FROM streams")
BI=$(q "SELECT min(block) FROM block_index")
BR=$(q "SELECT min(block) FROM logmetric_rows")
LAST=$(q "SELECT max(id) FROM blocks")

for col in "host='forged-host'" "agent='ffffffffffffffffffffffffffffffff'" "seq=seq+1000" "received=received+1" \
	"ts_min=ts_min-1" "ts_max=ts_max+1" "records=records+1" "raw_len=raw_len+1" "chain=1" \
	"frame=substr(frame, 1, 20) || CASE WHEN substr(frame, 21, 1) = x'00' THEN x'01' ELSE x'00' END || substr(frame, 22)"; do
	tampered "blocks: $col" "UPDATE blocks SET $col WHERE id=$B1"
done
tampered "a block moved to a new id" "UPDATE blocks SET id=id+1000 WHERE id=$LAST"
tampered "two blocks swapped" "UPDATE blocks SET id=-1 WHERE id=2; UPDATE blocks SET id=2 WHERE id=3; UPDATE blocks SET id=3 WHERE id=-1"
tampered "a stream changed" "UPDATE streams SET value='forged' WHERE block=$BS AND value=(SELECT min(value) FROM streams WHERE block=$BS)"
tampered "a stream removed (a search by source would miss the block)" "DELETE FROM streams WHERE block=$BS"
tampered "a stream added" "INSERT INTO streams(value, block) VALUES ('forged', $BS)"
tampered "a probe result changed" "UPDATE probes SET status='critical' WHERE rowid=(SELECT min(rowid) FROM probes)"
tampered "a probe result removed" "DELETE FROM probes WHERE rowid=(SELECT min(rowid) FROM probes)"
tampered "a probe result added" "INSERT INTO probes SELECT * FROM probes WHERE rowid=(SELECT min(rowid) FROM probes)"
tampered "a metric changed" "UPDATE metrics SET value=value+1 WHERE rowid=(SELECT min(rowid) FROM metrics WHERE block=$BM)"
tampered "a metric moved to another block" "UPDATE metrics SET block=block+1 WHERE rowid=(SELECT min(rowid) FROM metrics WHERE block=$BM)"
tampered "a log match's count changed" "UPDATE log_matches SET count=count+5 WHERE block=$BL"
tampered "a dial test result changed" "UPDATE dialtest_results SET result=replace(result, '401', '200') WHERE block=$BD"
tampered "a dial test result's outcome changed" "UPDATE dialtest_results SET outcome='assertion_failed' WHERE block=$BD"
tampered "an index emptied (a search would skip the block)" "UPDATE block_index SET filter=zeroblob(length(filter)) WHERE block=$BI"
tampered "an index removed" "DELETE FROM block_index WHERE block=$BI"
tampered "an index moved to another block" "UPDATE block_index SET block=-5 WHERE block=$BI"
tampered "a log metric's count changed" "UPDATE logmetric_rows SET count=count+1 WHERE block=$BR"
tampered "a log metric's distribution changed" "UPDATE logmetric_rows SET sketch=substr(sketch, 1, length(sketch) - 1) || x'07' WHERE block=$BR"
tampered "a log metric's series relabelled" "UPDATE logmetric_rows SET labels='vigil_source=forged' WHERE block=$BR"
tampered "a log metric's row removed" "DELETE FROM logmetric_rows WHERE block=$BR"

info "the API reports the same"
cp "$T/shard.orig" "$(SHARD)"
q "UPDATE blocks SET host='forged-host' WHERE id=$B1"
start_collector
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/verify" > "$T/api.json"
grep -q '"ok":false' "$T/api.json" && grep -q "block\":\"[0-9]*-$B1\",\"problem\":\"content does not match its hash" "$T/api.json" ||
	fail "API: $(cat "$T/api.json")"
stop_collector

info "a shard from before scheme 3 (no index, no log metrics) verifies, is searched whole, and goes on with scheme 4 blocks"
cp "$T/shard.orig" "$(SHARD)"
cp "$T/meta.orig" "$T/data/meta.db"
rm -f "$(SHARD)-wal" "$(SHARD)-shm" "$T/data/meta.db-wal" "$T/data/meta.db-shm"
"$PY" - "$(SHARD)" <<'PYEOF'
# The blocks rehashed as scheme 2 (store/chain.h) hashed them: the index and log metrics were not in the chain then.
import datetime, hashlib, os, sqlite3, struct, sys
path = sys.argv[1]
day = (datetime.date(*map(int, (os.path.basename(path)[:4], os.path.basename(path)[4:6], os.path.basename(path)[6:8])))
       - datetime.date(1970, 1, 1)).days
def typed(v):
    if v is None:
        return b"n" + bytes(8)
    if isinstance(v, int):
        return b"i" + struct.pack("<Q", v & (2**64 - 1))
    if isinstance(v, float):
        return b"r" + struct.pack("<d", v)
    b = v.encode() if isinstance(v, str) else v
    return (b"t" if isinstance(v, str) else b"b") + struct.pack("<Q", len(b)) + b
tables = [("streams", "value", "block, value"),
          ("probes", "ts, agent, host, name, type, status, latency_us, message", "rowid"),
          ("dialtest_results", "ts, test, name, outcome, latency_us, result", "rowid"),
          ("metrics", "ts, agent, host, name, instance, value", "rowid"),
          ("log_matches", "rule, agent, host, ts_first, ts_last, count, sample", "rowid")]
db = sqlite3.connect(path)
db.execute("DROP TABLE block_index")
db.execute("DROP TABLE logmetric_rows")
db.execute("UPDATE blocks SET chain=2")
prev = bytes(32)
cols = "id, agent, seq, host, received, ts_min, ts_max, records, raw_len, chain"
for row in db.execute(f"SELECT {cols}, frame FROM blocks ORDER BY id").fetchall():
    h = hashlib.sha256(typed(b"vigil-block-2") + typed(prev) + typed(day))
    for v in row[:-1]:
        h.update(typed(v))
    h.update(typed(hashlib.sha256(row[-1]).digest()))
    for t, c, order in tables:
        d = hashlib.sha256()
        for r in db.execute(f"SELECT {c} FROM {t} WHERE block=? ORDER BY {order}", (row[0],)):
            for v in r:
                d.update(typed(v))
            d.update(b"\n" + bytes(8))
        h.update(typed(d.digest()))
    db.execute("UPDATE blocks SET prev_hash=?, hash=? WHERE id=?", (prev, h.digest(), row[0]))
    prev = h.digest()
db.commit()
PYEOF
verify_cli || fail "a scheme 2 shard does not verify: $(cat "$T/verify.out")"
V2_LAST=$(q "SELECT max(id) FROM blocks")
start_collector
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/logs?q=%22ERROR%20line%20200%22&since=2h" > "$T/old.json"
"$PY" - "$T/old.json" <<'PYEOF' || fail "a search of the unindexed shard: $(head -c 600 "$T/old.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert [i["message"] for i in d["items"]] == ["ERROR line 200"] and d["complete"], d
# Every block read was one without an index; blocks the collector stored since (its dial tests') have one and may be skipped.
assert d["scanned"]["unindexed"] == d["scanned"]["blocks"] > 0, d["scanned"]
PYEOF
echo "INFO after the index" >> "$T/logs/app.log"
start_agent
v3_blocks() { [ "$(q "SELECT count(*) FROM blocks WHERE chain = 4 AND id > $V2_LAST")" -ge 2 ] &&
	[ "$(q "SELECT count(*) FROM block_index WHERE block > $V2_LAST")" -ge 2 ]; }
wait_for 30 "scheme 4 blocks after the scheme 2 ones" v3_blocks
stop_agent
stop_collector
[ "$(q "SELECT count(*) FROM blocks WHERE chain = 2")" = "$V2_LAST" ] || fail "scheme 2 blocks changed scheme"
verify_cli || fail "a shard of schemes 2 and 4 does not verify: $(cat "$T/verify.out")"
q "INSERT INTO block_index(block, filter) VALUES (1, x'0105ffffffffffffffff')"
if verify_cli; then fail "an index added to a scheme 2 block went unseen"; fi
grep -q "a row of block_index names block 1" "$T/verify.out" || fail "$(cat "$T/verify.out")"

info "a shard from before scheme 2 still verifies, and goes on with scheme 4 blocks after the upgrade"
cp "$T/shard.orig" "$(SHARD)"
cp "$T/meta.orig" "$T/data/meta.db"
rm -f "$(SHARD)-wal" "$(SHARD)-shm" "$T/data/meta.db-wal" "$T/data/meta.db-shm"
"$PY" - "$(SHARD)" <<'PYEOF'
import hashlib, sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
prev = bytes(32)
for bid, agent, seq, frame in db.execute("SELECT id, agent, seq, frame FROM blocks ORDER BY id").fetchall():
    h = hashlib.sha256(prev + bytes.fromhex(agent) + struct.pack("<Q", seq) + hashlib.sha256(frame).digest()).digest()
    db.execute("UPDATE blocks SET prev_hash=?, hash=? WHERE id=?", (prev, h, bid))
    prev = h
db.execute("ALTER TABLE blocks DROP COLUMN chain")
db.execute("ALTER TABLE metrics DROP COLUMN block")
db.execute("DROP TABLE block_index")
db.execute("DROP TABLE logmetric_rows")
db.commit()
PYEOF
verify_cli || fail "a scheme 1 shard does not verify: $(cat "$T/verify.out")"
OLD_LAST=$(q "SELECT max(id) FROM blocks")
start_collector
echo "INFO after the upgrade" >> "$T/logs/app.log"
start_agent
new_blocks() { [ "$(q "SELECT count(*) FROM blocks WHERE chain = 4")" -ge 3 ] &&
	[ "$(q "SELECT count(*) FROM metrics WHERE block > $OLD_LAST")" -gt 0 ]; }
wait_for 30 "scheme 4 blocks after the old ones" new_blocks
stop_agent
stop_collector
[ "$(q "SELECT count(*) FROM blocks WHERE chain = 1")" = "$OLD_LAST" ] || fail "old blocks changed scheme"
verify_cli || fail "a shard of both schemes does not verify: $(cat "$T/verify.out")"
q "UPDATE metrics SET value=value+1 WHERE rowid=(SELECT min(rowid) FROM metrics WHERE block > $OLD_LAST)"
if verify_cli; then fail "a changed metric of a new block in an upgraded shard went unseen"; fi
echo ok

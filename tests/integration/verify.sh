#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tampering with stored logs is detected: the hash chain over the blocks
# catches an altered frame, a removed block, and a removed last block.
. "$(dirname "$0")/lib.sh"

BATCH_EXTRA="max_records=100"
write_collector_conf
write_agent_conf
TOKEN=$(make_token admin)
start_collector
"$PY" "$S/tests/integration/writer.py" "$T/logs/app.log" 1000 --expect "$T/expected"
start_agent
wait_for 20 "1000 lines stored" count_is 1000
stop_agent TERM

verify_cli() { "$B/vigil-collector" --config "$T/collector.conf" --verify > "$T/verify.out" 2>&1; }
verify_cli || fail "intact store does not verify: $(cat "$T/verify.out")"
grep -q "^10 blocks checked, 0 problems$" "$T/verify.out" || fail "verify output: $(cat "$T/verify.out")"
"$B/vigilctl" --url "$URL" --token "$TOKEN" verify | grep -q "the hash chain is intact" || fail "vigilctl verify"

SHARD=$(ls "$T"/data/shards/*.db | head -n1)
DAY=$(sqlite3 "$T/data/meta.db" "SELECT day FROM shards")

info "an altered frame"
sqlite3 "$SHARD" "UPDATE blocks SET frame = CAST(replace(CAST(frame AS TEXT), 'a', 'b') AS BLOB) WHERE id = 4"
verify_cli && fail "altered frame not detected"
grep -q "shard $DAY block 4: content does not match its hash" "$T/verify.out" || fail "$(cat "$T/verify.out")"
set +e
"$B/vigilctl" --url "$URL" --token "$TOKEN" verify > "$T/ctl.out"
rc=$?
set -e
[ $rc = 3 ] || fail "vigilctl verify exit status $rc"
grep -q "block $DAY-4: content does not match" "$T/ctl.out" || fail "vigilctl: $(cat "$T/ctl.out")"
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/verify" | grep -q '"ok":false' || fail "API says ok"

info "a removed block in the middle"
sqlite3 "$SHARD" "DELETE FROM blocks WHERE id = 7"
verify_cli && fail "removed block not detected"
grep -q "block 8: prev_hash does not match" "$T/verify.out" || fail "$(cat "$T/verify.out")"

info "a removed last block"
sqlite3 "$SHARD" "DELETE FROM blocks WHERE id = 10"
verify_cli && fail "removed last block not detected"
grep -q "fewer blocks than the catalogue" "$T/verify.out" || fail "$(cat "$T/verify.out")"
echo ok

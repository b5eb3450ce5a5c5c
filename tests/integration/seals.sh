#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Seals an attacker cannot recompute (docs/storage.md, Seals): an SM3 store
# sealed with HMAC-SM3 catches what the plain chain misses, a block replaced
# and its chain recomputed, and a removed day; seals go to a witness as they
# are made; an SM2-sealed store is checked by an auditor with the public key
# alone, and each seal by openssl with nothing of vigil's.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/keys" "$T/data"
head -c 32 /dev/urandom > "$T/keys/seal.key"
chmod 600 "$T/keys/seal.key"
WITNESS_PORT=$(free_port)

info "the configuration's checks"
cp "$T/keys/seal.key" "$T/data/inside.key"
head -c 32 /dev/urandom > "$T/keys/open.key"
chmod 644 "$T/keys/open.key"
cat > "$T/bad.conf" <<EOC
[storage]
data_dir=$T/data
hash=md5
seal_key_file=$T/data/inside.key
EOC
config_refused vigil-collector "$T/bad.conf" 'bad.conf:3: .*hash=md5: expected sha256 or sm3' \
	'bad.conf:4: .*seal_key_file=.* is inside data_dir'
printf '[storage]\ndata_dir=%s\nseal_key_file=%s\nseal_sign_key=%s\n' "$T/data" "$T/keys/open.key" \
	"$T/keys/seal.key" > "$T/bad.conf"
config_refused vigil-collector "$T/bad.conf" 'bad.conf:3: .*exclude each other' \
	'bad.conf:3: .*can be read by others (mode 0644)' 'bad.conf:4: .*is not an SM2 private key'
rm "$T/data/inside.key"

sealed_conf() { # extra [storage] lines: a collector that seals every second, and a witness
	write_collector_conf "[forward \"witness\"]
what=seals
url=tcp://127.0.0.1:$WITNESS_PORT"
	sed -i "s|^data_dir=.*|&\nhash=sm3\n$1\nseal_interval=1s|" "$T/collector.conf"
}
sealed_conf "seal_key_file=$T/keys/seal.key"
grep -q "^hash=sm3$" "$T/collector.conf" || fail "config: $(cat "$T/collector.conf")"
"$PY" "$S/tests/integration/syslogd.py" "$WITNESS_PORT" "$T/witness.jsonl" >> "$T/witness.log" 2>&1 &
PIDS="$PIDS $!"
write_agent_conf
TOKEN=$(make_token admin)
start_collector
"$PY" "$S/tests/integration/writer.py" "$T/logs/app.log" 500 --expect "$T/expected"
start_agent
wait_for 20 "500 lines stored" count_is 500
stop_agent TERM

# The newest seal covers the newest block; the witness has every seal there is.
newest_block() { sqlite3 "$(ls "$T"/data/shards/*.db | head -n1)" "SELECT max(id) FROM blocks"; }
sealed_block() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/seals?limit=1000" |
	"$PY" -c 'import json,sys; print(json.load(sys.stdin)["items"][-1]["last_block"])'; }
sealed_newest() { [ "$(sealed_block)" = "$(newest_block)" ]; }
wait_for 10 "the newest block sealed" sealed_newest
# Each seal's id and signature, as the witness got them and as the store has them.
witness_seals() { "$PY" -c 'import json,re,sys
for l in open(sys.argv[1]):
    m = json.loads(l)
    print(m["id"], re.search(r"signature=\"([0-9a-f]+)\"", m["sd"]).group(1))' "$T/witness.jsonl"; }
stored_seals() { sqlite3 "$T/data/meta.db" "SELECT id, lower(hex(sig)) FROM seals ORDER BY id" | tr '|' ' '; }
witness_has_all() { [ "$(witness_seals)" = "$(stored_seals)" ]; }
wait_for 10 "every seal at the witness" witness_has_all
[ "$(sqlite3 "$T/data/meta.db" "SELECT count(*) FROM seals")" -ge 1 ] || fail "no seals"

info "a seal checked by openssl alone"
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/seals" > "$T/seals.json"
"$PY" - "$T/seals.json" "$T/msg" "$T/sig.hex" <<'EOP'
import json, sys
s = json.load(open(sys.argv[1]))["items"][-1]
open(sys.argv[2], "w").write(s["message"])
open(sys.argv[3], "w").write(s["signature"])
EOP
HEXKEY=$(od -An -tx1 -v "$T/keys/seal.key" | tr -d ' \n')
MAC=$(openssl mac -digest SM3 -macopt "hexkey:$HEXKEY" -in "$T/msg" HMAC | tr 'A-F' 'a-f')
[ "$MAC" = "$(cat "$T/sig.hex")" ] || fail "openssl's HMAC-SM3 $MAC is not the seal's $(cat "$T/sig.hex")"
grep -q '^method=hmac-sm3$' "$T/msg" || fail "sealed text: $(cat "$T/msg")"
stop_collector TERM

verify_cli() { "$B/vigil-collector" --config "${1:-$T/collector.conf}" --verify > "$T/verify.out" 2>&1; }
verify_cli || fail "an intact sealed store does not verify: $(cat "$T/verify.out")"
grep -q "seals checked (hmac-sm3, key [0-9a-f]\{16\}), newest .*, 0 problems$" "$T/verify.out" ||
	fail "verify: $(cat "$T/verify.out")"
grep -q "audit rows checked (sm3), chain intact" "$T/verify.out" || fail "verify: $(cat "$T/verify.out")"
SHARD=$(ls "$T"/data/shards/*.db | head -n1)
[ "$(sqlite3 "$SHARD" "SELECT count(*) FROM blocks WHERE chain <> 5")" = 0 ] || fail "blocks not chained with SM3"

info "the attack the chain misses: the newest block replaced, its chain recomputed"
LAST=$(newest_block)
for t in streams probes metrics log_matches dialtest_results block_index logmetric_rows; do
	sqlite3 "$SHARD" "DELETE FROM $t WHERE block = $LAST"
done
sqlite3 "$SHARD" "DELETE FROM blocks WHERE id = $LAST"
sqlite3 "$T/data/meta.db" "UPDATE shards SET blocks = blocks - 1, synced_block = synced_block - 1"
# The attacker's collector has no key: it chains what it is given, and seals nothing.
cp "$T/collector.conf" "$T/nokey.conf"
sed -i '/^seal_key_file=/d; /^\[forward/,$d' "$T/nokey.conf"
"$B/vigil-collector" --config "$T/nokey.conf" >> "$T/collector.log" 2>&1 &
COLLECTOR_PID=$!
PIDS="$PIDS $COLLECTOR_PID"
wait_for 10 "collector API up" api_up
echo "forged line" >> "$T/logs/app.log"
start_agent
wait_for 20 "the forged line stored" count_is 501
stop_agent TERM
stop_collector TERM
[ "$(newest_block)" = "$LAST" ] || fail "the forged block is not block $LAST"
# The chain alone holds; without the key the seals' signatures go unchecked, what they bind still shows.
verify_cli "$T/nokey.conf" || true
grep -q "^[0-9]* blocks checked, 0 problems$" "$T/verify.out" || fail "the recomputed chain: $(cat "$T/verify.out")"
grep -q "^0 seals checked, [0-9]* not checked: no seal key in the configuration" "$T/verify.out" ||
	fail "$(cat "$T/verify.out")"
verify_cli && fail "the seals did not catch the recomputed chain"
grep -q "^seal [0-9]*: block $LAST of .* has another hash than was sealed: the chain was rewritten$" "$T/verify.out" ||
	fail "verify: $(cat "$T/verify.out")"

info "the API says so too"
start_collector
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/verify" > "$T/verify.json"
"$PY" - "$T/verify.json" <<'EOP' || fail "API: $(cat "$T/verify.json")"
import json, sys
v = json.load(open(sys.argv[1]))
assert v["ok"] is False and v["hash"] == "sm3" and v["problem_count"] == 0, v
s = v["seals"]
assert s["ok"] is False and s["method"] == "hmac-sm3" and s["checked"] >= 1, s
assert any("another hash than was sealed" in p["problem"] for p in s["problems"]), s
EOP
set +e
"$B/vigilctl" --url "$URL" --token "$TOKEN" verify > "$T/ctl.out"
rc=$?
set -e
[ $rc = 3 ] || fail "vigilctl verify exit status $rc: $(cat "$T/ctl.out")"
grep -q "^seal [0-9]*: block $LAST of" "$T/ctl.out" || fail "vigilctl: $(cat "$T/ctl.out")"
stop_collector TERM

info "a removed day"
DAY=$(sqlite3 "$T/data/meta.db" "SELECT day FROM shards")
rm "$SHARD"*
sqlite3 "$T/data/meta.db" "DELETE FROM dedup WHERE day = $DAY; DELETE FROM shards WHERE day = $DAY"
verify_cli && fail "a removed day was not caught"
grep -q "^seal [0-9]*: day .* was sealed but its shard is gone: a day was removed$" "$T/verify.out" ||
	fail "verify: $(cat "$T/verify.out")"

info "SM2: sealed with the private key, checked by an auditor with the public key alone"
rm -rf "$T/data" "$T/witness.jsonl" "$T/state"
mkdir -p "$T/data"
openssl genpkey -algorithm SM2 -out "$T/keys/seal.pem" 2>/dev/null
chmod 600 "$T/keys/seal.pem"
openssl pkey -in "$T/keys/seal.pem" -pubout -out "$T/keys/seal.pub"
sealed_conf "seal_sign_key=$T/keys/seal.pem"
TOKEN=$(make_token admin)
start_collector
start_agent
wait_for 20 "501 lines stored" count_is 501
stop_agent TERM
wait_for 10 "the newest block sealed" sealed_newest
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/seals" > "$T/seals.json"
stop_collector TERM
"$PY" - "$T/seals.json" "$T/msg" "$T/sig.bin" <<'EOP'
import json, sys
s = json.load(open(sys.argv[1]))["items"][-1]
assert s["method"] == "sm2", s
open(sys.argv[2], "w").write(s["message"])
open(sys.argv[3], "wb").write(bytes.fromhex(s["signature"]))
EOP
openssl dgst -sm3 -verify "$T/keys/seal.pub" -sigopt distid:1234567812345678 -signature "$T/sig.bin" "$T/msg" \
	> "$T/openssl.out" 2>&1 || fail "openssl does not verify the SM2 seal: $(cat "$T/openssl.out")"
grep -q "Verified OK" "$T/openssl.out" || fail "$(cat "$T/openssl.out")"
printf '[storage]\ndata_dir=%s\nseal_verify_key=%s\n' "$T/data" "$T/keys/seal.pub" > "$T/auditor.conf"
verify_cli "$T/auditor.conf" || fail "the auditor cannot verify: $(cat "$T/verify.out")"
grep -q "seals checked (sm2, key [0-9a-f]\{16\}), newest" "$T/verify.out" || fail "$(cat "$T/verify.out")"
sqlite3 "$T/data/meta.db" "DROP TRIGGER seals_no_update; UPDATE seals SET blocks = blocks + 1 WHERE id = 1"
verify_cli "$T/auditor.conf" && fail "an altered seal passed"
grep -q "^seal 1: its signature does not match: the seal was altered or forged$" "$T/verify.out" ||
	fail "verify: $(cat "$T/verify.out")"
echo ok

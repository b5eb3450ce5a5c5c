#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What a host sends that PostgreSQL would refuse is no poison pill: one
# batch failing in the database fails its whole group commit, retried
# again and again, and every agent behind it waits. A host name that is
# not UTF-8 is stored (its bad bytes as U+FFFD); a sequence number beyond
# a bigint is refused at the door (bad_sequence); the batches beside them
# are stored. A collector whose store hashes with another digest than the
# database's collectors do does not start (a resend to it would read as a
# conflict).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
pg_start
pg_collectors_conf
TOKEN=$(make_token admin)
start_collector
ADDR=tcp://127.0.0.1:$INGEST_PORT
send() { "$B/nngsend" "$ADDR" "$@"; }

printf 'MESSAGE=good\n\n' > "$T/good.export"
printf 'MESSAGE=from a latin-1 host\n_HOSTNAME=caf\351\n\n' > "$T/latin1.export"
info "a host name that is not UTF-8"
send "$T/latin1.export" --frame aabbccddeeff00112233445566778899 1 1 > "$T/r"
grep -q "^stored 1" "$T/r" || fail "the batch: $(cat "$T/r")"
[ "$(pg_sql -c "SELECT host FROM blocks")" = "caf�" ] || fail "the host in the database: $(pg_sql -c "SELECT host FROM blocks")"

info "a sequence number of 2^63"
send "$T/good.export" --frame 00112233445566778899aabbccddeeff 9223372036854775808 1 > "$T/r"
grep -q "^rejected .* bad_sequence$" "$T/r" || fail "seq 2^63: $(cat "$T/r")"

info "the batches after them are stored, nothing waits on a retry"
for i in 1 2 3; do
	send "$T/good.export" --frame 00112233445566778899aabbccdd000$i 1 1 > "$T/r"
	grep -q "^stored 1" "$T/r" || fail "batch $i after: $(cat "$T/r")"
done
[ "$(pg_sql -c "SELECT count(*) FROM blocks")" = 4 ] || fail "blocks in the database: $(pg_sql -c "SELECT count(*) FROM blocks")"
[ "$(metric 'vigil_ingest_batches_total{result="retry"}')" = 0 ] || fail "batches told to retry"
[ "$(pull_messages --count)" = 4 ] || fail "lines served: $(pull_messages --count)"

info "a second collector hashing with another digest than the database's collectors is refused at its start"
sed -i 's|^\[storage\]$|[storage]\nhash=sm3|' "$T/collector-b.conf"
if timeout 20 "$B/vigil-collector" --config "$T/collector-b.conf" > "$T/b.out" 2>&1; then
	fail "B started: $(cat "$T/b.out")"
fi
grep -q "this store's digest is sm3, but the collectors of this database use sha256" "$T/b.out" ||
	fail "B said: $(cat "$T/b.out")"
[ "$(pg_sql -c "SELECT hash FROM block_digest")" = sha256 ] || fail "the database's digest: $(pg_sql -c "SELECT * FROM block_digest")"
echo ok

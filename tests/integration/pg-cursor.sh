#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The blocks on a real PostgreSQL (store/pgblocks.c, tests/tools/pgrace.c):
# a block that commits after one with a larger id is passed over for good by
# a reader by id, never by the cursor; several writers (as several
# collectors) each storing every batch an agent sends twice store it once,
# and pullers racing them see every block exactly once; retention drops a
# day's partition whole.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
pg_start

info "a block committed after one with a larger id: the cursor waits for it, a reader by id passes it over"
"$B/pgrace" "$PG_URL" "$PG_PASSWORD_FILE" skip > "$T/skip.out" 2>&1 || fail "$(cat "$T/skip.out")"
cat "$T/skip.out"

info "4 writers, 3 pullers, 3000 batches each sent twice"
"$B/pgrace" "$PG_URL" "$PG_PASSWORD_FILE" race 4 3 3000 > "$T/race.out" 2>&1 || fail "$(cat "$T/race.out")"
cat "$T/race.out"
grep -q "^retention before day 20501: 1 day dropped, 1500 blocks and 1500 (agent, seq) rows left" "$T/race.out" ||
	fail "retention did not drop the first day whole"
[ "$(pg_sql -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'blocks'::regclass")" = 1 ] || fail "the dropped day's partition is there"
[ "$(pg_sql -c 'SELECT count(*) FROM blocks_20501')" = 1500 ] || fail "the kept day's partition lost blocks"

info "the password is needed, and a wrong one is refused"
(umask 077 && echo wrong > "$T/wrong.password")
"$B/pgrace" "$PG_URL" "$T/wrong.password" skip > "$T/wrong.out" 2>&1 && fail "a wrong password was taken"
grep -q "password authentication failed" "$T/wrong.out" || fail "$(cat "$T/wrong.out")"
grep -q "$(cat "$PG_PASSWORD_FILE")" "$T/wrong.out" "$T/skip.out" "$T/race.out" && fail "the password reached the output"
echo ok

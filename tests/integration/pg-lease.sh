#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Work done once among several collectors (store/pglease.c) on a real
# PostgreSQL: one of two contenders leads; killed with -9, the other takes
# over within seconds with a new epoch; a leader's fenced writes stop the
# moment the lease passes (a write with an old epoch is refused), so the
# epochs' work never overlaps.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
pg_start

info "a lease given up and taken by another: the old epoch's write is refused"
"$B/pgrace" "$PG_URL" "$PG_PASSWORD_FILE" fence > "$T/fence.out" 2>&1 || fail "$(cat "$T/fence.out")"
cat "$T/fence.out"

contend() { # holder
	"$B/pgrace" "$PG_URL" "$PG_PASSWORD_FILE" lease "$1" 60 >> "$T/lease-$1.out" 2>&1 &
	eval "PID_$1=\$!"
	PIDS="$PIDS $!"
}
leads() { grep -q "^leader $1 epoch $2$" "$T/lease-$1.out"; }

info "two contenders: a leads, b waits"
contend a
wait_for 10 "a leads" leads a 1
contend b
sleep 1
grep -q leader "$T/lease-b.out" && fail "b leads beside a: $(cat "$T/lease-b.out")"

info "a killed (-9): b takes over within seconds, with a new epoch"
t0=$(date +%s.%N)
kill -9 "$PID_a"
wait_for 10 "b leads" leads b 2
awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "# taken over in %.2f s\n", b - a }'
info "a back, b killed: a again, epoch 3"
contend a
sleep 0.5
kill -9 "$PID_b"
wait_for 10 "a leads again" leads a 3

info "each epoch's work is one holder's, and no two epochs' work overlaps in time"
sleep 0.5
pg_sql -c "SELECT epoch, count(DISTINCT holder), min(at), max(at) FROM lease_work GROUP BY epoch ORDER BY epoch" > "$T/epochs"
cat "$T/epochs"
[ "$(wc -l < "$T/epochs")" = 3 ] || fail "not three epochs of work"
awk -F'|' '$2 != 1 { exit 1 } NR > 1 && $3 <= last { exit 1 } { last = $4 }' "$T/epochs" ||
	fail "two holders in an epoch, or epochs overlapping"
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The console on a store two collectors share, in Debian's Chromium
# (tests/console/shared.mjs, driven by playwright-core): an auditor logged
# in through A reads the audit log both collectors recorded, in the order
# the database holds it, each row naming the collector that recorded it
# (采集器) and its chain, rows of A's chain and of B's among them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
hold_timing_lock

need_browser
pg_start
pg_collectors_conf
PASSWORD=Audit-zhao-2026-pass
echo "$PASSWORD" | "$B/vigil-collector" --config "$T/collector.conf" --create-user audit.zhao --role auditor > /dev/null ||
	fail "--create-user"
start_collector
start_collector_b
# A row in each collector's own log (a token made through each), which each copies into the database.
make_token viewer > /dev/null
"$B/vigil-collector" --config "$T/collector-b.conf" --create-token "t-b-$RANDOM" --role viewer > /dev/null ||
	fail "a token through B"
both_copied() { [ "$(pg_sql -c "SELECT count(DISTINCT chain) FROM audit_log WHERE action = 'token.create'")" = 2 ]; }
wait_for 15 "both collectors' rows in the database" both_copied
CHAINS=$(pg_sql -c "SELECT string_agg(DISTINCT chain, ' ') FROM audit_log")

OUT=${VIGIL_SCREENSHOTS:-$B/console-screenshots}
mkdir -p "$OUT"
URL=$URL_A USER=audit.zhao PASSWORD=$PASSWORD HOST=$(hostname) CHAINS=$CHAINS MODULES=$MODULES OUT=$OUT \
	timeout 120 node "$S/tests/console/shared.mjs" > "$T/shared.out" 2>&1 || fail "$(cat "$T/shared.out")"
cat "$T/shared.out"
STEPS=$(grep -c '^	await run(' "$S/tests/console/shared.mjs")
grep -q "^# $STEPS steps passed" "$T/shared.out" || fail "not every one of the $STEPS steps ran"
echo ok

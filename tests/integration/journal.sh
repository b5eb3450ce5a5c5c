#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The [journal] source on journal files written by systemd-journal-remote:
# every entry with all its fields, filters, entries appended while the
# agent follows, kill -9 mid-stream (exact set, no duplicates), and a
# vacuumed cursor (resume at the oldest entry, the gap recorded).
. "$(dirname "$0")/lib.sh"

J="$T/journal"
mkdir -p "$J"

start_journal_collector

info "2000 entries in a journal file, then 1000 more while the agent follows"
journal_add 1 2000 "$T/expected"
start_agent
wait_for 30 "2000 entries" count_is 2000
journal_add 2001 1000 "$T/expected"
wait_for 30 "3000 entries" count_is 3000

check_set() { # expected-file
	"$PY" - "$URL" "$TOKEN" "$1" <<'PYEOF'
import collections, json, sys, urllib.parse, urllib.request
url, token, exp = sys.argv[1:]
items, cursor = [], None
while True:
    q = {"source": "journal", "limit": "5000"}
    if cursor: q["cursor"] = cursor
    req = urllib.request.Request(url + "/api/v1/logs?" + urllib.parse.urlencode(q), headers={"Authorization": "Bearer " + token})
    d = json.load(urllib.request.urlopen(req))
    items += d["items"]
    if not d["items"]: break
    cursor = d["next_cursor"]
got = collections.Counter(i["message"].replace("\n", "\\n") for i in items if i["fields"].get("VIGIL_KIND") != "event")
want = collections.Counter(l.rstrip("\n") for l in open(exp))
missing, extra = want - got, got - want
dups = sum(n - 1 for n in got.values() if n > 1)
print(f"expected {sum(want.values())} got {sum(got.values())} missing {sum(missing.values())} unexpected {sum(extra.values())} duplicates {dups}")
one = next(i for i in items if i["message"].startswith("jline 10 "))
f = one["fields"]
assert one["source"] == "a.service" or f["VIGIL_SOURCE"] == "journal", one
assert f["_SYSTEMD_UNIT"] == "a.service" and f["SYSLOG_IDENTIFIER"] == "ident1" and f["PRIORITY"] == "2", f
assert f["_BOOT_ID"] == "0123456789abcdef0123456789abcdef" and f["__REALTIME_TIMESTAMP"] == "1795248000000010", f
assert one["message"] == "jline 10 unit a prio 2\nsecond line", one["message"]
# journald's _HOSTNAME stays in the entry; the host is the agent's (its id until it names itself).
assert f["_HOSTNAME"] == "jhost" and one["host"] in ("testhost", "00112233445566778899aabbccddeeff"), one
sys.exit(0 if not missing and not extra else 1)
PYEOF
}
check_set "$T/expected" || fail "journal entries differ"

info "kill -9 mid-stream: exact set, no duplicates"
journal_add 3001 20000 "$T/expected" &
JPID=$!
PIDS="$PIDS $JPID"
sleep 0.5
stop_agent KILL
start_agent
wait "$JPID"
sleep 0.3
stop_agent KILL
start_agent
wait_for 60 "23000 entries" count_is 23000
check_set "$T/expected" || fail "after kill -9"

info "filters: units, identifiers, priority"
stop_agent TERM
rm -rf "$T/state"
filtered_agent() {
	AGENT_ID=ffffffffffffffffffffffffffffffff write_agent_conf "[journal]
enabled=yes
directory=$J
units=a.service
identifiers=ident0 ident2
priority=3"
}
filtered_agent
start_agent
# n even (a.service), n % 3 != 1 (ident0, ident2), n % 8 <= 3, over 1..23000
want=$("$PY" -c 'print(sum(1 for n in range(1, 23001) if n % 2 == 0 and n % 3 != 1 and n % 8 <= 3))')
wait_for 30 "$want filtered entries" count_is $((23000 + want))
sleep 1
[ "$(stored_count)" = $((23000 + want)) ] || fail "filters let through $(($(stored_count) - 23000)), expected $want"
stop_agent TERM

info "a vacuumed cursor: resume at the oldest entry and record the gap"
rm -f "$J"/*.journal
journal_add 900001 50 "$T/expected-new"
filtered_agent
before=$(stored_count)
start_agent
new=$("$PY" -c 'print(sum(1 for n in range(900001, 900051) if n % 2 == 0 and n % 3 != 1 and n % 8 <= 3))')
wait_for 30 "gap event and new entries" count_is $((before + new + 1))
wait_for 10 "gap counted" agent_status_is journal_gaps 1
[ "$(pull_messages --count q='no longer in the journal')" = 1 ] || fail "gap event not stored"
grep -q "cursor .* not found; resuming at the oldest entry" "$T/agent.log" || fail "gap not logged"
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A journal writer makes an entry findable before it has linked the entry's
# fields to it, and sd-journal skips a field it finds half linked without a
# word: read in that instant, an entry is shipped without its MESSAGE. The
# agent reads the newest entry only once a newer one follows it or it has
# had settle= to settle. Here the instant is made to last: the newest
# entry's MESSAGE is half linked (what the writer leaves between two
# stores) until the test links it, a moment after the agent first saw it.
# settle=5s gives the test that moment under the load of a parallel
# sanitizer run (the default second did not: CI read the entry half linked).
. "$(dirname "$0")/lib.sh"
hold_timing_lock

J="$T/journal"
mkdir -p "$J" "$T/build"
# link FILE NEEDLE N: sets n_entries of the data object whose payload begins with NEEDLE.
link() {
	"$PY" - "$@" <<'PYEOF'
import struct, sys
path, needle, n = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
with open(path, "r+b") as f:
    d = f.read()
    compact = struct.unpack_from("<I", d, 12)[0] & 0x10  # HEADER_INCOMPATIBLE_COMPACT
    payload = d.find(needle)
    obj = payload - (72 if compact else 64)
    assert payload > 0 and d[obj] == 1, "no data object holds %r" % needle  # OBJECT_DATA
    entries_at = obj + 56  # ObjectHeader 16, hash, next_hash, next_field, entry_offset, entry_array: n_entries
    assert struct.unpack_from("<Q", d, obj + 40)[0] != 0, "the data object is linked to no entry"
    f.seek(entries_at)
    f.write(struct.pack("<Q", n))
PYEOF
}
half_linked_journal() { # start count file
	"$PY" "$S/tests/integration/mkjournal.py" "$1" "$2" --expect "$T/expected" |
		"$REMOTE" --output="$T/build/$3" - 2>> "$T/remote.log"
	link "$T/build/$3" "MESSAGE=jline $(($1 + $2 - 1)) " 0
}
stored_at_least() { [ "$(stored_count)" -ge "$1" ]; }
# Polls every 50 ms (the test must act within the agent's settle time).
wait_fast() { # count
	local i
	for i in $(seq 1 200); do
		stored_at_least "$1" && return 0
		sleep 0.05
	done
	fail "$1 entries not stored in 10 s"
}

MAX_DELAY=10
start_journal_collector settle=5s
start_agent
wait_for 10 "the agent up" grep -q "started" "$T/agent.log"

info "the newest entry is half linked when the agent finds it, and linked a moment later"
half_linked_journal 1 5 one.journal
mv "$T/build/one.journal" "$J/"
wait_fast 4
link "$J/one.journal" "MESSAGE=jline 5 " 1
wait_for 10 "the fifth entry" count_is 5
pull_messages --expect "$T/expected" source=journal || fail "an entry was shipped before it was whole"

info "a writer that stopped halfway for good: its last entry is read after the settle time, not held for ever"
half_linked_journal 6 3 two.journal
mv "$T/build/two.journal" "$J/"
wait_for 20 "the eighth entry" count_is 8
echo ok

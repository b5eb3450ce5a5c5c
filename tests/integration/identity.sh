#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Agent identity on a real fleet: two agents on one machine (one machine id)
# each keep an id of their own, and every line of both is stored once; an
# upgraded spool keeps the id it had; a batch whose (agent, seq) is stored
# with other content is refused as a conflict, counted, shown on the host
# and alerted, never acknowledged as a duplicate; a cloned agent given a
# new id delivers what was refused.
. "$(dirname "$0")/lib.sh"

write_collector_conf "$(printf '[alerts]\ninterval=1s')"
TOKEN=$(make_token admin)
start_collector

# An agent of our own, without id= (the default a host gets): agent_conf NAME
agent_conf() {
	mkdir -p "$T/logs-$1"
	cat > "$T/$1.conf" <<EOC
[agent]
state_dir=$T/state-$1
hostname=$1
inventory=no
heartbeat=0
[collector]
address=tcp://127.0.0.1:$INGEST_PORT
timeout=2s
backoff_max=1s
[metrics]
enabled=no
[batch]
max_delay_ms=100
[spool]
sync=no
[tail "app"]
path=$T/logs-$1/*.log
EOC
}
declare -A APID
run_agent() { # NAME
	"$B/vigil-agent" --config "$T/$1.conf" >> "$T/agent-$1.log" 2>&1 &
	APID[$1]=$!
	PIDS="$PIDS $!"
}
halt_agent() { kill -TERM "${APID[$1]}" 2>/dev/null || true; wait "${APID[$1]}" 2>/dev/null || true; }
status_of() { "$B/vigil-agent" --config "$T/$1.conf" --status | awk -v k="$2" '$1 == k { print $2 }'; }
host_count() { # HOST: records stored for the host name
	"$PY" "$S/tests/integration/pull.py" "$URL" "$TOKEN" --count host="$1"
}
host_has() { [ "$(host_count "$1")" = "$2" ]; }
expect_host() { # HOST FILE: every line of FILE stored once for HOST, nothing else
	"$PY" "$S/tests/integration/pull.py" "$URL" "$TOKEN" --expect "$2" host="$1" > "$T/expect.out" ||
		fail "$1: $(cat "$T/expect.out")"
}

info "two agents on one machine, no id=: each its own id, every line stored once"
agent_conf alpha
agent_conf beta
"$PY" "$S/tests/integration/writer.py" "$T/logs-alpha/a.log" 500 --expect "$T/alpha.expect"
"$PY" "$S/tests/integration/writer.py" "$T/logs-beta/b.log" 700 --start 10001 --expect "$T/beta.expect"
run_agent alpha
run_agent beta
wait_for 30 "1200 lines stored" count_is 1200
expect_host alpha "$T/alpha.expect"
expect_host beta "$T/beta.expect"
ida=$(status_of alpha agent_id)
idb=$(status_of beta agent_id)
[ ${#ida} = 32 ] && [ ${#idb} = 32 ] && [ "$ida" != "$idb" ] || fail "agent ids: '$ida' '$idb'"
[ "$(metric 'vigil_ingest_batches_total{result="duplicate"}')" = 0 ] || fail "batches taken as duplicates"

info "the id survives a restart"
halt_agent alpha
run_agent alpha
echo "after restart" >> "$T/logs-alpha/a.log"
echo "after restart" >> "$T/alpha.expect"
wait_for 20 "the line after the restart" host_has alpha 501
[ "$(status_of alpha agent_id)" = "$ida" ] || fail "the id changed at restart"
expect_host alpha "$T/alpha.expect"
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/hosts" | "$PY" -c '
import json, sys
hosts = {h["hostname"]: h["id"] for h in json.load(sys.stdin)["items"]}
assert hosts.get("alpha") == sys.argv[1] and hosts.get("beta") == sys.argv[2], hosts' "$ida" "$idb" ||
	fail "hosts are not listed under their ids"

info "a spool from before ids were kept keeps the id derived from the machine id"
if legacy=$(systemd-id128 machine-id --app-specific=6b1d2f9a440c4e7b9f215ac30e88d147 2>/dev/null); then
	agent_conf gamma
	mkdir -p "$T/state-gamma"
	sqlite3 "$T/state-gamma/spool.db" "CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
		INSERT INTO meta VALUES ('next_seq', 41);"
	[ "$(status_of gamma agent_id)" = "$legacy" ] || fail "an old spool got $(status_of gamma agent_id), not $legacy"
	[ "$(status_of gamma next_seq)" = 41 ] || fail "the old spool's sequence was lost"
else
	info "(no machine id here: the legacy id cannot be derived; skipped)"
fi

info "a batch stored again with other content is a conflict, not a duplicate"
X=0badc0de0badc0de0badc0de0badc0de
printf '__REALTIME_TIMESTAMP=%s\n_HOSTNAME=web-1\nMESSAGE=first\n\n' "$(date +%s000000)" > "$T/one.txt"
printf '__REALTIME_TIMESTAMP=%s\n_HOSTNAME=web-2\nMESSAGE=second\n\n' "$(date +%s000000)" > "$T/two.txt"
"$B/nngsend" "tcp://127.0.0.1:$INGEST_PORT" "$T/one.txt" --frame "$X" 1 1 | grep -q "^stored 1" || fail "first"
"$B/nngsend" "tcp://127.0.0.1:$INGEST_PORT" "$T/one.txt" --frame "$X" 1 1 | grep -q "^duplicate 1" ||
	fail "the same batch again is not a duplicate"
"$B/nngsend" "tcp://127.0.0.1:$INGEST_PORT" "$T/two.txt" --frame "$X" 1 1 > "$T/reply" || true
grep -q "^conflict 1 agent id conflict: batch 1 is stored from host web-1 .* from web-2" "$T/reply" ||
	fail "reply: $(cat "$T/reply")"
[ "$(metric 'vigil_ingest_batches_total{result="conflict"}')" = 1 ] || fail "conflict not counted"
[ "$(metric 'vigil_ingest_batches_total{result="duplicate"}')" = 1 ] || fail "duplicates miscounted"
[ "$("$PY" "$S/tests/integration/pull.py" "$URL" "$TOKEN" q=second --count)" = 0 ] || fail "the conflicting batch was stored"
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/hosts/$X" | "$PY" -c '
import json, sys
h = json.load(sys.stdin)
c = h["id_conflict"]
assert c and c["hosts"] in ("web-1, web-2", "web-2, web-1") and c["batches_refused"] == 1 and c["seq"] == 1, h' ||
	fail "the host does not show the conflict"
conflict_alert() {
	curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts" | "$PY" -c '
import json, sys
a = [x for x in json.load(sys.stdin)["items"] if x["rule"] == "agent-id-conflict" and x["state"] == "firing"]
assert a and "web-1" in a[0]["summary"] and "web-2" in a[0]["summary"], a'
}
wait_for 20 "the built-in conflict alert naming both hosts" conflict_alert

info "a cloned agent: refused, kept, counted; after --new-id everything is stored once"
halt_agent beta
cp -a "$T/state-beta" "$T/state-clone"
agent_conf clone
sed -i "s|state_dir=.*|state_dir=$T/state-clone|" "$T/clone.conf"
[ "$(status_of clone agent_id)" = "$idb" ] || fail "the clone has another id"
# beta speaks first for the next sequence number; the clone's batch with it is refused.
echo "beta after cloning" >> "$T/logs-beta/b.log"
echo "beta after cloning" >> "$T/beta.expect"
run_agent beta
wait_for 20 "beta's line after cloning" host_has beta 701
halt_agent beta
"$PY" "$S/tests/integration/writer.py" "$T/logs-clone/c.log" 300 --start 50001 --expect "$T/clone.expect"
run_agent clone
clone_refused() { [ "$(status_of clone batches_conflict)" -ge 1 ]; }
wait_for 30 "the clone refused as a conflict" clone_refused
grep -q "agent id conflict" "$T/agent-clone.log" || fail "the clone does not log the conflict"
[ "$(status_of clone spool_batches)" -ge 1 ] || fail "the refused batch left the spool"
halt_agent clone
"$B/vigil-agent" --config "$T/clone.conf" --new-id > "$T/newid.out" || fail "--new-id"
idc=$(status_of clone agent_id)
[ "$idc" != "$idb" ] && [ ${#idc} = 32 ] || fail "no new id: $(cat "$T/newid.out")"
grep -q "^agent id $idc (was $idb)" "$T/newid.out" || fail "--new-id says: $(cat "$T/newid.out")"
run_agent clone
wait_for 30 "the clone's 300 lines" host_has clone 300
expect_host clone "$T/clone.expect"
expect_host beta "$T/beta.expect"
[ "$(status_of clone spool_batches)" = 0 ] || fail "batches left in the clone's spool"
echo ok

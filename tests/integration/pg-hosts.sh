#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The fleet's state shared by two collectors on one PostgreSQL database
# (store/pghosts.c): a host whose agent sends to A and one whose agent
# sends to B are both listed by each collector, with inventory, labels,
# probe counts and each probe's latest result and streak; an agent that
# moves from A to B stays one host; two hosts sending with one agent id,
# one to each collector, are shown in conflict by both; a host name or
# probe text that is not UTF-8 is stored, no poison pill; GLOB over the
# shared hosts is SQLite's (case, '_' no wildcard); the database out of
# reach is a 503, never an empty fleet.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
pg_start
pg_collectors_conf
TOKEN=$(make_token viewer)
start_collector
start_collector_b
echo x > "$T/present"

agent_conf() { # k address
	AGENT_ID=0011223344556677889900000000000$1 AGENT_ADDR=$2 AGENT_INVENTORY=yes AGENT_HEARTBEAT=1s \
		AGENT_EXTRA="labels=zone=z$1" write_agent_conf "[probe \"present\"]
type=file
path=$T/present
interval=500ms
[probe \"absent\"]
type=file
path=$T/absent-$1
interval=500ms"
	sed -e "s|^state_dir=.*|state_dir=$T/state-$1|" -e "s|^hostname=.*|hostname=host-$1|" \
		-e "s|^path=$T/logs/\*.log|path=$T/logs-$1/*.log|" "$T/agent.conf" > "$T/agent-$1.conf"
}
start_agent_k() { # k: its PID in AGENT_k
	"$B/vigil-agent" --config "$T/agent-$1.conf" >> "$T/agent-$1.log" 2>&1 &
	eval "AGENT_$1=\$!"
	PIDS="$PIDS $!"
}
agent_conf 1 "tcp://127.0.0.1:$INGEST_PORT"
start_agent_k 1
agent_conf 2 "tcp://127.0.0.1:$PORT_B"
start_agent_k 2

get() { curl -s -H "Authorization: Bearer $TOKEN" "$1$2" > "$T/got.json"; }
both_listed() { # url
	get "$1" /api/v1/hosts
	"$PY" - "$T/got.json" <<'PYEOF'
import json, sys
hs = {h["hostname"]: h for h in json.load(open(sys.argv[1]))["items"]}
for k in "12":
    h = hs["host-" + k]
    assert h["probes"] == {"ok": 1, "warning": 0, "critical": 1, "unknown": 0}, h
    assert h["labels"] == {"zone": "z" + k} and h["inventory"]["hostname"] == "host-" + k, h
    assert h["status"] == "up" and h["batches"] > 0, h
PYEOF
}
info "each collector lists the host that sends to it and the one that sends to the other"
wait_for 20 "A lists both hosts" both_listed "$URL_A"
both_listed "$URL_B" || fail "B: $(cat "$T/got.json")"

info "a probe's latest result and its streak, from the collector its agent does not send to"
get "$URL_A" "/api/v1/hosts/host-2"
"$PY" - "$T/got.json" <<'PYEOF' || fail "host-2 on A: $(cat "$T/got.json")"
import json, sys
h = json.load(open(sys.argv[1]))
pr = {p["name"]: p for p in h["probe_results"]}
assert h["id"] == "00112233445566778899000000000002", h
assert pr["present"]["status"] == "ok" and pr["absent"]["status"] == "critical" and pr["absent"]["type"] == "file", pr
PYEOF
get "$URL_B" "/api/v1/probes?status=critical"
[ "$("$PY" -c 'import json,sys; print(sorted(p["host"] for p in json.load(open(sys.argv[1]))["items"]))' "$T/got.json")" = \
	"['host-1', 'host-2']" ] || fail "critical probes on B: $(cat "$T/got.json")"
absent() { pg_sql -c "SELECT status || ' ' || streak FROM probe_state WHERE agent = '00112233445566778899000000000001'
	AND name = 'absent'"; }
s0=$(absent | cut -d' ' -f2)
sleep 2
[ "$(absent | cut -d' ' -f2)" -gt "$s0" ] || fail "the streak does not move on: $s0 then $(absent)"
echo x > "$T/absent-1"
is_ok() { absent | grep -q '^ok '; }
wait_for 10 "the probe ok" is_ok
[ "$(absent | cut -d' ' -f2)" -le 4 ] || fail "a changed status does not start a new streak: $(absent)"

info "host-1's agent moves from A to B: one host, its batches still counted"
kill "$AGENT_1"
wait "$AGENT_1" 2> /dev/null || true
batches() { pg_sql -c "SELECT batches FROM hosts WHERE hostname = 'host-1'"; }
before=$(batches)
sed -i "s|^address=.*|address=tcp://127.0.0.1:$PORT_B|" "$T/agent-1.conf"
start_agent_k 1
moved_on() { [ "$(batches)" -gt "$before" ]; }
wait_for 10 "host-1 heard from through B" moved_on
[ "$(pg_sql -c "SELECT count(*) FROM hosts WHERE hostname = 'host-1'")" = 1 ] || fail "host-1 twice"

info "two hosts with one agent id, one sending to each collector: in conflict on both"
ID=00112233445566778899aabbccddee99
printf 'MESSAGE=a\n_HOSTNAME=clone-a\n\n' > "$T/a.export"
printf 'MESSAGE=b\n_HOSTNAME=clone-b\n\n' > "$T/b.export"
"$B/nngsend" "tcp://127.0.0.1:$INGEST_PORT" "$T/a.export" --frame $ID 1 1 | grep -q "^stored 1" || fail "clone-a"
"$B/nngsend" "tcp://127.0.0.1:$PORT_B" "$T/b.export" --frame $ID 1 1 > "$T/r"
grep -q "^conflict 1" "$T/r" || fail "clone-b's batch: $(cat "$T/r")"
for u in "$URL_A" "$URL_B"; do
	get "$u" "/api/v1/hosts/$ID"
	"$PY" -c 'import json,sys; c = json.load(open(sys.argv[1]))["id_conflict"]; assert c["hosts"] == "clone-a, clone-b" and c["batches_refused"] == 1, c' \
		"$T/got.json" || fail "the conflict on $u: $(cat "$T/got.json")"
done

info "text that is not UTF-8 from a host: stored, the batches beside it too"
printf 'MESSAGE=\377 refused\n_HOSTNAME=h\351te\nVIGIL_KIND=probe\nPROBE_NAME=p\351\nPROBE_TYPE=tcp\nPROBE_STATUS=critical\n\n' \
	> "$T/latin1.export"
"$B/nngsend" "tcp://127.0.0.1:$INGEST_PORT" "$T/latin1.export" --frame 00112233445566778899aabbccddee98 1 1 > "$T/r"
grep -q "^stored 1" "$T/r" || fail "the batch: $(cat "$T/r")"
[ "$(pg_sql -c "SELECT hostname FROM hosts WHERE id = '00112233445566778899aabbccddee98'")" = "h�te" ] ||
	fail "the host in the database: $(pg_sql -c "SELECT hostname FROM hosts")"

info "GLOB over the shared hosts as SQLite's"
globbed() { "$B/pgrace" "$PG_URL" "$PG_PASSWORD_FILE" hosts "$1" | paste -sd' '; }
[ "$(globbed 'host-[12]')" = "host-1 host-2" ] || fail "host-[12]: $(globbed 'host-[12]')"
[ "$(globbed '*-2')" = "host-2" ] || fail "*-2: $(globbed '*-2')"
[ "$(globbed 'host_1')" = "" ] || fail "'_' taken for any character: $(globbed 'host_1')"
[ "$(globbed 'HOST-*')" = "" ] || fail "GLOB is case-sensitive: $(globbed 'HOST-*')"

info "the database stopped: 503, not an empty fleet; back: listed again"
pg_halt
code=$(curl -s -o "$T/got.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL_A/api/v1/hosts")
[ "$code" = 503 ] || fail "hosts with the database down: $code $(cat "$T/got.json")"
code=$(curl -s -o "$T/got.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL_B/api/v1/probes")
[ "$code" = 503 ] || fail "probes with the database down: $code $(cat "$T/got.json")"
pg_resume
listed() { get "$URL_A" /api/v1/hosts && grep -q '"hostname":"host-1"' "$T/got.json" && grep -q '"hostname":"host-2"' "$T/got.json"; }
wait_for 20 "listed again" listed
echo ok

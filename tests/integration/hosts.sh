#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The agent's inventory, labels and heartbeat reach /api/v1/hosts; a host
# that stops sending turns silent.
. "$(dirname "$0")/lib.sh"

printf '[collector]\naddress=tcp://127.0.0.1:1\n[agent]\nlabels=zone=a broken\n' > "$T/bad.conf"
if "$B/vigil-agent" --config "$T/bad.conf" --check-config 2> "$T/bad.err"; then fail "bad labels accepted"; fi
grep -q "\[agent\] labels: 'broken' is not key=value" "$T/bad.err" || fail "$(cat "$T/bad.err")"

write_collector_conf "[hosts]
silent_after=4s"
echo "x" > "$T/present"
AGENT_INVENTORY=yes AGENT_HEARTBEAT=1s AGENT_EXTRA="labels=zone=gov-a dept=data role=web" write_agent_conf "[probe \"present\"]
type=file
path=$T/present
interval=1s"

TOKEN=$(make_token viewer)
start_collector
start_agent

hosts() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/hosts" > "$T/hosts.json"; }
has_inventory() { hosts; grep -q '"agent_version"' "$T/hosts.json" && grep -q '"ok":1' "$T/hosts.json"; }
wait_for 15 "inventory" has_inventory
"$PY" - "$T/hosts.json" <<'PYEOF' || fail "hosts: $(cat "$T/hosts.json")"
import json, sys
h = json.load(open(sys.argv[1]))["items"][0]
inv = h["inventory"]
assert h["hostname"] == "testhost" and h["status"] == "up", h
assert h["labels"] == {"zone": "gov-a", "dept": "data", "role": "web"}, h["labels"]
assert inv["hostname"] == "testhost" and inv["cpus"] >= 1 and inv["memory_bytes"] > 0, inv
for k in ("kernel", "arch", "agent_version"):
    assert inv[k], (k, inv)
assert isinstance(inv.get("addresses", []), list), inv
assert h["probes"] == {"ok": 1, "warning": 0, "critical": 0, "unknown": 0}, h
PYEOF

info "GET /api/v1/hosts/{id} by host name and by agent id"
for id in testhost 00112233445566778899aabbccddeeff; do
	curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/hosts/$id" > "$T/host.json"
	"$PY" - "$T/host.json" <<'PYEOF' || fail "host $id: $(cat "$T/host.json")"
import json, sys
h = json.load(open(sys.argv[1]))
assert h["id"] == "00112233445566778899aabbccddeeff" and h["hostname"] == "testhost", h
assert h["inventory"]["agent_version"] and h["labels"]["zone"] == "gov-a", h
pr = h["probe_results"]
assert len(pr) == 1 and pr[0]["name"] == "present" and pr[0]["status"] == "ok" and pr[0]["type"] == "file", pr
PYEOF
done
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/api/v1/hosts/nosuchhost")
[ "$code" = 404 ] || fail "unknown host: $code"

info "heartbeats keep last_seen fresh with nothing else to send"
seen() { hosts; "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["items"][0]["last_seen"])' "$T/hosts.json"; }
first=$(seen)
sleep 2.5
[ "$(seen)" -gt "$first" ] || fail "last_seen did not move with heartbeats"
"$B/vigilctl" --url "$URL" --token "$TOKEN" hosts | grep -q "testhost" || fail "vigilctl hosts"

info "an agent that stops turns silent"
stop_agent KILL
is_silent() { hosts; grep -q '"status":"silent"' "$T/hosts.json"; }
wait_for 15 "host silent" is_silent
echo ok

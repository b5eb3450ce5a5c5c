#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Agents as dial-test vantage points (docs/control.md): a test run on the
# collector and on two agents, each in a network namespace this test makes,
# which reach the collector and the tested site only through a bridge of
# their own. One cut off from the site: that vantage fails, the others
# pass, the quorum ("2 of 3") holds and only the rule on each vantage
# fires. The second cut off: the quorum's alert fires, naming both. A
# failing result forged by an agent the test does not run on counts for
# nothing; a test with a credential is refused for agents, and an agent
# whose [central] allows no dial test refuses them. An agent killed
# -9 and restarted without the collector runs the tests it was given.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
netns_setup

SITE_PORT=$(free_port)
"$PY" "$S/tests/integration/hitsite.py" "$SITE_PORT" "$T/hits" &
PIDS="$PIDS $!"
wait_for 10 "the site up" port_up "$SITE_PORT"

write_collector_conf "[alerts]
interval=1s
[rule \"reach-down\"]
type=dialtest
dialtest=reach
[rule \"reach-vantage\"]
type=dialtest
dialtest=reach
vantage=host-*"
ADMIN=$(make_token admin)
VIEWER=$(make_token viewer)
start_collector

vantage_agents
# c is in zone a too, outside the namespaces, but takes no dial test.
named_agent_conf c 000000000000000000000000000000c0 "zone=a"
sed -i 's/^\[central\]$/[central]\nallow_dialtests=no/' "$T/agent-c.conf"
start_named_agent c
# In its namespace, an agent reaches nothing on 127.0.0.1 but what is bridged.
ip netns exec "$NS_A" "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $(free_port)), 1)" 2>/dev/null &&
	fail "namespace $NS_A reaches a port nothing bridges"

info "a test with a credential is refused for agents, with the reason"
code=$(api POST /api/v1/dialtests "$ADMIN" "{\"name\": \"secretive\", \"run_on\": [{\"zone\": \"a\"}],
	\"steps\": [{\"name\": \"get\", \"url\": \"http://127.0.0.1:$SITE_PORT/\", \"bearer\": \"t0ken\"}]}")
[ "$code" = 400 ] && grep -q 'run_on: a test run on agents goes to every one of them: it may hold no credential' "$T/answer.json" ||
	fail "a bearer token for agents: $code $(cat "$T/answer.json")"
grep -q t0ken "$T/answer.json" && fail "the refusal shows the token"
code=$(api POST /api/v1/dialtests "$ADMIN" "{\"name\": \"quorum\", \"fail_when\": \"3 of 2\",
	\"steps\": [{\"name\": \"get\", \"url\": \"http://127.0.0.1:$SITE_PORT/\"}]}")
[ "$code" = 400 ] && grep -q 'fail_when: expected' "$T/answer.json" || fail "fail_when 3 of 2: $code $(cat "$T/answer.json")"

info "a test run from the collector and the agents of zones a and b"
code=$(api POST /api/v1/dialtests "$ADMIN" "{\"name\": \"reach\", \"interval\": \"1s\", \"timeout\": \"1s\",
	\"run_on\": [\"collector\", {\"zone\": \"a\"}, {\"zone\": \"b\"}], \"fail_when\": \"2 of 3\",
	\"steps\": [{\"name\": \"get\", \"url\": \"http://127.0.0.1:$SITE_PORT/\", \"assert\": [{\"type\": \"status\", \"in\": [200]}]}]}")
[ "$code" = 201 ] || fail "reach: $code $(cat "$T/answer.json")"
ID=$(member answer id)

vantages() { curl -s -H "Authorization: Bearer $VIEWER" "$URL/api/v1/dialtests/$ID/vantages" > "$T/vantages.json"; }
# state_is STATE VANTAGE=ok|fail...: the test's state, and each vantage's newest run.
state_is() {
	vantages
	"$PY" - "$T/vantages.json" "$@" <<'PYEOF'
import json, sys
v = json.load(open(sys.argv[1]))
got = {i["vantage"]: ("ok" if i["ok"] else "fail") for i in v["items"]}
want = dict(a.split("=") for a in sys.argv[3:])
sys.exit(0 if v["state"] == sys.argv[2] and got == want else 1)
PYEOF
}
firing() { # rule item
	curl -s -H "Authorization: Bearer $VIEWER" "$URL/api/v1/alerts?state=firing" > "$T/firing.json"
	"$PY" -c 'import json, sys
sys.exit(0 if any(a["rule"] == sys.argv[2] and a["labels"].get("dialtest") == sys.argv[3]
                  for a in json.load(open(sys.argv[1]))["items"]) else 1)' "$T/firing.json" "$1" "$2"
}
wait_for 30 "the collector and both agents pass" state_is ok collector=ok host-a=ok host-b=ok
grep -q '"fail_when": "2 of 3"' <(sed 's/,"/, "/g; s/":"/": "/g' "$T/vantages.json") || fail "fail_when: $(cat "$T/vantages.json")"
"$PY" - "$T/vantages.json" <<'PYEOF' || fail "a vantage's phases: $(cat "$T/vantages.json")"
import json, sys
for i in json.load(open(sys.argv[1]))["items"]:
    t = i["steps"][0]["timings_ms"]
    assert all(k in t for k in ("dns", "connect", "ttfb", "total")), i
PYEOF
VIGIL_TOKEN=$ADMIN "$B/vigilctl" --url "$URL" config-group preview zone=a > "$T/preview.out" || fail "vigilctl config-group preview"
grep -q "^# dial test $ID reach " "$T/preview.out" || fail "the preview for zone=a: $(cat "$T/preview.out")"
# The agent's version covers its tests: what it runs is what the collector expects of it.
curl -s -H "Authorization: Bearer $VIEWER" "$URL/api/v1/hosts/host-a" > "$T/host-a.json"
"$PY" -c 'import json, sys; h = json.load(open(sys.argv[1]))
assert h["inventory"]["config_version"] == h["config_expected"] != 0, h' "$T/host-a.json" ||
	fail "host-a's config version: $(cat "$T/host-a.json")"

c_refuses() {
	curl -s -H "Authorization: Bearer $VIEWER" "$URL/api/v1/hosts/host-c" > "$T/host-c.json"
	"$PY" -c 'import json, sys; i = json.load(open(sys.argv[1]))["inventory"]
assert "1 dial tests: this host'"'"'s [central] allow_dialtests=no" in i.get("config_error", "") and not i.get("config_version"), i' "$T/host-c.json"
}
wait_for 15 "host-c refuses the dial test, and says why" c_refuses

info "host-b cut off from the site: it fails, the quorum holds, only the vantage's rule fires"
kill "${BRIDGE_PIDS[site-b]}"
wait_for 30 "host-b fails alone" state_is ok collector=ok host-a=ok host-b=fail
wait_for 15 "reach-vantage fires for host-b" firing reach-vantage reach@host-b
firing reach-vantage reach@host-a && fail "reach-vantage fired for host-a"
sleep 3
state_is ok collector=ok host-a=ok host-b=fail || fail "the state moved: $(cat "$T/vantages.json")"
firing reach-down reach && fail "the quorum's alert fired with one vantage of three failing"

info "a failing run forged by an agent the test does not run on counts for nothing"
printf '__REALTIME_TIMESTAMP=%s\n_HOSTNAME=host-z\nVIGIL_KIND=probe\nPROBE_NAME=reach\nPROBE_TYPE=dialtest\nPROBE_STATUS=critical\nDIALTEST_ID=%s\nDIALTEST_OUTCOME=probe_error\nDIALTEST_RESULT={"id":%s,"ok":false,"steps":[]}\nMESSAGE=forged\n\n' \
	"$(date +%s000000)" "$ID" "$ID" > "$T/forged.txt"
"$B/nngsend" "tcp://127.0.0.1:$INGEST_PORT" "$T/forged.txt" --frame 0000000000000000000000000000000f 1 1 | grep -q "^stored" ||
	fail "the forged batch was not stored"
sleep 3
firing reach-down reach && fail "a forged failure made the quorum"
state_is ok collector=ok host-a=ok host-b=fail || fail "a forged run shows as a vantage: $(cat "$T/vantages.json")"

VIGIL_TOKEN=$VIEWER "$B/vigilctl" --url "$URL" dialtest vantages "$ID" > "$T/vantages.out" || fail "vigilctl dialtest vantages"
grep -q "^ok: 1 of 3 vantages failing (fail_when 2 of 3)" "$T/vantages.out" && grep -q "^host-b  *probe_error .*connect" "$T/vantages.out" ||
	fail "vigilctl dialtest vantages: $(cat "$T/vantages.out")"

info "host-a cut off too: the quorum's alert fires, naming both"
kill "${BRIDGE_PIDS[site-a]}"
wait_for 30 "reach-down fires" firing reach-down reach
"$PY" -c 'import json, sys
a = [a for a in json.load(open(sys.argv[1]))["items"] if a["rule"] == "reach-down"][0]
assert "2 of 3 vantages failing" in a["value"] and "host-a" in a["value"] and "host-b" in a["value"], a' "$T/firing.json" ||
	fail "the quorum's alert: $(cat "$T/firing.json")"
state_is failing collector=ok host-a=fail host-b=fail || fail "the state: $(cat "$T/vantages.json")"
curl -s -H "Authorization: Bearer $VIEWER" "$URL/api/v1/dialtests/$ID/summary?window=1h" > "$T/summary.json"
"$PY" -c 'import json, sys; s = json.load(open(sys.argv[1]))
assert set(s["vantages"]) == {"collector", "host-a", "host-b"} and s["vantages"]["host-b"]["runs"] > s["vantages"]["host-b"]["ok"], s' \
	"$T/summary.json" || fail "the summary by vantage: $(cat "$T/summary.json")"

info "killed -9 and restarted cut off from the collector, host-a runs the tests it was last given"
kill -9 "${AGENT_PIDS[a]}"
wait "${AGENT_PIDS[a]}" 2>/dev/null || true
kill "${BRIDGE_PIDS[ingest-a]}"
: > "$T/agent-a.log"
ip netns exec "$NS_A" "$B/vigil-agent" --config "$T/agent-a.conf" >> "$T/agent-a.log" 2>&1 &
AGENT_PIDS[a]=$!
PIDS="$PIDS $!"
wait_for 10 "host-a runs reach from its state" grep -q "this host runs 1 of the collector's as a vantage point" "$T/agent-a.log"
grep -q "central configuration version" "$T/agent-a.log" && fail "host-a heard from the collector: $(cat "$T/agent-a.log")"

# Stopped, not killed: a sanitizer build then checks what each of them left allocated.
for n in a b c; do kill "${AGENT_PIDS[$n]}"; done
for n in a b c; do wait "${AGENT_PIDS[$n]}" 2>/dev/null || true; done
stop_collector
info "ok"

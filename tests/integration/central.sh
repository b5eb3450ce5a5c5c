#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The central configuration (docs/control.md): config groups reach the
# agents their selectors choose and no other; a group the agent's checker
# refuses is refused by the API with its group, line and key; a command
# probe the collector may send is refused by an agent whose [central]
# does not allow it, which keeps running on its last good configuration
# and reports why; lines written while configurations change and an agent
# is killed -9 in the middle of a reload are stored once each.
. "$(dirname "$0")/lib.sh"

write_collector_conf
ADMIN=$(make_token admin)
OPER=$(make_token operator)
start_collector

echo "x" > "$T/present"
named_agent_conf a 0000000000000000000000000000000a "zone=gov-a role=web"
named_agent_conf b 0000000000000000000000000000000b "zone=internet role=web"
# c is in zone gov-a too, but takes nothing from the collector.
named_agent_conf c 0000000000000000000000000000000c "zone=gov-a role=web"
sed -i 's/^\[central\]$/[central]\nenabled=no/' "$T/agent-c.conf"
start_named_agent a
start_named_agent b
start_named_agent c

host_json() { curl -s -H "Authorization: Bearer $OPER" "$URL/api/v1/hosts/host-$1" > "$T/host-$1.json"; }
# inv N KEY: the inventory's KEY of host N ("" when it has none).
inv() {
	host_json "$1"
	"$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("inventory", {}).get(sys.argv[2], ""))' \
		"$T/host-$1.json" "$2"
}
probe_names() {
	host_json "$1"
	"$PY" -c 'import json,sys; print(" ".join(sorted(p["name"] for p in json.load(open(sys.argv[1])).get("probe_results", []))))' \
		"$T/host-$1.json"
}
has_inventory() { [ -n "$(inv "$1" agent_version)" ]; }
wait_for 15 "the inventories" eval 'has_inventory a && has_inventory b && has_inventory c'

group() { # name json
	api PUT "/api/v1/config-groups/$1" "$ADMIN" "$2"
}

info "a group with a bad key is refused with its group, line and key; a [collector] section too"
code=$(group bad '{"selector": "zone=gov-a", "config": "[probe \"p\"]\ntype=file\npathh=/tmp/x\n"}')
[ "$code" = 400 ] || fail "bad group: $code $(cat "$T/answer.json")"
grep -q "group bad:3: \[probe \\\\\"p\\\\\"\]: unknown key 'pathh'" "$T/answer.json" || fail "bad group's reason: $(cat "$T/answer.json")"
code=$(group bad '{"config": "[collector]\naddress=tcp://10.0.0.1:1\n"}')
[ "$code" = 400 ] && grep -q "group bad:2: \[collector\] address=tcp://10.0.0.1:1: this host's own to set" "$T/answer.json" ||
	fail "a [collector] group: $code $(cat "$T/answer.json")"
code=$(group ".hidden" '{"config": ""}')
[ "$code" = 400 ] && grep -q '"name: expected' "$T/answer.json" || fail "a bad name: $code $(cat "$T/answer.json")"
code=$(api PUT /api/v1/config-groups/web-a "$OPER" '{"config": ""}')
[ "$code" = 403 ] || fail "an operator defined a group: $code"

info "a group for zone=gov-a reaches agent a and not agent b"
code=$(group web-a "{\"selector\": \"zone=gov-a\", \"order\": 10, \"config\": \"[probe \\\"central-present\\\"]\ntype=file\npath=$T/present\ninterval=1s\n\"}")
[ "$code" = 200 ] || fail "group web-a: $code $(cat "$T/answer.json")"
grep -q '"version": *1' "$T/answer.json" || fail "web-a's version: $(cat "$T/answer.json")"
has_probe() { probe_names "$1" | grep -qw central-present; }
wait_for 20 "agent a runs the group's probe" has_probe a
curl -s -H "Authorization: Bearer $OPER" "$URL/api/v1/config-preview?labels=zone%3Dgov-a+role%3Dweb" > "$T/preview.json"
want=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$T/preview.json")
[ "$want" -gt 0 ] || fail "preview: $(cat "$T/preview.json")"
applied() { [ "$(inv a config_version)" = "$want" ]; }
wait_for 10 "agent a reports version $want" applied
expected() { host_json "$1"; "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["config_expected"])' "$T/host-$1.json"; }
[ "$(expected a)" = "$want" ] && [ "$(expected b)" = 0 ] || fail "config_expected: a $(expected a), b $(expected b)"
[ -f "$T/state-a/central.conf" ] && grep -q "# group web-a (version 1)" "$T/state-a/central.conf" || fail "a's central.conf"
sleep 2
has_probe b && fail "agent b runs web-a's probe"
[ -z "$(inv b config_version)" ] || fail "agent b reports a version: $(inv b config_version)"
[ ! -f "$T/state-b/central.conf" ] || fail "agent b wrote a central.conf"
has_probe c && fail "agent c, [central] enabled=no, runs web-a's probe"
[ ! -f "$T/state-c/central.conf" ] && [ -z "$(inv c config_version)" ] || fail "agent c took a configuration"
"$B/vigil-agent" --config "$T/agent-a.conf" --check-config > "$T/check.out" || fail "a's --check-config"
grep -q "central.conf: version $want in force" "$T/check.out" || fail "a's --check-config: $(cat "$T/check.out")"

info "a command probe is refused by agent a, which keeps its configuration and says why"
code=$(group cmd "{\"selector\": \"zone=gov-a\", \"order\": 20, \"config\": \"# runs a program\n[probe \\\"run\\\"]\ntype=command\ncommand=/bin/true\n\"}")
[ "$code" = 200 ] || fail "group cmd (the collector cannot know what each host allows): $code $(cat "$T/answer.json")"
refused() { inv a config_error | grep -q "group cmd:3: \[probe \"run\"\] type=command: this host's \[central\] allow_commands=no"; }
wait_for 15 "agent a reports the refusal" refused
[ "$(inv a config_version)" = "$want" ] || fail "a's version moved: $(inv a config_version)"
grep -q "type=command" "$T/state-a/central.conf" && fail "a wrote the refused configuration"
probe_names a | grep -qw run && fail "a runs the command probe"
kill -0 "${AGENT_PIDS[a]}" || fail "agent a exited"
grep -q "central configuration version .* refused" "$T/agent-a.log" || fail "a's log says nothing"

info "the group deleted: agent a's error clears, its version is web-a's again"
code=$(api DELETE /api/v1/config-groups/cmd "$ADMIN")
[ "$code" = 200 ] || fail "delete cmd: $code"
cleared() { [ -z "$(inv a config_error)" ] && [ "$(inv a config_version)" = "$want" ]; }
wait_for 15 "a's error clears" cleared
code=$(api GET /api/v1/config-groups/cmd/versions "$OPER")
[ "$code" = 200 ] && grep -q '"command=/bin/true' "$T/answer.json" || grep -q 'command=/bin/true' "$T/answer.json" ||
	fail "cmd's versions after delete: $code $(cat "$T/answer.json")"

info "a group this agent's own checker refuses (a key from a newer version) leaves it on web-a, with the line"
# Written past the API, as a collector of a newer version would have accepted it.
stop_collector
sqlite3 "$T/data/meta.db" "INSERT INTO definitions VALUES ('agentconfig', 'legacy',
	'{\"selector\":\"zone=gov-a\",\"order\":90,\"version\":1,\"config\":\"[probe \\\"old\\\"]\\ntype=file\\npath=$T/present\\nnewkey=1\\n\"}',
	'newer', 1, 1)"
start_collector
unknown_key() { inv a config_error | grep -q "group legacy:4: \[probe \"old\"\]: unknown key 'newkey'"; }
wait_for 20 "a reports the key it does not know" unknown_key
[ "$(inv a config_version)" = "$want" ] || fail "a's version moved: $(inv a config_version)"
kill -0 "${AGENT_PIDS[a]}" || fail "agent a exited"
[ "$(api DELETE /api/v1/config-groups/legacy "$ADMIN")" = 200 ] || fail "delete legacy"
wait_for 15 "a's error clears" cleared

info "what all the groups may give one agent is bounded: the group that would pass 256 KiB is refused"
big() { "$PY" -c 'import json; print(json.dumps({"selector": "zone=nowhere", "config": ("#" + "x" * 99 + "\n") * 640}))'; }
for i in 1 2 3 4; do
	[ "$(group "big-$i" "$(big)")" = 200 ] || fail "big-$i: $(cat "$T/answer.json")"
done
code=$(group big-5 "$(big)")
[ "$code" = 400 ] && grep -q "with the other groups it would be over 256 KiB" "$T/answer.json" ||
	fail "big-5: $code $(cat "$T/answer.json")"
for i in 1 2 3 4; do api DELETE "/api/v1/config-groups/big-$i" "$ADMIN" > /dev/null; done

info "vigilctl: a version for the canary label first, then promoted to every agent the group selects"
ctl() { "$B/vigilctl" --url "$URL" --token "$ADMIN" "$@"; }
printf '[probe "web-file"]\ntype=file\npath=%s/present\ninterval=1s\n' "$T" > "$T/web-1.conf"
printf '[probe "web-file"]\ntype=file\npath=%s/present\ninterval=2s\n' "$T" > "$T/web-2.conf"
ctl config-group set web "$T/web-1.conf" --selector role=web --order 30 > "$T/ctl.out" || fail "set web: $(cat "$T/ctl.out")"
grep -q "config group web: version 1" "$T/ctl.out" || fail "$(cat "$T/ctl.out")"
runs() { grep -q "# group web (version $2)" "$T/state-$1/central.conf" 2>/dev/null; }
wait_for 15 "both run web v1" eval 'runs a 1 && runs b 1'
ctl config-group set web - --selector role=web --order 30 --canary zone=internet --percent 0 < "$T/web-2.conf" > "$T/ctl.out" ||
	fail "set web v2: $(cat "$T/ctl.out")"
grep -q "version 2, rolled out" "$T/ctl.out" || fail "$(cat "$T/ctl.out")"
wait_for 15 "the canary b runs web v2" runs b 2
sleep 2
runs a 1 || fail "a left web v1 before the promotion: $(cat "$T/state-a/central.conf")"
ctl config-group list > "$T/ctl.out"
grep -E "^web +30 +2 " "$T/ctl.out" || fail "list: $(cat "$T/ctl.out")"
ctl config-group promote web > "$T/ctl.out" || fail "promote: $(cat "$T/ctl.out")"
wait_for 15 "a runs web v2 once promoted" runs a 2
ctl config-group preview zone=gov-a role=web | grep -q "# group web (version 2)" || fail "preview"
code=$(api POST /api/v1/config-groups/web/promote "$ADMIN")
[ "$code" = 400 ] || fail "promote with nothing rolled out: $code $(cat "$T/answer.json")"
ctl config-group delete web > /dev/null || fail "delete web"

info "lines go on while configurations change, and agent a is killed -9 in the middle of a reload"
"$PY" "$S/tests/integration/writer.py" "$T/logs/a-app.log" 3000 --rate 1000 > /dev/null 2>&1 &
WRITER=$!
PIDS="$PIDS $WRITER"
web_a() { group web-a "{\"selector\": \"zone=gov-a\", \"order\": 10, \"config\": \"[probe \\\"central-present\\\"]\ntype=file\npath=$T/present\ninterval=${1}s\n\"}"; }
count_of() { grep -c "$1" "$T/agent-a.log" || true; }
for v in 2 3; do
	before=$(count_of "holds; putting it in force")
	[ "$(web_a $v)" = 200 ] || fail "web-a v$v: $(cat "$T/answer.json")"
	in_force() { [ "$(count_of "holds; putting it in force")" -gt "$before" ]; }
	wait_for 15 "a puts version $v in force" in_force
done
before=$(count_of "reloading $T/agent-a.conf")
[ "$(web_a 4)" = 200 ] || fail "web-a v4: $(cat "$T/answer.json")"
at_reload() { [ "$(count_of "reloading $T/agent-a.conf")" -gt "$before" ]; }
wait_for 15 "a begins the reload to version 4" at_reload
kill -9 "${AGENT_PIDS[a]}"
wait "${AGENT_PIDS[a]}" 2>/dev/null || true
start_named_agent a
curl -s -H "Authorization: Bearer $OPER" "$URL/api/v1/config-preview?labels=zone%3Dgov-a+role%3Dweb" > "$T/preview.json"
want=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$T/preview.json")
wait_for 15 "a restarted runs web-a's version 4" applied
grep -q "interval=4s" "$T/state-a/central.conf" || fail "a's central.conf: $(cat "$T/state-a/central.conf")"
wait "$WRITER" || fail "writer"
lines() { curl -s -H "Authorization: Bearer $OPER" "$URL/api/v1/logs/count?host=host-a&source=$T/logs/a-app.log" |
	"$PY" -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }
all_lines() { [ "$(lines)" = 3000 ]; }
wait_for 30 "3000 lines from a, once each" all_lines
[ "$(grep -c '' "$T/logs/a-app.log")" = 3000 ] || fail "writer wrote $(grep -c '' "$T/logs/a-app.log")"
curl -s -H "Authorization: Bearer $OPER" "$URL/api/v1/config-groups/web-a/versions" > "$T/versions.json"
"$PY" - "$T/versions.json" <<'PYEOF' || fail "versions: $(cat "$T/versions.json")"
import json, sys
v = json.load(open(sys.argv[1]))["items"]
assert [x["version"] for x in v] == [1, 2, 3, 4], v
assert all(x["author"] for x in v), v
PYEOF
curl -s -H "Authorization: Bearer $OPER" "$URL/metrics" | grep -q 'vigil_ingest_config_requests_total{result="ok"} [1-9]' || fail "metrics"

info "a [central] narrowed since: the agent starts on its own files and says why"
kill "${AGENT_PIDS[a]}"
wait "${AGENT_PIDS[a]}" 2>/dev/null || true
sed -i "/^allow_paths=/d" "$T/agent-a.conf"
"$B/vigil-agent" --config "$T/agent-a.conf" --check-config > "$T/check.out" || fail "a's --check-config"
grep -q "central.conf: not in force: group web-a:3: \[probe \"central-present\"\] path=$T/present: not within this host's \[central\] allow_paths" "$T/check.out" ||
	fail "a's --check-config: $(cat "$T/check.out")"
start_named_agent a
narrowed() { inv a config_error | grep -q "not within this host's \[central\] allow_paths" && [ -z "$(inv a config_version)" ]; }
wait_for 15 "a reports that its central configuration is not in force" narrowed
kill -0 "${AGENT_PIDS[a]}" || fail "agent a exited"
# Stopped, not killed: a sanitizer build then checks what each of them left allocated.
for n in a b c; do kill "${AGENT_PIDS[$n]}"; done
for n in a b c; do wait "${AGENT_PIDS[$n]}" || fail "agent $n's exit status"; done
stop_collector
info "ok"

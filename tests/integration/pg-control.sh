#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Config groups on a database two collectors share (docs/control.md): a
# group made through A reaches an agent that sends to B; B's next version
# of it is version 2, listed by A; a group deleted through B leaves the
# agent on its own files. A dial test made through A runs on that agent,
# and A shows its runs as the agent's vantage.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
pg_start
pg_collectors_conf
ADMIN=$(make_token admin)
start_collector
start_collector_b
echo x > "$T/present"
named_agent_conf a 0000000000000000000000000000000a "zone=gov-a"
sed -i "s|127.0.0.1:$INGEST_PORT|127.0.0.1:$PORT_B|" "$T/agent-a.conf"
start_named_agent a

on() { # url method path [body]: the status; the answer in $T/on.json
	curl -s -o "$T/on.json" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $ADMIN" \
		${4:+-H 'Content-Type: application/json' --data-binary "$4"} "$1$3"
}
group() { # url version-marker
	on "$1" PUT /api/v1/config-groups/web "{\"selector\": \"zone=gov-a\", \"config\": \"# $2\n[probe \\\"web\\\"]\ntype=file\npath=$T/present\n\"}"
}
runs() { grep -q "$1" "$T/state-a/central.conf" 2>/dev/null; }

info "a group made through A reaches the agent that sends to B"
[ "$(group "$URL_A" first)" = 200 ] || fail "web through A: $(cat "$T/on.json")"
wait_for 30 "the agent of B runs A's group" runs "# first"

info "B's next version is 2, and A lists it"
[ "$(group "$URL_B" second)" = 200 ] || fail "web through B: $(cat "$T/on.json")"
grep -q '"version": *2' "$T/on.json" || fail "B's version: $(cat "$T/on.json")"
wait_for 30 "the agent runs version 2" runs "# group web (version 2)"
[ "$(on "$URL_A" GET /api/v1/config-groups/web/versions)" = 200 ] || fail "A's versions"
"$PY" -c 'import json,sys; v=json.load(open(sys.argv[1]))["items"]; assert [x["version"] for x in v] == [1, 2], v' "$T/on.json" ||
	fail "A's versions: $(cat "$T/on.json")"
a_lists_2() { [ "$(on "$URL_A" GET /api/v1/config-groups/web)" = 200 ] && grep -q '"version": *2' "$T/on.json"; }
wait_for 15 "A lists version 2" a_lists_2

info "deleted through B: the agent runs on its own files alone"
[ "$(on "$URL_B" DELETE /api/v1/config-groups/web)" = 200 ] || fail "delete through B"
gone() { [ ! -f "$T/state-a/central.conf" ]; }
wait_for 30 "central.conf removed" gone
grep -q "no config group is for this host any more" "$T/agent-a.log" || fail "the agent's log"

info "a dial test made through A runs on the agent of B, and A shows its vantage"
SITE=$(free_port)
"$PY" "$S/tests/integration/hitsite.py" "$SITE" "$T/hits" &
PIDS="$PIDS $!"
wait_for 10 "the site up" port_up "$SITE"
[ "$(on "$URL_A" POST /api/v1/dialtests "{\"name\": \"from-a\", \"interval\": \"1s\", \"run_on\": [{\"zone\": \"gov-a\"}],
	\"steps\": [{\"name\": \"get\", \"url\": \"http://127.0.0.1:$SITE/\"}]}")" = 201 ] || fail "from-a: $(cat "$T/on.json")"
ID=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/on.json")
vantage_a() {
	[ "$(on "$URL_A" GET "/api/v1/dialtests/$ID/vantages")" = 200 ] && "$PY" -c 'import json,sys; v=json.load(open(sys.argv[1]))
assert v["state"] == "ok" and [(i["vantage"], i["ok"]) for i in v["items"]] == [("host-a", True)], v' "$T/on.json"
}
wait_for 30 "A shows host-a's runs of from-a" vantage_a
# Stopped, not killed: a sanitizer build then checks what each of them left allocated.
kill "${AGENT_PIDS[a]}" "$PID_B"
wait "${AGENT_PIDS[a]}" || fail "the agent's exit status"
wait "$PID_B" || fail "B's exit status"
stop_collector
echo ok

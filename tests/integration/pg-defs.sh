#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Definitions made through the API shared by two collectors on one
# database (alerts/pgdefs.c): a notification target and a rule made
# through B are listed by A within an evaluation interval, and A, which
# evaluates, raises the rule's alert and tells the target; a rule of that
# name made through A is refused (409) against what B made; deleted
# through A, it is gone on B too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
SVC_PORT=$(free_port)
RCV_PORT=$(free_port)
start_receiver ok unused
pg_start
pg_collectors_conf "[alerts]
interval=1s"
ADMIN=$(make_token admin)
start_collectors_a_leading

on() { # url method path [body]: the status; the answer in $T/on.json
	curl -s -o "$T/on.json" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $ADMIN" ${4:+--data "$4"} "$1$3"
}
info "a target and a rule made through B are A's within an interval"
[ "$(on "$URL_B" POST /api/v1/notify "{\"name\":\"api-hook\",\"type\":\"webhook\",\"url\":\"http://127.0.0.1:$RCV_PORT/hook\"}")" = 201 ] ||
	fail "the target on B: $(cat "$T/on.json")"
[ "$(on "$URL_B" POST /api/v1/rules '{"name":"svc-api","type":"probe","probe":"svc-*","notify":"api-hook"}')" = 201 ] ||
	fail "the rule on B: $(cat "$T/on.json")"
rule_on_a() { [ "$(on "$URL_A" GET /api/v1/rules/svc-api)" = 200 ]; }
wait_for 10 "the rule listed by A" rule_on_a
grep -q '"defined_in":"api"' "$T/on.json" && grep -q '"author":"t-admin' "$T/on.json" || fail "the rule on A: $(cat "$T/on.json")"
[ "$(on "$URL_A" GET /api/v1/notify/api-hook)" = 200 ] || fail "the target on A: $(cat "$T/on.json")"

info "A evaluates B's rule: the alert, told to B's target"
AGENT_ADDR="tcp://127.0.0.1:$PORT_B" AGENT_HEARTBEAT=1s write_agent_conf "$(svc_probe)"
serve
start_agent
probe_ok() { on "$URL_A" GET /api/v1/probes > /dev/null && grep -q '"status":"ok"' "$T/on.json"; }
wait_for 20 "the probe ok" probe_ok
kill "$SVC_PID"
told() { grep -q '"rule": *"svc-api"' "$T/received.jsonl" && grep -q '"event": *"fired"' "$T/received.jsonl"; }
wait_for 20 "the rule's alert told to the target" told

info "the same name made through A: refused against B's; deleted through A, gone on B"
[ "$(on "$URL_A" POST /api/v1/rules '{"name":"svc-api","type":"probe","probe":"x-*"}')" = 409 ] ||
	fail "a second svc-api through A: $(cat "$T/on.json")"
[ "$(on "$URL_A" DELETE /api/v1/notify/api-hook)" = 409 ] || fail "the target deleted while B's rule uses it: $(cat "$T/on.json")"
[ "$(on "$URL_A" DELETE /api/v1/rules/svc-api)" = 200 ] || fail "delete on A: $(cat "$T/on.json")"
gone_on_b() { [ "$(on "$URL_B" GET /api/v1/rules/svc-api)" = 404 ]; }
wait_for 10 "the rule gone on B" gone_on_b
grep -q "catalog: the definitions changed through another collector are in force" "$T/collector-b.log" ||
	fail "B did not say it took the change"
echo ok

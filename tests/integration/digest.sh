#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A robot's rate limit: six alerts are told at once (a silence over them
# ends) to a DingTalk robot that takes three messages a minute; they go as
# one signed digest naming all six, not three messages and a wait. A
# seventh, with room left, goes alone. Each alert's history says it went in
# a digest.
. "$(dirname "$0")/lib.sh"

SVC_PORT=$(free_port)
RCV_PORT=$(free_port)
start_receiver ok SECdigest

PROBES=""
for i in 1 2 3 4 5 6; do
	PROBES="$PROBES
[probe \"dead-$i\"]
type=tcp
address=127.0.0.1:$(free_port)
interval=500ms
timeout=1s"
done
write_collector_conf "[alerts]
interval=1s
[notify \"ding\"]
type=dingtalk
url=http://127.0.0.1:$RCV_PORT/robot/send?access_token=abc
secret=SECdigest
rate_limit=3
[rule \"down\"]
type=probe
severity=critical
consecutive=2
notify=ding"
write_agent_conf "$PROBES
$(svc_probe)"
TOKEN=$(make_token operator)
serve
start_collector
curl -s -o "$T/silence.json" -H "Authorization: Bearer $TOKEN" --data '{"matchers":{"rule":"down"},"comment":"until all six fail","duration":"1h"}' "$URL/api/v1/silences"
SID=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/silence.json")
start_agent

robot() { # python expression over the list of messages the robot took (code 0)
	"$PY" -c 'import json, sys
m = [e["body"]["markdown"] for l in open(sys.argv[1]) if (e := json.loads(l))["path"] == "/robot/send" and e["code"] == 0]
print('"$1"')' "$T/received.jsonl"
}
info "six alerts told at once: one digest"
six_silenced() {
	[ "$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts?state=firing" | "$PY" -c 'import json, sys
print(len([a for a in json.load(sys.stdin)["items"] if a["silenced"]]))')" = 6 ]
}
wait_for 30 "six alerts firing, silenced" six_silenced
curl -s -o /dev/null -X DELETE -H "Authorization: Bearer $TOKEN" "$URL/api/v1/silences/$SID"
digest_came() { [ "$(robot 'len(m)')" -ge 1 ]; }
wait_for 30 "the digest" digest_came
sleep 2
robot 'm[0]["title"]' | grep -q "^vigil: 6 条通知合并发送 (限流)$" || fail "not a digest of 6: $(robot 'm')"
for i in 1 2 3 4 5 6; do
	robot 'm[0]["text"]' | grep -q "dead-$i on testhost" || fail "dead-$i not in the digest: $(robot 'm[0]')"
done
[ "$(robot 'len(m)')" = 1 ] || fail "more than the digest: $(robot 'm')"

info "one more, with room left: on its own"
kill "$SVC_PID"
alone() { [ "$(robot 'len(m)')" = 2 ]; }
wait_for 30 "the seventh alone" alone
robot 'm[1]["title"]' | grep -q "svc-web on testhost" || fail "not the seventh alone: $(robot 'm[1]')"

info "each alert's history tells the digest"
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts" > "$T/alerts.json"
for id in $("$PY" -c 'import json, sys; print(" ".join(str(a["id"]) for a in json.load(open(sys.argv[1]))["items"] if a["labels"]["probe"].startswith("dead-")))' "$T/alerts.json"); do
	curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts/$id" | grep -q '"action":"notified","note":"ding: delivered (in a digest of 6)"' ||
		fail "alert $id: $(curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts/$id")"
done
info "ok"

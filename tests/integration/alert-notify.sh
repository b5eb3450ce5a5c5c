#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Notifications of alerts to real HTTP receivers on 127.0.0.1 (a WeCom robot
# and a signed Feishu bot take a message too): a webhook
# that fails at first (the notification is retried, survives a kill -9 of
# the collector, and is accepted exactly once), a DingTalk robot that checks
# the signature (a message in Chinese), and a robot with the wrong secret
# (refused, retried, in the alert's history); nobody acknowledges it, so
# after escalate_after it goes to the escalation target, once; a resolution
# is told too.
. "$(dirname "$0")/lib.sh"

SVC_PORT=$(free_port)
RCV_PORT=$(free_port)
start_receiver fail SECtest

info "a notify= naming no target is refused"
printf '[rule "r"]\ntype=probe\nnotify=nowhere\n[notify "n"]\ntype=slack\nurl=ftp://x\n' > "$T/bad.conf"
if "$B/vigil-collector" --config "$T/bad.conf" --check-config 2> "$T/bad.err"; then fail "bad targets accepted"; fi
grep -q '\[rule "r"\] notify: no \[notify "nowhere"\] section' "$T/bad.err" || fail "$(cat "$T/bad.err")"
grep -q '\[notify "n"\] type=slack: expected webhook, dingtalk, wecom, feishu or email' "$T/bad.err" || fail "$(cat "$T/bad.err")"
grep -q '\[notify "n"\] url=ftp://x: expected http:// or https://' "$T/bad.err" || fail "$(cat "$T/bad.err")"

R="http://127.0.0.1:$RCV_PORT"
echo "SECtest" > "$T/ding.secret"
write_collector_conf "[alerts]
interval=1s
[notify \"ops-hook\"]
type=webhook
url=$R/hook
[notify \"ding\"]
type=dingtalk
url=$R/robot/send?access_token=abc
secret_file=$T/ding.secret
[notify \"boss-hook\"]
type=webhook
url=$R/hook?for=boss
[notify \"wecom\"]
type=wecom
url=$R/wecom?key=k1
[notify \"feishu\"]
type=feishu
url=$R/feishu
secret=SECtest
lang=en
[notify \"ding-wrong\"]
type=dingtalk
url=$R/robot/send?access_token=abc
secret=SECwrong
lang=en
[rule \"svc-down\"]
type=probe
probe=svc-*
severity=critical
summary=svc-web down on {{host}}
notify=ops-hook ding ding-wrong
escalate_after=3s
escalate_to=boss-hook
[rule \"svc-long\"]
type=probe
probe=svc-*
summary=服务中断 {{value}}
notify=wecom feishu"
AGENT_HEARTBEAT=1s write_agent_conf "$(svc_probe)"
TOKEN=$(make_token operator)
serve
start_collector
start_agent
probe_ok() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/probes" | grep -q '"status":"ok"'; }
wait_for 20 "the probe ok" probe_ok

info "the service goes down: the webhook fails, the collector is killed, then the webhook takes it once"
kill "$SVC_PID"
received() { # path code event
	"$PY" - "$T/received.jsonl" "$@" <<'PYEOF'
import json, sys
path, code, event = sys.argv[2:5]
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["path"] != path:
        continue
    ev = e["body"]["event"] if path == "/hook" else e["body"]["markdown"]["title"]
    if str(e["code"]) == code and event in ev:
        n += 1
print(n)
PYEOF
}
has() { [ "$(received "$@")" -ge 1 ] 2>/dev/null; }
wait_for 20 "a refused webhook attempt" has /hook 500 fired
stop_collector KILL
start_collector
sleep 1
echo ok > "$T/mode"
wait_for 30 "the webhook accepted" has /hook 200 fired
wait_for 20 "the DingTalk robot accepted" has /robot/send 0 "[严重] 告警: svc-web down on testhost"
wait_for 20 "the wrong secret refused" has /robot/send 310000 "[critical] FIRING"
chat_took() { # path
	[ "$("$PY" -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) if (e := json.loads(l))["path"] == sys.argv[2] and e["code"] == 0))' \
		"$T/received.jsonl" "$1")" -ge 1 ]
}
wait_for 20 "WeCom took the message" chat_took /wecom
wait_for 20 "Feishu took the signed message" chat_took /feishu
sleep 2
[ "$(received /hook 200 fired)" = 1 ] || fail "the webhook took the notification $(received /hook 200 fired) times"

"$PY" - "$T/received.jsonl" <<'PYEOF' || fail "payloads: $(head -c 1500 "$T/received.jsonl")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
hook = [r for r in rows if r["path"] == "/hook" and r["code"] == 200 and r["body"]["event"] == "fired"][0]
b = hook["body"]
assert b["event"] == "fired" and b["rule"] == "svc-down" and b["severity"] == "critical", b
assert b["host"] == "testhost" and b["summary"] == "svc-web down on testhost", b
assert str(b["notification_id"]) == hook["id"] and b["target"] == "ops-hook", hook
# Every attempt at one notification carries the same id.
assert len({r["id"] for r in rows if r["path"] == "/hook" and r["body"]["event"] == "fired"}) == 1, rows
ding = [r for r in rows if r["path"] == "/robot/send" and r["code"] == 0][0]["body"]
assert ding["msgtype"] == "markdown" and "主机: testhost" in ding["markdown"]["text"], ding
assert "级别: 严重" in ding["markdown"]["text"] and "开始时间: " in ding["markdown"]["text"], ding
wecom = [r for r in rows if r["path"] == "/wecom"][0]["body"]["markdown"]["content"]
assert wecom.startswith("### [警告] 告警: 服务中断 critical: connect") and "- 主机: testhost" in wecom, wecom
feishu = [r for r in rows if r["path"] == "/feishu"][0]["body"]
assert feishu["content"]["text"].startswith("### [warning] FIRING: ") and feishu["timestamp"].isdigit(), feishu
PYEOF

info "nobody acknowledged it: escalated to boss-hook, once"
escalations() {
	"$PY" -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) if (e := json.loads(l))["path"] == "/hook" and e["code"] == 200
          and e["body"]["event"] == "escalated" and e["body"]["target"] == "boss-hook"))' "$T/received.jsonl"
}
escalated() { [ "$(escalations)" -ge 1 ]; }
wait_for 30 "the escalation delivered" escalated
sleep 3
[ "$(escalations)" = 1 ] || fail "escalated $(escalations) times"

info "the history tells each delivery and each failure"
ID=$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts?state=firing" |
	"$PY" -c 'import json,sys; print([a["id"] for a in json.load(sys.stdin)["items"] if a["rule"] == "svc-down"][0])')
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts/$ID" > "$T/alert.json"
"$PY" - "$T/alert.json" <<'PYEOF' || fail "history: $(head -c 1500 "$T/alert.json")"
import json, sys
h = [(e["action"], e["note"]) for e in json.load(open(sys.argv[1]))["history"]]
assert ("notified", "ops-hook: delivered") in h and ("notified", "ding: delivered") in h, h
assert ("notify_retry", "ops-hook: HTTP 500") in h, h
assert ("escalated", "boss-hook") in h and ("notified", "boss-hook: delivered") in h, h
assert any(a == "notify_retry" and n.startswith("ding-wrong: dingtalk answered code 310000: sign not match") for a, n in h), h
PYEOF

info "the self-metrics count the attempts (since the restart)"
[ "$(metric 'vigil_notifications_total{result="sent"}')" -ge 2 ] || fail "sent: $(metric 'vigil_notifications_total{result="sent"}')"
[ "$(metric 'vigil_notifications_total{result="retry"}')" -ge 1 ] || fail "no retry counted"
[ "$(metric vigil_alert_evaluations_total)" -ge 3 ] || fail "evaluations not counted"

info "the targets, without their keys and secrets; a test message (admin only)"
ADMIN=$(make_token admin)
curl -s -H "Authorization: Bearer $ADMIN" "$URL/api/v1/notify" > "$T/targets.json"
"$PY" - "$T/targets.json" "$RCV_PORT" <<'PYEOF' || fail "targets: $(cat "$T/targets.json")"
import json, sys
text = open(sys.argv[1]).read()
assert "SECtest" not in text and "SECwrong" not in text and "access_token" not in text and "k1" not in text, text
t = {i["name"]: i for i in json.loads(text)["items"]}
assert set(t) >= {"ops-hook", "ding", "ding-wrong", "boss-hook", "wecom", "feishu"}, t
assert t["ding"]["url"].endswith(":%s/..." % sys.argv[2]) and "robot" not in t["ding"]["url"] and t["ding"]["signed"] and not t["ops-hook"]["signed"], t
assert t["ops-hook"]["sent"] >= 1 and t["ding-wrong"]["queued"] == 1 and "310000" in t["ding-wrong"]["last_error"], t
PYEOF
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" "$URL/api/v1/notify/ops-hook/test")
[ "$code" = 403 ] || fail "an operator sent a test: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN" "$URL/api/v1/notify/nowhere/test")
[ "$code" = 404 ] || fail "a test to no target: $code"
code=$(curl -s -o "$T/test.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN" "$URL/api/v1/notify/ops-hook/test")
[ "$code" = 202 ] && grep -q '"notification_id":' "$T/test.json" || fail "test: $code $(cat "$T/test.json")"
wait_for 10 "the test message delivered" has /hook 200 test

info "recovery is told once"
serve
wait_for 30 "the resolution delivered" has /hook 200 resolved
sleep 2
[ "$(received /hook 200 resolved)" = 1 ] || fail "resolution delivered $(received /hook 200 resolved) times"
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Lines into fields at the agent: an nginx access log, a CRI container log
# (kubelet's file name: pod, namespace, container; parts joined, also
# across a restart between them), Docker's json-file, a logfmt file and
# journal entries by identifier. Fields are found by the query language,
# the line is kept as written; lines that do not parse are kept and
# counted. Bad parser sections are refused with file:line; the sample
# DaemonSet's agent.conf passes --check-config.
. "$(dirname "$0")/lib.sh"

J="$T/journal"
CID=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
mkdir -p "$J" "$T/containers" "$T/docker"
write_collector_conf
write_agent_conf "parser=nginx
[parser \"nginx\"]
format=nginx
[tail \"k8s\"]
path=$T/containers/*.log
format=cri
parser=json
[parser \"json\"]
format=json
priority_field=level
[tail \"docker\"]
path=$T/docker/*-json.log
format=docker
[tail \"kv\"]
path=$T/kv.txt
parser=kv
[parser \"kv\"]
format=logfmt
[parser \"jl\"]
format=regex
pattern=^jline (?<n>[0-9]+) unit (?<u>[ab])
identifiers=ident1
[journal]
enabled=yes
directory=$J"
TOKEN=$(make_token operator)
ctl() { VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" "$@"; }
# The records a query finds, oldest first: the message, " @@ ", the fields but the trusted ones and the path as JSON.
found() {
	curl -s -G -H "Authorization: Bearer $TOKEN" "$URL/api/v1/logs" --data-urlencode "q=$1" \
		--data-urlencode "limit=1000" --data-urlencode "since=0" --data-urlencode "order=asc" | "$PY" -c '
import json, sys
for it in json.load(sys.stdin)["items"]:
    f = {k: v for k, v in it["fields"].items() if k[0] != "_" and k != "VIGIL_PATH"}
    print(it["message"].replace("\n", "\\n") + " @@ " + json.dumps(f, ensure_ascii=False, sort_keys=True))'
}
found_count() { [ "$(found "$1" | wc -l)" = "$2" ]; }

info "--check-config: bad parser sections are refused with file:line"
cp "$T/agent.conf" "$T/bad.conf"
cat >> "$T/bad.conf" <<'EOC'
[parser "broken"]
format=regex
pattern=^(?<a>x)(?:y)
[parser "none"]
format=xml
[tail "t2"]
path=/nonexistent/*.log
format=crio
parser=missing
[parser "twice"]
format=logfmt
identifiers=ident1
EOC
config_refused vigil-agent "$T/bad.conf" \
	"bad.conf:[0-9]*: \[parser \"broken\"\] pattern: '(?' other than (?<name>…) is not POSIX" \
	"bad.conf:[0-9]*: \[parser \"none\"\] format=xml: expected json, logfmt, nginx, apache or regex" \
	"bad.conf:[0-9]*: \[tail \"t2\"\] format=crio: expected plain, cri or docker" \
	"bad.conf:[0-9]*: \[tail \"t2\"\] parser=missing: no \[parser \"missing\"\] section" \
	"bad.conf:[0-9]*: \[parser \"twice\"\] identifiers: ident1 is parsed by another parser already"
"$B/vigil-agent" --config "$T/agent.conf" --check-config > /dev/null || fail "the good config was refused"
# The sample DaemonSet's agent.conf (its ConfigMap) is one the agent takes.
awk '/^  agent.conf: [|]/ { on = 1; next } on && /^[^ ]/ { on = 0 } on { sub(/^    /, ""); print }' \
	"$S/packaging/kubernetes/vigil-agent.yaml" > "$T/k8s.conf"
grep -q '^format=cri$' "$T/k8s.conf" || fail "no agent.conf found in the DaemonSet manifest"
"$B/vigil-agent" --config "$T/k8s.conf" --check-config > /dev/null || fail "the DaemonSet's agent.conf was refused"

"$PY" "$S/tests/integration/mkjournal.py" 1 30 | "$REMOTE" --output="$J/remote.journal" - 2>> "$T/remote.log"
start_collector
start_agent

info "nginx access log: fields from the combined format, a broken line kept as it is"
cat > "$T/logs/access.log" <<'EOF2'
203.0.113.7 - - [29/Nov/2026:08:00:00 +0800] "GET /api/v1/items?id=3 HTTP/1.1" 200 157 "-" "curl/7.88"
203.0.113.8 - alice [29/Nov/2026:08:00:01 +0800] "POST /api/v1/login HTTP/1.1" 502 31 "https://gov.example/" "Mozilla/5.0"
203.0.113.9 - - [29/Nov/2026:08:00:02 +0800] "GET /api/v1/items HTTP/1.1" 504 0 "-" "curl/7.88"
nginx: [emerg] this line is not an access log line
EOF2
wait_for 20 "the access log stored" found_count "source:app" 4
found "status:>=500" > "$T/5xx"
[ "$(wc -l < "$T/5xx")" = 2 ] || fail "status:>=500 found $(cat "$T/5xx")"
grep -q '"REQUEST_PATH": "/api/v1/login".*"STATUS_CLASS": "5xx"' "$T/5xx" || fail "fields: $(cat "$T/5xx")"
grep -q '^203.0.113.8 - alice \[29/Nov/2026:08:00:01 +0800\] "POST /api/v1/login HTTP/1.1" 502 31 "https://gov.example/" "Mozilla/5.0" @@ ' "$T/5xx" ||
	fail "the line was not kept as written: $(cat "$T/5xx")"
found_count "remote_user:alice request_method:POST" 1 || fail "remote_user:alice request_method:POST"
found "emerg" | grep -q '^nginx: \[emerg\] this line is not an access log line @@ {"VIGIL_SOURCE": "app"}$' ||
	fail "the unparsed line: $(found emerg)"
found "emerg" | grep -q STATUS && fail "the unparsed line has fields"
ctl logs -q 'status_class:5xx request_path:/api/v1/items' | grep -q '504 0' || fail "vigilctl logs with parsed fields"

info "CRI: pod, namespace, container, stream and the runtime's time; parts joined; an unframed line kept"
K="$T/containers/web-7d4b9_gov-portal_api-$CID.log"
printf '%s\n' \
	'2026-11-29T08:00:00.100000000Z stdout F {"level":"error","msg":"登录失败","user":"张三","dur_ms":840}' \
	'2026-11-29T08:00:00.200000000Z stderr P {"level":"info","msg":"a long' \
	'2026-11-29T08:00:00.200000001Z stderr P  line in' \
	'2026-11-29T08:00:00.200000002Z stderr F  three parts"}' \
	'not a cri line at all' > "$K"
wait_for 20 "the container's lines" found_count "source:k8s" 3
found "k8s_pod:web-7d4b9 k8s_namespace:gov-portal container_name:api 登录失败" > "$T/k1"
grep -q '"CONTAINER_STREAM": "stdout".*"DUR_MS": "840".*"LEVEL": "error".*"MSG": "登录失败".*"PRIORITY": "3".*"USER": "张三"' "$T/k1" ||
	fail "CRI line 1: $(cat "$T/k1")"
grep -q "\"CONTAINER_ID\": \"$CID\"" "$T/k1" || fail "container id: $(cat "$T/k1")"
# The runtime's time: 2026-11-29T08:00:00.1Z.
curl -s -G -H "Authorization: Bearer $TOKEN" "$URL/api/v1/logs" --data-urlencode "q=登录失败" |
	grep -q '"__REALTIME_TIMESTAMP":"1795939200100000"' || fail "the CRI time is not the record's"
found '"three parts"' | grep -q '^{"level":"info","msg":"a long line in three parts"} @@ .*"MSG": "a long line in three parts".*"PRIORITY": "6"' ||
	fail "parts not joined: $(found 'source:k8s')"
found "source:k8s" | grep -q '^not a cri line at all @@ ' || fail "the unframed line was not kept"

info "a message's first part read, the agent stopped, its last part written: the message once, whole"
printf '%s\n' '2026-11-29T08:00:01Z stdout P {"msg":"before ' >> "$K"
sleep 1
stop_agent TERM
printf '%s\n' '2026-11-29T08:00:01Z stdout F the restart"}' >> "$K"
start_agent
wait_for 20 "the joined message" found_count '"before the restart"' 1
found_count "source:k8s" 4 || fail "a part was shipped on its own: $(found source:k8s)"

info "Docker's json-file: the message decoded, parts joined"
printf '%s\n' '{"log":"登录失败 用户=张三\n","stream":"stderr","time":"2026-11-29T08:00:02.5Z"}' \
	'{"log":"part one, ","stream":"stdout","time":"2026-11-29T08:00:03Z"}' \
	'{"log":"part two\n","stream":"stdout","time":"2026-11-29T08:00:03Z"}' > "$T/docker/$CID-json.log"
wait_for 20 "the docker lines" found_count "source:docker" 2
found "用户=张三" | grep -q '^登录失败 用户=张三 @@ {"CONTAINER_STREAM": "stderr"' || fail "docker: $(found source:docker)"
found_count '"part one, part two"' 1 || fail "docker parts: $(found source:docker)"

info "logfmt, and journal entries parsed by identifier"
printf '%s\n' 'level=warn route=/api/v1/pay status=502 dur_ms=1200 msg="upstream timed out"' 'plain prose line' > "$T/kv.txt"
wait_for 20 "the logfmt lines" found_count "source:kv" 2
found_count "route:/api/v1/pay dur_ms:>1000" 1 || fail "logfmt fields: $(found source:kv)"
wait_for 20 "the journal entries" found_count "source:journal" 30
# ident1 is every third entry: n = 1, 4, …, 28.
found_count "u:a OR u:b" 10 || fail "journal entries parsed: $(found 'u:a OR u:b')"
found_count "n:>=25" 2 || fail "n:>=25: $(found 'n:>=25')"

info "what did not parse is counted: an nginx line, a logfmt line, the unframed CRI line (not JSON either)"
wait_for 10 "lines_unparsed 3" agent_status_is lines_unparsed 3
wait_for 10 "lines_unframed 1" agent_status_is lines_unframed 1
info "ok"

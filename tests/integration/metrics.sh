#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Host metrics arrive as records (VIGIL_KIND=metric), one per set, with
# values that agree with what the test reads from /proc itself.
. "$(dirname "$0")/lib.sh"

write_collector_conf
AGENT_METRICS=yes write_agent_conf
sed -i 's|^\[metrics\]$|[metrics]\ninterval=1s|' "$T/agent.conf"
TOKEN=$(make_token operator)
start_collector
start_agent

metric_sets() {
	VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" --json logs --kind metric > "$T/all.json"
	"$PY" - "$T/all.json" <<'PYEOF'
import json, sys
sets = set()
for line in open(sys.argv[1]):
    f = json.loads(line)["fields"]
    if f.get("VIGIL_KIND") == "metric":
        sets.add(f["METRIC_SET"])
need = {"cpu", "memory", "load", "filesystem", "agent"}
sys.exit(0 if need <= sets else 1)
PYEOF
}
wait_for 20 "cpu, memory, load, filesystem and agent sets" metric_sets
"$PY" - "$T/all.json" <<'PYEOF' || fail "metric values"
import json, os, sys
last = {}
for line in open(sys.argv[1]):
    f = json.loads(line)["fields"]
    if f.get("VIGIL_KIND") == "metric":
        last[(f["METRIC_SET"], f.get("METRIC_MOUNT", ""))] = f
cpu = last[("cpu", "")]
total = sum(float(cpu[k]) for k in ("METRIC_USER_PCT", "METRIC_SYSTEM_PCT", "METRIC_IDLE_PCT", "METRIC_IOWAIT_PCT", "METRIC_STEAL_PCT"))
assert 99.0 <= total <= 100.01, cpu
mem = last[("memory", "")]
with open("/proc/meminfo") as m:
    total_kb = int(next(l for l in m if l.startswith("MemTotal:")).split()[1])
assert int(mem["METRIC_TOTAL_BYTES"]) == total_kb * 1024, mem
assert 0 < float(mem["METRIC_USED_PCT"]) < 100, mem
root = [f for (s, m), f in last.items() if s == "filesystem"]
assert root and all(int(f["METRIC_SIZE_BYTES"]) > 0 for f in root), root
st = os.statvfs(root[0]["METRIC_MOUNT"])
assert int(root[0]["METRIC_SIZE_BYTES"]) == st.f_blocks * st.f_frsize, (root[0], st)
ag = last[("agent", "")]
assert int(ag["METRIC_RSS_BYTES"]) > 100000 and "METRIC_RECORDS_SPOOLED" in ag and "METRIC_SPOOL_BYTES" in ag, ag
load = last[("load", "")]
assert float(load["METRIC_LOAD1"]) >= 0 and int(load["METRIC_UPTIME_S"]) > 0, load
PYEOF

info "GET /api/v1/metrics: series per host and instance, downsampled by step"
series() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/metrics?$1"; }
series "name=memory.total_bytes&host=testhost&since=10m&step=1s" > "$T/mem.json"
series "name=filesystem.size_bytes&since=10m&step=1h" > "$T/fs.json"
series "name=cpu.user_pct&host=00112233445566778899aabbccddeeff&since=10m" > "$T/cpu.json"
"$PY" - "$T/mem.json" "$T/fs.json" "$T/cpu.json" <<'PYEOF' || fail "metrics API: $(head -c 600 "$T/mem.json")"
import json, sys
mem, fs, cpu = (json.load(open(p)) for p in sys.argv[1:])
with open("/proc/meminfo") as m:
    total = int(next(l for l in m if l.startswith("MemTotal:")).split()[1]) * 1024
s = mem["series"]
assert len(s) == 1 and s[0]["host"] == "testhost" and s[0]["instance"] == "" and mem["step_ms"] == 1000, mem
pts = s[0]["points"]
assert len(pts) >= 2 and all(p[1] == total == p[2] == p[3] for p in pts), pts
assert [p[0] for p in pts] == sorted(p[0] for p in pts), "points not in time order"
assert fs["series"] and all(len(x["points"]) == 1 and x["instance"].startswith("/") for x in fs["series"]), fs
assert cpu["series"] and all(0 <= p[2] <= p[1] <= p[3] <= 100 for p in cpu["series"][0]["points"]), cpu
assert cpu["step_ms"] == 10000, cpu["step_ms"]
PYEOF
code() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/api/v1/metrics?$1"; }
[ "$(code '')" = 400 ] || fail "no name: not 400"
[ "$(code 'name=cpu.user_pct&step=0')" = 400 ] || fail "bad step: not 400"
[ "$(code 'name=cpu.user_pct&since=1h&until=2h')" = 400 ] || fail "until before since: not 400"

info "a name nothing stores is a 404, a quiet range of a known one an empty 200"
[ "$(code 'name=cpu.usr_pct&since=10m')" = 404 ] || fail "a misspelt metric is not a 404"
series "name=cpu.user_pct&since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z" | grep -q '"series":\[\]' ||
	fail "a known metric's empty range is not an empty series"

info "vigilctl metrics"
VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" metrics --name memory.total_bytes --host testhost --since 10m --step 1s \
	> "$T/ctl-mem.out" || fail "vigilctl metrics"
head -n1 "$T/ctl-mem.out" | grep -q "^HOST *INSTANCE *TIME *AVG *MIN *MAX" || fail "$(cat "$T/ctl-mem.out")"
[ "$(grep -c '^testhost ' "$T/ctl-mem.out")" -ge 2 ] || fail "vigilctl metrics points: $(cat "$T/ctl-mem.out")"
if VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" metrics --name cpu.usr_pct 2> "$T/ctl-bad.err"; then
	fail "vigilctl metrics of a misspelt name succeeded"
fi
grep -q "HTTP 404: no metric named cpu.usr_pct" "$T/ctl-bad.err" || fail "$(cat "$T/ctl-bad.err")"
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Log metrics at ingest: an access log's requests counted and their
# durations' quantiles kept per status class, from batches sent to the
# collector (one of them after a kill -9), read back as /api/v1/metrics
# (log.NAME.STAT) and checked against the truth computed from the same
# lines: counts exact, quantiles within 1 %. A rule on log.web.p99 fires.
# Bad [logmetric] sections and names are refused with file:line and 400s.
. "$(dirname "$0")/lib.sh"

AGENT=aaaabbbbccccddddeeeeffff00001111
write_collector_conf "[alerts]
interval=1s
[logmetric \"web\"]
query=source:nginx
value=request_time
labels=status_class
step=10m
[logmetric \"errors\"]
query=status:>=500
labels=request_path
[rule \"slow-5xx\"]
type=metric
metric=log.web.p99
instance=status_class=5xx
above=500"
TOKEN=$(make_token operator)
get() { curl -s -o "$T/answer.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL$1"; }

info "--check-config: bad [logmetric] sections and log metric names with file:line"
cp "$T/collector.conf" "$T/bad.conf"
cat >> "$T/bad.conf" <<'EOC'
[logmetric "bad_query"]
query=status:>=
[logmetric "Bad-Name"]
query=error
[logmetric "many"]
labels=a b c d e
[logmetric "val"]
value=dur ms
[rule "bad-stat"]
type=metric
metric=log.web.p42
above=1
EOC
config_refused vigil-collector "$T/bad.conf" \
	'bad.conf:[0-9]*: \[logmetric "bad_query"\] query: 10: expected a number' \
	"bad.conf:[0-9]*: \[logmetric \"Bad-Name\"\] name: lower-case letters, digits and '_'" \
	'bad.conf:[0-9]*: \[logmetric "many"\] labels: at most 4 fields' \
	"bad.conf:[0-9]*: \[logmetric \"val\"\] value: 'dur ms' is not a field name" \
	'bad.conf:[0-9]*: \[rule "bad-stat"\] metric=log.web.p42: a log metric is log.NAME.STAT'
"$B/vigil-collector" --config "$T/collector.conf" --check-config > /dev/null || fail "the good config was refused"
start_collector

info "9,000 access log records in 3 batches (a kill -9 between the 2nd and the 3rd), the truth beside them"
"$PY" - "$T" <<'PYEOF'
import json, math, random, sys, time
t = sys.argv[1]
rnd = random.Random(11)
step = 600 * 10**6
base = (int(time.time() * 10**6) // step - 1) * step   # the last whole 10 minutes: one step
vals = {"2xx": [], "5xx": []}
counts = {"2xx": 0, "5xx": 0}
errors = {}
for b in range(3):
    with open(f"{t}/batch{b}.txt", "w") as f:
        for i in range(3000):
            n = b * 3000 + i
            cls = "5xx" if n % 3 == 0 else "2xx"
            status = "502" if cls == "5xx" else "200"
            path = f"/api/v1/r{n % 7}"
            src = "nginx" if n % 10 else "other"    # every tenth is not the query's
            rt = round(rnd.lognormvariate(math.log(80 if cls == "2xx" else 400), 0.8), 3)
            rts = "-" if n % 97 == 0 else str(rt)
            f.write(f"__REALTIME_TIMESTAMP={base + n * 50000}\n_HOSTNAME=web-1\nVIGIL_SOURCE={src}\n"
                    f"STATUS={status}\nSTATUS_CLASS={cls}\nREQUEST_PATH={path}\nREQUEST_TIME={rts}\n"
                    f"MESSAGE=GET {path} {status} {rts}\n\n")
            if src == "nginx":
                counts[cls] += 1
                if rts != "-":
                    vals[cls].append(rt)
            if cls == "5xx":
                errors[path] = errors.get(path, 0) + 1
truth = {"base": base, "counts": counts, "errors": errors, "q": {}}
for cls, v in vals.items():
    v.sort()
    truth["q"][cls] = {"p50": v[int(0.5 * (len(v) - 1))], "p90": v[int(0.9 * (len(v) - 1))],
                       "p99": v[int(0.99 * (len(v) - 1))], "max": v[-1], "min": v[0],
                       "avg": sum(v) / len(v), "sum": sum(v)}
json.dump(truth, open(f"{t}/truth.json", "w"))
PYEOF
send() { "$B/nngsend" "tcp://127.0.0.1:$INGEST_PORT" "$T/batch$1.txt" --frame $AGENT $(($1 + 1)) 3000 | grep -q "^stored" ||
	fail "batch $1 not stored"; }
send 0
send 1
stop_collector KILL
start_collector
send 2
BASE=$("$PY" -c "import json; print(json.load(open('$T/truth.json'))['base'] // 10**6)")

info "the API's statistics against the truth: counts exact, quantiles within 1 %"
for stat in count rate p50 p90 p99 min max avg sum; do
	[ "$(get "/api/v1/metrics?name=log.web.$stat&step=600s&since=$BASE&until=$((BASE + 599))")" = 200 ] ||
		fail "log.web.$stat: $(cat "$T/answer.json")"
	"$PY" - "$T/answer.json" "$T/truth.json" "$stat" <<'PYEOF' || fail "log.web.$stat: $(cat "$T/answer.json")"
import json, sys
d, truth, stat = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
got = {s["instance"]: s["points"] for s in d["series"]}
assert set(got) == {"status_class=2xx", "status_class=5xx"}, got.keys()
for cls in ("2xx", "5xx"):
    (p,) = got["status_class=" + cls]
    assert p[0] == truth["base"], (p, truth["base"])
    if stat in ("count", "rate"):
        want = truth["counts"][cls] / (600 if stat == "rate" else 1)
        assert abs(p[1] - want) < 1e-9, (cls, p, want)
    else:
        want = truth["q"][cls][stat]
        tol = 0.01 if stat.startswith("p") else 1e-9
        assert abs(p[1] - want) <= tol * want, (cls, stat, p[1], want)
    print(f"# {stat} {cls}: {p[1]:.4f} (truth {want:.4f})")
PYEOF
done
[ "$(get "/api/v1/metrics?name=log.errors.count&step=600s&since=$BASE&until=$((BASE + 599))")" = 200 ] ||
	fail "log.errors.count: $(cat "$T/answer.json")"
"$PY" - "$T/answer.json" "$T/truth.json" <<'PYEOF' || fail "log.errors.count: $(cat "$T/answer.json")"
import json, sys
d, truth = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
# A 60 s step: ten buckets in the range, summed per path.
got = {}
for s in d["series"]:
    got[s["instance"]] = sum(p[1] for p in s["points"])
assert got == {"request_path=" + k: v for k, v in truth["errors"].items()}, (got, truth["errors"])
PYEOF
# A count-only metric has no quantiles: no points, not an error.
[ "$(get "/api/v1/metrics?name=log.errors.p99&since=$BASE")" = 200 ] && grep -q '"series":\[\]' "$T/answer.json" ||
	fail "log.errors.p99: $(cat "$T/answer.json")"
[ "$(get /api/v1/logmetrics)" = 200 ] || fail "GET /api/v1/logmetrics: $(cat "$T/answer.json")"
"$PY" - "$T/answer.json" <<'PYEOF' || fail "GET /api/v1/logmetrics: $(cat "$T/answer.json")"
import json, sys
d = {m["name"]: m for m in json.load(open(sys.argv[1]))["items"]}
assert d["web"]["labels"] == ["status_class"] and d["web"]["step_ms"] == 600000 and d["web"]["value"] == "request_time", d
assert "log.web.p99" in d["web"]["metrics"] and len(d["web"]["metrics"]) == 10, d["web"]
assert d["errors"]["metrics"] == ["log.errors.count", "log.errors.rate"] and "value" not in d["errors"], d["errors"]
PYEOF
[ "$(get "/api/v1/metrics?name=log.web.p42")" = 400 ] && grep -q "log.NAME.STAT, STAT one of count, rate" "$T/answer.json" ||
	fail "log.web.p42: $(cat "$T/answer.json")"
[ "$(get "/api/v1/metrics?name=log.nothing.count")" = 404 ] || fail "log.nothing.count: $(cat "$T/answer.json")"

info "a rule on log.web.p99 of the 5xx fires on slow recent requests"
"$PY" - "$T" <<'PYEOF'
import sys, time
now = int(time.time() * 10**6)
with open(f"{sys.argv[1]}/batch3.txt", "w") as f:
    for i in range(100):
        f.write(f"__REALTIME_TIMESTAMP={now - 5 * 10**6 + i}\n_HOSTNAME=web-1\nVIGIL_SOURCE=nginx\nSTATUS=502\n"
                f"STATUS_CLASS=5xx\nREQUEST_TIME={900 + i}\nMESSAGE=slow\n\n")
PYEOF
"$B/nngsend" "tcp://127.0.0.1:$INGEST_PORT" "$T/batch3.txt" --frame $AGENT 4 100 | grep -q "^stored" || fail "batch 3"
firing() { get "/api/v1/alerts?state=firing" > /dev/null && grep -q '"rule":"slow-5xx"' "$T/answer.json"; }
wait_for 20 "slow-5xx firing" firing
"$PY" - "$T/answer.json" <<'PYEOF' || fail "the alert: $(cat "$T/answer.json")"
import json, sys
(a,) = [a for a in json.load(open(sys.argv[1]))["items"] if a["rule"] == "slow-5xx"]
assert a["value"].startswith("log.web.p99 status_class=5xx = "), a
v = float(a["value"].split("= ")[1])
assert 980 <= v <= 1000, v
PYEOF
info "the store with log metric rows verifies"
stop_collector
"$B/vigil-collector" --config "$T/collector.conf" --verify > "$T/verify.out" 2>&1 || fail "$(cat "$T/verify.out")"
echo ok

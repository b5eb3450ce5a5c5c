#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Search that says whether it looked everywhere: 1,000,000 stored lines (more
# than one request's scan budget), one rare line near the end, found by
# vigilctl logs -q (a regex, which no index answers, scans past the budget;
# the word is found in one request, its blocks' indexes ruling out the rest); "complete", "stopped" and "scanned" in every answer;
# newest first; only log records unless asked; a misspelt parameter and a
# cursor from the future are 400s.
. "$(dirname "$0")/lib.sh"

write_collector_conf
TOKEN=$(make_token operator)
start_collector
ctl() { VIGIL_TOKEN=$TOKEN "$B/vigilctl" --url "$URL" "$@"; }
get() { curl -s -H "Authorization: Bearer $TOKEN" "$URL$1"; }
code() { curl -s -o "$T/resp.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL$1"; }

info "1,000,000 lines in 16 batches of 62,500, about 300 MB uncompressed"
"$PY" - "$T" <<'PYEOF'
import os, random, sys
t = sys.argv[1]
rnd = random.Random(7)
n = 0
ts = 1764460800000000
for b in range(16):
    with open(f"{t}/batch{b}.txt", "w") as f:
        for i in range(62500):
            n += 1
            msg = f"line {n} GET /api/v1/items/{rnd.getrandbits(64):016x} status=200 dur_ms={rnd.randrange(1000)} " + "x" * 160
            if n == 999990:
                msg = "line 999990 the needle-7f3a9c appears once"
            f.write(f"__REALTIME_TIMESTAMP={ts + n}\n_HOSTNAME=bulk-1\nSYSLOG_IDENTIFIER=app\nMESSAGE={msg}\n\n")
PYEOF
for b in $(seq 0 15); do
	"$B/nngsend" "tcp://127.0.0.1:$INGEST_PORT" "$T/batch$b.txt" --frame aaaabbbbccccddddeeeeffff00001111 $((b + 1)) 62500 |
		grep -q "^stored" || fail "batch $b not stored"
	rm -f "$T/batch$b.txt"
done

info "a regex (which no index answers) stops at the scan budget and says so"
get "/api/v1/logs?q=/needle-7f3a9c/" > "$T/first.json"
"$PY" - "$T/first.json" <<'PYEOF' || fail "first answer: $(head -c 600 "$T/first.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["items"] == [] and d["complete"] is False and d["stopped"] == "budget", d
s = d["scanned"]
assert s["bytes"] >= 256 * 1024 * 1024 and 0 < s["blocks"] < 16 and s["records"] > 500000, s
assert s["skipped"] == 0 and s["unindexed"] == 0, s
PYEOF

info "the word itself: the blocks' indexes rule out 15 of 16, one request finds it"
get "/api/v1/logs?q=needle-7f3a9c" > "$T/indexed.json"
"$PY" - "$T/indexed.json" <<'PYEOF' || fail "indexed answer: $(head -c 600 "$T/indexed.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert [i["message"] for i in d["items"]] == ["line 999990 the needle-7f3a9c appears once"] and d["complete"], d
assert d["scanned"]["blocks"] == 1 and d["scanned"]["skipped"] == 15, d["scanned"]
PYEOF

info "vigilctl logs follows the cursor until the range is complete and finds the line"
ctl logs -q needle-7f3a9c > "$T/found.out" 2> "$T/found.err" || fail "vigilctl logs: $(cat "$T/found.err")"
[ "$(wc -l < "$T/found.out")" = 1 ] && grep -q "bulk-1 app: line 999990 the needle-7f3a9c appears once$" "$T/found.out" ||
	fail "found: $(cat "$T/found.out") $(cat "$T/found.err")"
[ ! -s "$T/found.err" ] || fail "a complete search says: $(cat "$T/found.err")"

info "--limit stops early and says so; --json prints items"
ctl logs --limit 5 > "$T/five.out" 2> "$T/five.err" || fail "vigilctl logs --limit 5"
[ "$(wc -l < "$T/five.out")" = 5 ] && head -n1 "$T/five.out" | grep -q "line 1 GET" || fail "$(cat "$T/five.out")"
grep -q "stopped after 5 lines (--limit 5); more may match" "$T/five.err" || fail "no word of stopping: $(cat "$T/five.err")"
ctl --json logs --limit 2 2> /dev/null | "$PY" -c '
import json, sys
items = [json.loads(l) for l in sys.stdin]
assert len(items) == 2 and items[0]["host"] == "bulk-1" and items[0]["message"].startswith("line 1 "), items'

info "newest first: vigilctl --reverse, and order=desc pages in the reverse of ingest order"
ctl logs --reverse --limit 3 > "$T/rev.out" 2> /dev/null
[ "$(awk '{print $5}' "$T/rev.out" | tr '\n' ' ')" = "1000000 999999 999998 " ] || fail "reverse: $(cat "$T/rev.out")"
"$PY" - "$URL" "$TOKEN" <<'PYEOF' || fail "desc paging"
import json, sys, urllib.request
url, token = sys.argv[1], sys.argv[2]
def page(q):
    req = urllib.request.Request(url + "/api/v1/logs?" + q, headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req, timeout=60))
cur, got = None, []
for _ in range(10):
    d = page("order=desc&limit=7&since=" + str(1764460800 + 0) + ("&cursor=" + cur if cur else ""))
    got += [it["message"].split()[1] for it in d["items"]]
    cur = d["next_cursor"]
want = [str(n) for n in range(1000000, 1000000 - 70, -1)]
assert got == want, (got[:10], want[:10])
ids = [it["id"] for it in page("order=desc&limit=3")["items"]]
asc = page("cursor=" + ids[2] + "&limit=2")["items"]
assert [it["id"] for it in asc] == [ids[1], ids[0]], (ids, asc)
PYEOF

info "NDJSON: an item a line, the same items, the cursor in headers; a pull by it sees every record once"
"$PY" - "$URL" "$TOKEN" <<'PYEOF' || fail "ndjson"
import json, sys, urllib.request
url, token = sys.argv[1], sys.argv[2]
def get(q, accept=None):
    h = {"Authorization": "Bearer " + token}
    if accept:
        h["Accept"] = accept
    return urllib.request.urlopen(urllib.request.Request(url + "/api/v1/logs?" + q, headers=h), timeout=120)
page = json.load(get("limit=5&kind=log"))
r = get("limit=5&kind=log&format=ndjson")
assert r.headers["Content-Type"] == "application/x-ndjson", r.headers
lines = r.read().decode().split("\n")
assert lines[-1] == "" and [json.loads(l) for l in lines[:-1]] == page["items"], (lines[:2], page["items"][:1])
assert r.headers["Vigil-Next-Cursor"] == page["next_cursor"] and r.headers["Vigil-Complete"] == "false", dict(r.headers)
r = get("limit=5&kind=log", accept="application/x-ndjson")
assert r.headers["Content-Type"] == "application/x-ndjson" and len(r.read().decode().splitlines()) == 5
seen, cursor = set(), None
for _ in range(200):
    r = get("limit=10000&kind=log&format=ndjson" + ("&cursor=" + cursor if cursor else ""))
    for line in r.read().decode().splitlines():
        n = json.loads(line)["message"].split()[1]
        assert n not in seen, n
        seen.add(n)
    cursor = r.headers["Vigil-Next-Cursor"]
    if r.headers["Vigil-Complete"] == "true":
        break
assert len(seen) == 1000000, len(seen)
PYEOF
[ "$(code "/api/v1/logs?format=xml")" = 400 ] && grep -q "format: expected json or ndjson" "$T/resp.json" || fail "format=xml: $(cat "$T/resp.json")"

info "only log records unless asked for another kind"
printf '__REALTIME_TIMESTAMP=%s\n_HOSTNAME=bulk-1\nVIGIL_KIND=probe\nPROBE_NAME=web\nPROBE_TYPE=tcp\nPROBE_STATUS=ok\nMESSAGE=needle-probe reachable\n\n' \
	"$(date +%s000000)" > "$T/probe.txt"
"$B/nngsend" "tcp://127.0.0.1:$INGEST_PORT" "$T/probe.txt" --frame aaaabbbbccccddddeeeeffff00001111 17 1 | grep -q "^stored" ||
	fail "probe record not stored"
[ -z "$(ctl logs -q needle-probe --since 1h)" ] || fail "a probe record shown as a log line"
ctl logs -q needle-probe --since 1h --kind all | grep -q "needle-probe reachable" || fail "--kind all"
ctl logs -q needle-probe --since 1h --kind probe | grep -q "needle-probe reachable" || fail "--kind probe"
[ "$(get "/api/v1/logs?q=needle-probe&kind=log&since=1h" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')" = 0 ] ||
	fail "kind=log returned a probe record"

info "a misspelt parameter is a 400 naming it, not every host"
[ "$(code "/api/v1/logs?hots=web-1&limit=1")" = 400 ] || fail "hots= accepted: $(cat "$T/resp.json")"
grep -q "unknown query parameter hots; GET /api/v1/logs takes host source q" "$T/resp.json" || fail "$(cat "$T/resp.json")"
[ "$(code "/api/v1/probes?hots=x&stauts=ok")" = 400 ] && grep -q "parameters hots, stauts" "$T/resp.json" ||
	fail "probes: $(cat "$T/resp.json")"
[ "$(code "/api/v1/hosts?x=1")" = 400 ] && grep -q "takes none" "$T/resp.json" || fail "hosts: $(cat "$T/resp.json")"
[ "$(code "/api/v1/logs?order=sideways")" = 400 ] || fail "order=sideways accepted"

info "a cursor from the future is a 400, not an empty page for ever"
last=$(get "/api/v1/logs?order=desc&limit=1&kind=log" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
day=${last%%-*}
rest=${last#*-}
block=${rest%%-*}
[ "$(code "/api/v1/logs?cursor=$last")" = 200 ] || fail "the newest cursor refused: $(cat "$T/resp.json")"
[ "$(code "/api/v1/logs?cursor=$((day + 1))-1-0")" = 400 ] || fail "a day to come accepted"
grep -q "past the logs stored" "$T/resp.json" || fail "$(cat "$T/resp.json")"
[ "$(code "/api/v1/logs?cursor=$day-$((block + 5))-0")" = 400 ] || fail "a block to come accepted"
[ "$(code "/api/v1/logs?cursor=$day-$block-70000")" = 400 ] || fail "a record past the block's accepted"
info "the same answers from one thread as from all: items, cursors, stops, counts"
answers() { # file
	"$PY" - "$URL" "$TOKEN" "$1" <<'PYEOF'
import json, sys, urllib.request
url, token, out = sys.argv[1:4]
def get(q):
    req = urllib.request.Request(url + q, headers={"Authorization": "Bearer " + token})
    d = json.load(urllib.request.urlopen(req, timeout=120))
    d.get("scanned", {}).pop("records", None)  # the records a worker read past the stop differ
    return d
got = []
for q, pages in (("/api/v1/logs?order=desc&limit=7&kind=log", 3), ("/api/v1/logs?q=GET%20status%3D200&limit=1000", 4),
                 ("/api/v1/logs?q=/needle-7f3a9c/", 2), ("/api/v1/logs?q=needle-7f3a9c%20OR%20%22line%20999%22&order=desc", 2),
                 ("/api/v1/logs/count?since=1764460800&until=1764460802&step=1s&kind=log", 2)):
    cursor = None
    for _ in range(pages):
        d = get(q + ("&cursor=" + cursor if cursor else ""))
        got.append(d)
        cursor = d["next_cursor"]
json.dump(got, open(out, "w"), sort_keys=True, indent=1)
PYEOF
}
answers "$T/parallel.json"
stop_collector
sed -i 's|^\[http\]$|[http]\nsearch_threads=1|' "$T/collector.conf"
start_collector
answers "$T/serial.json"
cmp -s "$T/parallel.json" "$T/serial.json" || fail "answers differ: $(diff "$T/parallel.json" "$T/serial.json" | head -20)"
grep -q '"stopped": "budget"' "$T/serial.json" && grep -q '"stopped": "limit"' "$T/serial.json" || fail "not every kind of stop compared"
echo ok

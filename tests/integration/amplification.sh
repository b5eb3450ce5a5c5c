#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A small batch cannot turn into huge writes, and no answer is unbounded:
# what one batch adds to the derived rows is capped and what is left out is
# counted (the block keeps every record); a probe's history and a dial
# test's results come in pages of [http] max_answer bytes; one address
# holding connections open keeps no one else out.
. "$(dirname "$0")/lib.sh"

write_collector_conf "max_answer=8K
idle_timeout=3s"
TOKEN=$(make_token admin)
start_collector
SHARD() { ls "$T"/data/shards/*.db | head -n1; }
q() { sqlite3 "$(SHARD)" "$1"; }
send() { # file agent-hex seq records
	"$B/nngsend" "tcp://127.0.0.1:$INGEST_PORT" "$1" --frame "$2" "$3" "$4" | grep -q "^stored" || fail "$1 not stored"
}

info "2,000 metric records of 1,000 values each: at most 64 values a record, 16,384 a batch"
"$PY" - "$T/metrics.txt" <<'PYEOF'
import sys, time
ts = int(time.time() * 1e6)
with open(sys.argv[1], "w") as f:
    for i in range(2000):
        f.write(f"__REALTIME_TIMESTAMP={ts + i}\n_HOSTNAME=bomb\nVIGIL_KIND=metric\nMETRIC_SET=bomb\n")
        f.write("".join(f"METRIC_V{k}={k}\n" for k in range(1000)))
        f.write("\n")
PYEOF
zstd -q -3 -c "$T/metrics.txt" | wc -c > "$T/metrics.zsize"
send "$T/metrics.txt" b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0 1 2000
[ "$(q "SELECT count(*) FROM metrics")" = 16384 ] || fail "metric rows: $(q "SELECT count(*) FROM metrics")"
[ "$(metric 'vigil_ingest_cut_total{what="metric_rows"}')" = $((2000 * 1000 - 16384)) ] ||
	fail "the cut is not counted: $(metric 'vigil_ingest_cut_total{what="metric_rows"}')"
grep -q "past the limits of what one batch may add" "$T/collector.log" || fail "the cut is not logged"
info "($(cat "$T/metrics.zsize") bytes compressed; 2,000,000 values asked for)"

info "probe results with 200 KiB messages: the rows keep 4 KiB, the block all of it"
"$PY" - "$T/probes.txt" <<'PYEOF'
import sys, time
ts = int(time.time() * 1e6)
with open(sys.argv[1], "w") as f:
    for i in range(300):
        msg = ("%04d" % i) + "é" * (100 * 1024)
        f.write(f"__REALTIME_TIMESTAMP={ts + i}\n_HOSTNAME=big\nVIGIL_KIND=probe\nPROBE_NAME=big\nPROBE_TYPE=tcp\n")
        f.write(f"PROBE_STATUS=ok\nMESSAGE={msg}\n\n")
PYEOF
for b in 0 1 2; do
	sed -n "$((b * 800 + 1)),$(((b + 1) * 800))p" "$T/probes.txt" > "$T/probes-$b.txt"
	send "$T/probes-$b.txt" b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1 $((b + 1)) 100
done
[ "$(q "SELECT count(*) FROM probes")" = 300 ] || fail "probe rows: $(q "SELECT count(*) FROM probes")"
[ "$(q "SELECT max(length(CAST(message AS BLOB))) FROM probes")" -le 4096 ] || fail "a probe row keeps a whole message"
q "SELECT message FROM probes LIMIT 1" | "$PY" -c 'import sys; sys.stdin.buffer.read().decode("utf-8")' ||
	fail "a message was cut inside a character"
[ "$(metric 'vigil_ingest_cut_total{what="probe_message_bytes"}')" -gt $((300 * 190000)) ] || fail "message bytes cut not counted"
curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/logs?host=big&kind=probe&limit=1" |
	"$PY" -c 'import json,sys; m = json.load(sys.stdin)["items"][0]["message"]; assert len(m) == 100 * 1024 + 4, len(m)' ||
	fail "the block does not keep the whole message"

info "a probe's history comes in pages of max_answer bytes"
"$PY" - "$URL" "$TOKEN" <<'PYEOF' || fail "history pages"
import json, sys, urllib.request
url, token = sys.argv[1], sys.argv[2]
def get(q):
    req = urllib.request.Request(url + q, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=30) as r:
        body = r.read()
    return len(body), json.loads(body)
since, seen, pages = "1h", [], 0
while pages < 400:
    size, d = get("/api/v1/probes/big/big/history?since=" + since)
    pages += 1
    assert size < 8 * 1024 + 4096 + 1024, size
    seen += [it["message"][:4] for it in d["items"]]
    if not d["truncated"]:
        break
    since = d["next_since"]
assert seen == ["%04d" % i for i in range(300)], (len(seen), seen[:3], seen[-3:])
assert pages > 100, pages
PYEOF

info "600 connections from 127.0.0.2, each sending a request a byte a second: 127.0.0.1 is still answered"
"$PY" - "$HTTP_PORT" "$T/slow" <<'PYEOF' &
import os, socket, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
held = set()
for _ in range(600):
    c = socket.socket()
    c.bind(("127.0.0.2", 0))
    c.connect(("127.0.0.1", port))
    c.send(b"GET /api/v1/hosts HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    c.setblocking(False)
    held.add(c)
def closed(c):
    try:
        return c.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
open(out + ".ready", "w").close()
for _ in range(300):  # trickles until told to stop
    if os.path.exists(out + ".stop"):
        break
    for c in list(held):
        try:
            c.send(b"a")
        except OSError:
            held.discard(c)
    time.sleep(1)
held = {c for c in held if not closed(c)}
open(out + ".trickled", "w").write("%d\n" % len(held))
t0 = time.monotonic()
while held and time.monotonic() - t0 < 30:
    held = {c for c in held if not closed(c)}
    time.sleep(0.2)
open(out + ".closed", "w").write("%d %.1f\n" % (len(held), time.monotonic() - t0))
time.sleep(60)
PYEOF
SLOW=$!
PIDS="$PIDS $SLOW"
wait_for 30 "the 600 connections" test -e "$T/slow.ready"
sleep 4 # past idle_timeout: only what trickles is still open
code=$(curl -s -m 2 -o "$T/hosts.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/api/v1/hosts") || true
[ "$code" = 200 ] || fail "127.0.0.1 is kept out: $code"
touch "$T/slow.stop"
wait_for 10 "the trickle stopped" test -e "$T/slow.trickled"
read -r trickled < "$T/slow.trickled"
[ "$trickled" -ge 1 ] && [ "$trickled" -le 32 ] || fail "$trickled connections from 127.0.0.2 held; per_address is 32"

info "a connection that goes quiet mid-request is closed after idle_timeout"
wait_for 40 "the quiet connections closed" test -e "$T/slow.closed"
read -r left secs < "$T/slow.closed"
[ "$left" = 0 ] || fail "$left of the quiet connections still open after ${secs}s (idle_timeout=3s)"
kill "$SLOW"
echo ok

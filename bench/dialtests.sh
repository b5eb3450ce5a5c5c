#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/dialtests.sh [SECONDS]: dial tests against a local nginx, side by side
# with Debian's prometheus-blackbox-exporter probing the same target:
#   throughput: TESTS (2,000) single-step tests every second, 32 at once (vigil), and
#     blackbox's /probe driven by 32 parallel clients (curl --parallel);
#     runs (probes) per second and CPU ms per run (per probe), and the ratio;
#     every run on a fresh connection in both.
#   jitter: 1,000 tests every 10 s (the default limits): actual start minus
#     planned start, p50 and p99, from the stored results.
#   vantage: VTESTS (200) tests every second run_on one agent (a vantage
#     point, docs/dialtests.md): runs per second stored, the agent's CPU ms
#     per run beside blackbox's per probe, the collector's per run stored,
#     and the agent's RSS with and without them.
set -eu
. "$(dirname "$0")/lib.sh"
SECS=${1:-30}
TESTS=${TESTS:-2000}
bench_setup dialtests "nginx-light prometheus-blackbox-exporter"

calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
cpu_ms() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.0f", ($14 + $15) * 1000 / t }' "/proc/$1/stat"; }

# ---- the target
NGX=$(port)
mkdir -p "$W/ngx"
cat > "$W/nginx.conf" <<EOC
daemon off;
worker_processes 1;
pid $W/nginx.pid;
error_log $W/nginx-error.log;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $W/ngx; proxy_temp_path $W/ngx; fastcgi_temp_path $W/ngx;
	uwsgi_temp_path $W/ngx; scgi_temp_path $W/ngx;
	server { listen 127.0.0.1:$NGX backlog=4096; location /ok { default_type text/plain; return 200 "ok\n"; } }
}
EOC
nginx -p "$W" -c "$W/nginx.conf" &
pids="$pids $!"
sleep 1

# ---- vigil
# collector interval concurrency per_host tests [run_on]: starts a collector with that many tests (run where run_on,
# a JSON list, says), sets CP, URLB, TOKEN, DATA and INGEST.
collector() {
	local dir=$W/vigil-$1${5:+-vantage} ip hp
	ip=$(port) hp=$(port)
	mkdir -p "$dir/tests"
	for i in $(seq 1 "$4"); do
		printf '{"name":"t%04d","interval":"%s","timeout":"5s",%s"steps":[{"name":"get","url":"http://127.0.0.1:%s/ok?i=%d","assert":[{"type":"status","in":[200]}]}]}\n' \
			"$i" "$1" "${5:+\"run_on\":$5,}" "$NGX" "$i" > "$dir/tests/t$i.json"
	done
	INGEST=tcp://127.0.0.1:$ip
	cat > "$dir/collector.conf" <<EOC
[ingest]
listen=tcp://127.0.0.1:$ip
[storage]
data_dir=$dir/data
[http]
listen=127.0.0.1:$hp
[dialtests]
dir=$dir/tests
concurrency=$2
per_host=$3
EOC
	TOKEN=$("$B/vigil-collector" --config "$dir/collector.conf" --create-token bench --role admin)
	"$B/vigil-collector" --config "$dir/collector.conf" 2> "$dir/collector.log" &
	CP=$!
	pids="$pids $CP"
	URLB=http://127.0.0.1:$hp
	DATA=$dir/data
	for _ in $(seq 1 100); do curl -s -o /dev/null "$URLB/metrics" && break; sleep 0.1; done
}
runs() { curl -s -H "Authorization: Bearer $TOKEN" "$URLB/metrics" | awk '/^vigil_dialtest_runs_total/ { n += $2 } END { print n + 0 }'; }

echo "vigil: $TESTS tests every 1s, 32 at once, for ${SECS}s..."
collector 1s 32 32 "$TESTS"
sleep 5 # the first second's phases settle
r0=$(runs) c0=$(cpu_ms "$CP") t0=$(date +%s.%N)
sleep "$SECS"
r1=$(runs) c1=$(cpu_ms "$CP") t1=$(date +%s.%N)
kill "$CP"; wait "$CP" || true
V_RATE=$(calc "($r1 - $r0) / ($t1 - $t0)")
V_CPU=$(calc "($c1 - $c0) / ($r1 - $r0)")

# ---- blackbox exporter
echo "blackbox_exporter: /probe with 32 parallel clients for ${SECS}s..."
BP=$(port)
cat > "$W/blackbox.yml" <<EOC
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      valid_status_codes: [200]
EOC
prometheus-blackbox-exporter --config.file="$W/blackbox.yml" --web.listen-address="127.0.0.1:$BP" 2> "$W/blackbox.log" &
BB=$!
pids="$pids $BB"
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$BP/metrics" && break; sleep 0.1; done
N=$((SECS * 4000))
for i in $(seq 1 "$N"); do echo "url = \"http://127.0.0.1:$BP/probe?module=http_2xx&target=http://127.0.0.1:$NGX/ok?i=$i\""; done > "$W/urls"
c0=$(cpu_ms "$BB") t0=$(date +%s.%N)
timeout "$SECS" curl -s --no-progress-meter -Z --parallel-max 32 -o /dev/null -w '%{http_code}\n' --config "$W/urls" > "$W/codes" || true
c1=$(cpu_ms "$BB") t1=$(date +%s.%N)
PROBES=$(grep -c '^200$' "$W/codes" || true)
B_RATE=$(calc "$PROBES / ($t1 - $t0)")
B_CPU=$(calc "($c1 - $c0) / $PROBES")
curl -s "http://127.0.0.1:$BP/probe?module=http_2xx&target=http://127.0.0.1:$NGX/ok" | grep -q '^probe_success 1' ||
	echo "warning: blackbox's probe does not succeed"

# ---- jitter
echo "vigil: 1000 tests every 10s (default limits) for ${SECS}s: scheduling jitter..."
collector 10s 64 8 1000
sleep "$SECS"
kill "$CP"; wait "$CP" || true
JITTER=$(for f in "$DATA"/shards/*.db; do
	sqlite3 "$f" "SELECT json_extract(result, '\$.started') - json_extract(result, '\$.scheduled') FROM dialtest_results"
done | sort -n | awk '{ v[NR] = $1 } END { printf "%d runs: p50 %.2f ms, p99 %.2f ms, max %.2f ms", NR, v[int(NR * 0.5) + 1] / 1000, v[int(NR * 0.99) + 1] / 1000, v[NR] / 1000 }')

# ---- an agent as a vantage point
VTESTS=${VTESTS:-200}
echo "vigil: $VTESTS tests every 1s on one agent (run_on zone=bench) for ${SECS}s..."
vdir=$W/vigil-vantage-agent
mkdir -p "$vdir/logs"
collector 1s 32 32 "$VTESTS" '[{"zone":"bench"}]'
cat > "$vdir/agent.conf" <<EOC
[agent]
state_dir=$vdir/state
labels=zone=idle
hostname=vantage-1
heartbeat=1s
[collector]
address=$INGEST
[tail "none"]
path=$vdir/logs/*.log
EOC
agent() {
	"$B/vigil-agent" --config "$vdir/agent.conf" 2>> "$vdir/agent.log" &
	AP=$!
	pids="$pids $AP"
}
# First in a zone no test selects, then in the one they all select.
agent
sleep 5
RSS_IDLE=$(awk '/^VmRSS/ { print $2 }' "/proc/$AP/status")
kill "$AP"; wait "$AP" || true
sed -i 's/^labels=zone=idle$/labels=zone=bench/' "$vdir/agent.conf"
agent
stored() { for f in "$DATA"/shards/*.db; do sqlite3 "$f" "SELECT count(*) FROM dialtest_results" 2>/dev/null; done | awk '{ n += $1 } END { print n + 0 }'; }
for _ in $(seq 1 60); do grep -q "runs $VTESTS of the collector's" "$vdir/agent.log" && break; sleep 0.5; done
grep -q "runs $VTESTS of the collector's" "$vdir/agent.log" || fail "the agent did not take the tests: $(tail -5 "$vdir/agent.log")"
sleep 5
s0=$(stored) a0=$(cpu_ms "$AP") k0=$(cpu_ms "$CP") t0=$(date +%s.%N)
sleep "$SECS"
s1=$(stored) a1=$(cpu_ms "$AP") k1=$(cpu_ms "$CP") t1=$(date +%s.%N)
RSS_RUN=$(awk '/^VmRSS/ { print $2 }' "/proc/$AP/status")
A_RATE=$(calc "($s1 - $s0) / ($t1 - $t0)")
A_CPU=$(calc "($a1 - $a0) / ($s1 - $s0)")
K_CPU=$(calc "($k1 - $k0) / ($s1 - $s0)")
kill "$AP" "$CP"; wait "$AP" || true; wait "$CP" || true

printf '\n%-22s %14s %14s\n' "" "runs/s" "CPU ms/run"
printf '%-22s %14.0f %14.3f\n' "vigil" "$V_RATE" "$V_CPU"
printf '%-22s %14.0f %14.3f\n' "blackbox_exporter" "$B_RATE" "$B_CPU"
printf '%-22s %14.2f %14.2f\n' "vigil / blackbox" "$(calc "$V_RATE / $B_RATE")" "$(calc "$V_CPU / $B_CPU")"
echo "vigil scheduling jitter (start - planned), 1000 tests every 10s: $JITTER"
printf '\n%-34s %14s %14s\n' "an agent as a vantage point" "runs/s" "CPU ms/run"
printf '%-34s %14.0f %14.3f\n' "vigil-agent ($VTESTS tests every 1s)" "$A_RATE" "$A_CPU"
printf '%-34s %14s %14.3f\n' "vigil-collector storing them" "" "$K_CPU"
printf '%-34s %14s %14.2f\n' "vigil-agent / blackbox" "" "$(calc "$A_CPU / $B_CPU")"
echo "vigil-agent RSS: $((RSS_IDLE / 1024)) MB before the tests came, $((RSS_RUN / 1024)) MB running them"

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
collector() { # interval concurrency per_host tests: starts a collector with that many tests, sets CP, URLB, TOKEN
	local dir=$W/vigil-$1 ip hp
	ip=$(port) hp=$(port)
	mkdir -p "$dir/tests"
	for i in $(seq 1 "$4"); do
		printf '{"name":"t%04d","interval":"%s","timeout":"5s","steps":[{"name":"get","url":"http://127.0.0.1:%s/ok?i=%d","assert":[{"type":"status","in":[200]}]}]}\n' \
			"$i" "$1" "$NGX" "$i" > "$dir/tests/t$i.json"
	done
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

printf '\n%-22s %14s %14s\n' "" "runs/s" "CPU ms/run"
printf '%-22s %14.0f %14.3f\n' "vigil" "$V_RATE" "$V_CPU"
printf '%-22s %14.0f %14.3f\n' "blackbox_exporter" "$B_RATE" "$B_CPU"
printf '%-22s %14.2f %14.2f\n' "vigil / blackbox" "$(calc "$V_RATE / $B_RATE")" "$(calc "$V_CPU / $B_CPU")"
echo "vigil scheduling jitter (start - planned), 1000 tests every 10s: $JITTER"

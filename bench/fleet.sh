#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/fleet.sh [SECONDS] [N...]: a simulated fleet (bench/fleetload.c)
# against one collector on SQLite (durable: fsync at each commit), for
# N = 1000, 5000 and 10000 agents by default, each with its own id and
# connection, 50 probe results every 30 s, host metrics and a heartbeat
# every 10 s, as a real agent sends them, and a probe rule over them all.
# Prints per N: the collector's CPU (cores) and its ratio to the target of
# half a core, its memory, the ingest latency (send to reply) p50 and p99,
# the alert evaluator's time per evaluation, the store's growth per hour,
# and the generator's own CPU in cores (it shares the machine).
# PostgreSQL and two collectors join when the collector serves them (docs/scale.md).
set -eu
. "$(dirname "$0")/lib.sh"
SECONDS_RUN=${1:-90}
shift || true
NS=${*:-1000 5000 10000}
bench_setup fleet ""
make -C "$B" -s fleetload
# One connection an agent, on both sides: as many descriptors as the machine allows.
ulimit -n "$(ulimit -Hn)"

cpu_s() { awk '{ print ($14 + $15) / 100 }' "/proc/$1/stat"; }
rss_mb() { awk '/^Rss:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/smaps_rollup"; }
metric() { curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HTTP/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

printf "%-7s %8s %9s %8s %8s %9s %9s %12s %10s %9s\n" agents "cpu" "/target" "rss_MB" "p50_ms" "p99_ms" "eval_ms" "store_MB/h" "gen_cpu" "retries"
for N in $NS; do
	[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -gt $((N + 256)) ] || { echo "$N agents: ulimit -n is $(ulimit -n)"; continue; }
	D=$W/n$N
	mkdir -p "$D"
	INGEST=$(port)
	HTTP=$(port)
	cat > "$D/collector.conf" <<EOF
[ingest]
listen=tcp://127.0.0.1:$INGEST
contexts=16
[storage]
data_dir=$D/data
[http]
listen=127.0.0.1:$HTTP
[alerts]
interval=10s
[rule "svc-down"]
type=probe
probe=svc-*
severity=critical
EOF
	TOKEN=$("$B/vigil-collector" --config "$D/collector.conf" --create-token bench --role operator)
	"$B/vigil-collector" --config "$D/collector.conf" > "$D/collector.log" 2>&1 &
	CP=$!
	pids="$pids $CP"
	for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$HTTP/api/v1/hosts" && break; sleep 0.2; done
	"$B/fleetload" "tcp://127.0.0.1:$INGEST" "$N" "$SECONDS_RUN" > "$D/load.out" 2>&1 &
	LP=$!
	pids="$pids $LP"
	# The first probe interval fills the store with every host; measured over the rest.
	sleep 35
	c0=$(cpu_s "$CP") s0=$(du -sb "$D/data" | cut -f1) t0=$(date +%s.%N)
	e0=$(metric vigil_alert_evaluation_seconds_total) n0=$(metric vigil_alert_evaluations_total)
	wait "$LP" || { cat "$D/load.out"; exit 1; }
	c1=$(cpu_s "$CP") s1=$(du -sb "$D/data" | cut -f1) t1=$(date +%s.%N)
	e1=$(metric vigil_alert_evaluation_seconds_total) n1=$(metric vigil_alert_evaluations_total)
	g1=$(awk '/^agents/ { print }' "$D/load.out")
	rss=$(rss_mb "$CP")
	kill "$CP"
	wait "$CP" || true
	python3 - "$c0" "$c1" "$t0" "$t1" "$s0" "$s1" "$e0" "$e1" "$n0" "$n1" "$N" "$rss" "$g1" <<'PYEOF'
import sys
c0, c1, t0, t1, s0, s1, e0, e1, n0, n1 = map(float, sys.argv[1:11])
n, rss, load = sys.argv[11], sys.argv[12], dict(zip(*[iter(sys.argv[13].split())] * 2))
span = t1 - t0
cores = (c1 - c0) / span
evals = n1 - n0
print("%-7s %8.3f %8.2fx %8s %8.1f %9.1f %9.1f %12.1f %10s %9s" % (
    n, cores, cores / 0.5, rss, int(load["p50_us"]) / 1000, int(load["p99_us"]) / 1000,
    (e1 - e0) / evals * 1000 if evals else float("nan"), (s1 - s0) / span * 3600 / 2**20,
    "%.2f" % (float(load["cpu_s"]) / float(load["seconds"])), load["retry"]))
PYEOF
	cat "$D/load.out"
done

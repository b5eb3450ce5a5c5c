#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/fleet.sh [SECONDS] [N...]: a simulated fleet (bench/fleetload.c)
# for N = 1000, 5000 and 10000 agents by default, each with its own id and
# connection, 50 probe results every 30 s, host metrics and a heartbeat
# every 10 s, as a real agent sends them, and a probe rule over them all,
# against each of MODES (default "sqlite pg pg2"): one collector on SQLite
# (durable: fsync at each commit), one on PostgreSQL, two on one
# PostgreSQL sharing the fleet (agent i to collector i mod 2); the
# database is Debian's, started for each run the tests' way, fsync on.
# Prints per mode and N: the collector's CPU (cores; of two, the busier
# one's) and its ratio to the target of half a core, its memory, the
# ingest latency (send to reply) p50 and p99, the alert evaluator's time
# per evaluation, the collectors' own stores' growth per hour, the
# database's CPU (cores, every server process) and growth per hour, and
# the generator's own CPU in cores (it shares the machine). CONTEXTS sets
# the collectors' [ingest] contexts (16), which bounds a group commit.
# The simulated agents ask for their central configuration as real ones do
# (docs/control.md); CONFIG_CHANGE=1 also defines a config group for every
# agent 10 s into the measured window, and the generator's last line says
# how long the whole fleet took to be answered at it (spread_ms).
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
rss_mb() { awk '/^Rss:/ { printf "%.0f\n", $2 / 1024 }' "/proc/$1/smaps_rollup"; }
metric() { curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HTTP/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

pg_cpu_s() { # the server's and its processes' CPU seconds, those that ended included
	# Read through cat: a process that ends meanwhile is one file fewer, not awk's error.
	cat /proc/[0-9]*/stat 2> /dev/null |
		awk -v pm="$PG_PID" '$1 == pm { t += $14 + $15 + $16 + $17 } $4 == pm { t += $14 + $15 } END { print t / 100 }'
}
db_bytes() { pg_sql -c "SELECT pg_database_size('postgres')"; }

# collector_conf DIR INGEST HTTP [storage lines]
collector_conf() {
	cat > "$1/collector.conf" <<EOF
[ingest]
listen=tcp://127.0.0.1:$2
contexts=${CONTEXTS:-16}
[storage]
data_dir=$1/data
${4:-}
[http]
listen=127.0.0.1:$3
[alerts]
interval=10s
[rule "svc-down"]
type=probe
probe=svc-*
severity=critical
EOF
}
start_collector() { # dir http: its PID in CP
	"$B/vigil-collector" --config "$1/collector.conf" > "$1/collector.log" 2>&1 &
	CP=$!
	pids="$pids $CP"
	wait_for 10 "the collector in $1" curl -s -o /dev/null "http://127.0.0.1:$2/api/v1/hosts"
}

printf "%-6s %-7s %8s %9s %8s %8s %9s %9s %11s %8s %9s %8s %8s\n" mode agents cpu /target rss_MB p50_ms p99_ms eval_ms \
	store_MB/h db_cpu db_MB/h gen_cpu retries
for MODE in ${MODES:-sqlite pg pg2}; do
	for N in $NS; do
		[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -gt $((N + 256)) ] || { echo "$N agents: ulimit -n is $(ulimit -n)"; continue; }
		D=$W/$MODE-$N
		storage=""
		if [ "$MODE" != sqlite ]; then
			bench_pg_start
			storage="backend=postgresql
url=$PG_URL
password_file=$PG_PASSWORD_FILE"
		fi
		mkdir -p "$D/a"
		INGEST=$(port) HTTP=$(port)
		collector_conf "$D/a" "$INGEST" "$HTTP" "$storage"
		TOKEN=$("$B/vigil-collector" --config "$D/a/collector.conf" --create-token bench --role operator)
		ADMIN=$("$B/vigil-collector" --config "$D/a/collector.conf" --create-token bench-admin --role admin)
		start_collector "$D/a" "$HTTP"
		CPS=$CP ADDRS=tcp://127.0.0.1:$INGEST
		if [ "$MODE" = pg2 ]; then
			mkdir -p "$D/b"
			INGEST_B=$(port) HTTP_B=$(port)
			collector_conf "$D/b" "$INGEST_B" "$HTTP_B" "$storage"
			start_collector "$D/b" "$HTTP_B"
			CPS="$CPS $CP" ADDRS="$ADDRS,tcp://127.0.0.1:$INGEST_B"
		fi
		"$B/fleetload" "$ADDRS" "$N" "$SECONDS_RUN" > "$D/load.out" 2>&1 &
		LP=$!
		pids="$pids $LP"
		# The first probe interval fills the store with every host; measured over the rest.
		sleep 35
		c0=$(for p in $CPS; do cpu_s "$p"; done | paste -sd' ') t0=$(date +%s.%N)
		s0=$(du -sbc "$D"/*/data | tail -n 1 | cut -f1) d0=0 g0=0
		[ "$MODE" = sqlite ] || { d0=$(db_bytes) g0=$(pg_cpu_s); }
		e0=$(metric vigil_alert_evaluation_seconds_total) n0=$(metric vigil_alert_evaluations_total)
		if [ -n "${CONFIG_CHANGE:-}" ]; then
			sleep 10
			curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
				--data-binary '{"config":"[probe \"bench-sshd\"]\ntype=tcp\naddress=127.0.0.1:22\n"}' \
				"http://127.0.0.1:$HTTP/api/v1/config-groups/bench" || fail "the config group"
		fi
		wait "$LP" || { cat "$D/load.out"; exit 1; }
		c1=$(for p in $CPS; do cpu_s "$p"; done | paste -sd' ') t1=$(date +%s.%N)
		s1=$(du -sbc "$D"/*/data | tail -n 1 | cut -f1) d1=0 g1=0
		[ "$MODE" = sqlite ] || { d1=$(db_bytes) g1=$(pg_cpu_s); }
		e1=$(metric vigil_alert_evaluation_seconds_total) n1=$(metric vigil_alert_evaluations_total)
		load=$(awk '/^agents/ { print }' "$D/load.out")
		rss=$(for p in $CPS; do rss_mb "$p"; done | sort -n | tail -n 1)
		for p in $CPS; do kill "$p"; wait "$p" || true; done
		[ "$MODE" = sqlite ] || bench_pg_stop
		python3 - "$MODE" "$N" "$c0" "$c1" "$t0" "$t1" "$s0" "$s1" "$d0" "$d1" "$g0" "$g1" "$e0" "$e1" "$n0" "$n1" \
			"$rss" "$load" <<'PYEOF'
import sys
a = sys.argv
mode, n = a[1], a[2]
c0, c1 = [float(x) for x in a[3].split()], [float(x) for x in a[4].split()]
t0, t1, s0, s1, d0, d1, g0, g1, e0, e1, n0, n1 = map(float, a[5:17])
rss, load = a[17], dict(zip(*[iter(a[18].split())] * 2))
span = t1 - t0
cores = max(b - x for x, b in zip(c0, c1)) / span
evals = n1 - n0
mbh = lambda x, y: (y - x) / span * 3600 / 2**20
print("%-6s %-7s %8.3f %8.2fx %8s %8.1f %9.1f %9.1f %11.1f %8.3f %9.1f %8.2f %8s" % (
    mode, n, cores, cores / 0.5, rss, int(load["p50_us"]) / 1000, int(load["p99_us"]) / 1000,
    (e1 - e0) / evals * 1000 if evals else float("nan"), mbh(s0, s1), (g1 - g0) / span, mbh(d0, d1),
    float(load["cpu_s"]) / float(load["seconds"]), load["retry"]))
PYEOF
		cat "$D/load.out"
	done
done

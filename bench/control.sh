#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/control.sh [AGENTS] [CHANGES]: how soon a config group's change is
# in force on a fleet (docs/control.md). AGENTS real vigil-agent processes
# (default 50) send to one collector; each of CHANGES (default 5) new
# versions of a group selecting them all is PUT through the API, and the
# time until each agent has written it to its central.conf is taken
# (polled every 20 ms). Prints, per change, the first, median, 99th and
# last agent's delay, and the CPU seconds the collector and the agents
# spent over the whole run. No Debian package does this (Zabbix's
# templates need its server and a database), so there is no peer to run
# beside it; the figure to compare with is the batch interval an agent
# hears from the collector at ([batch] max_delay_ms, heartbeat).
set -eu
. "$(dirname "$0")/lib.sh"
N=${1:-50}
CHANGES=${2:-5}
bench_setup control ""
IP=$(port) HP=$(port)
cat > "$W/collector.conf" <<EOC
[ingest]
listen=tcp://127.0.0.1:$IP
[storage]
data_dir=$W/data
sync=no
[http]
listen=127.0.0.1:$HP
EOC
"$B/vigil-collector" --config "$W/collector.conf" > "$W/collector.log" 2>&1 &
CPID=$!
pids="$pids $CPID"
wait_for 10 "the collector" curl -s -o /dev/null "http://127.0.0.1:$HP/api/v1/hosts"
TOKEN=$("$B/vigil-collector" --config "$W/collector.conf" --create-token "bench-$RANDOM" --role admin)
echo x > "$W/present"
APIDS=""
for i in $(seq 1 "$N"); do
	cat > "$W/agent-$i.conf" <<EOC
[agent]
state_dir=$W/state-$i
id=$(printf '%032x' "$i")
hostname=bench-$i
labels=zone=bench role=web
heartbeat=1s
[collector]
address=tcp://127.0.0.1:$IP
[metrics]
enabled=no
[spool]
sync=no
[central]
allow_paths=$W/*
EOC
	"$B/vigil-agent" --config "$W/agent-$i.conf" > "$W/agent-$i.log" 2>&1 &
	pids="$pids $!"
	APIDS="$APIDS $!"
done
sleep 3
cpu() { # PIDS: user+system seconds
	for p in "$@"; do awk '{ print $14 + $15 }' "/proc/$p/stat"; done | awk -v hz="$(getconf CLK_TCK)" '{ s += $1 } END { printf "%.2f", s / hz }'
}
c0=$(cpu "$CPID")
# shellcheck disable=SC2086
a0=$(cpu $APIDS)
echo "agents=$N changes=$CHANGES (each agent: heartbeat 1s, batches of 500 ms at most)"
printf '%-8s %8s %8s %8s %8s\n' change first_s p50_s p99_s last_s
for v in $(seq 1 "$CHANGES"); do
	body="{\"selector\":\"zone=bench\",\"config\":\"# change $v\\n[probe \\\"present\\\"]\\ntype=file\\npath=$W/present\\ninterval=${v}0s\\n\"}"
	t0=$(date +%s.%N)
	curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		--data-binary "$body" "http://127.0.0.1:$HP/api/v1/config-groups/bench" || fail "PUT"
	python3 - "$W" "$N" "$v" "$t0" <<'PYEOF'
import os, sys, time
w, n, v, t0 = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
mark = f"# group bench (version {v})"
done = {}
deadline = time.time() + 60
while len(done) < n and time.time() < deadline:
    for i in range(1, n + 1):
        if i in done:
            continue
        try:
            with open(f"{w}/state-{i}/central.conf") as f:
                if mark in f.read():
                    done[i] = time.time() - t0
        except FileNotFoundError:
            pass
    time.sleep(0.02)
d = sorted(done.values())
if len(d) < n:
    sys.exit(f"only {len(d)} of {n} agents had version {v} after 60 s")
print(f"{v:<8} {d[0]:8.2f} {d[len(d) // 2]:8.2f} {d[min(len(d) - 1, (99 * len(d)) // 100)]:8.2f} {d[-1]:8.2f}")
PYEOF
done
# shellcheck disable=SC2086
echo "cpu seconds over the run: collector $(echo "$(cpu "$CPID") - $c0" | bc), agents $(echo "$(cpu $APIDS) - $a0" | bc) (all $N)"
grep -h "refused" "$W"/agent-*.log | head -3 || true

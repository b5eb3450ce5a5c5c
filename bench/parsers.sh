#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/parsers.sh [LINES]: what making fields of lines costs, in one run:
# the same nginx access log (combined + $request_time) through agent and
# collector as plain lines, parsed by the agent (format=nginx; and the same
# lines as JSON with format=json), and parsed with a log metric at the
# collector (p99 of request_time by status class). Prints CPU seconds per
# million lines of agent and collector and the ratios to the plain run.
set -eu
. "$(dirname "$0")/lib.sh"
N=${1:-500000}
bench_setup parsers ""

echo "generating $N access log lines (and as JSON)..."
python3 - "$W" "$N" <<'PYEOF'
import json, random, sys
w, n = sys.argv[1], int(sys.argv[2])
r = random.Random(20261202)
paths = ["/api/v1/license/query", "/api/v1/permit/apply", "/gateway/exchange/push", "/health"]
with open(f"{w}/access.log", "w") as a, open(f"{w}/access.json", "w") as j:
    for i in range(n):
        ip = f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
        req = f"{r.choice(['GET', 'POST'])} {r.choice(paths)}?id={r.getrandbits(40):x} HTTP/1.1"
        st = r.choice([200] * 20 + [302, 404, 500, 502])
        rt = round(r.lognormvariate(-3, 1), 3)
        a.write(f'{ip} - - [21/Nov/2026:08:{i // 60000 % 60:02d}:{i // 1000 % 60:02d} +0800] "{req}" {st} '
                f'{r.randint(120, 98000)} "-" "okhttp/4.9.3" {rt}\n')
        j.write(json.dumps({"remote_addr": ip, "request": req, "status": st, "request_time": rt,
                            "level": "info", "ua": "okhttp/4.9.3"}) + "\n")
PYEOF

cpu() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }

# run NAME FILE AGENT_EXTRA COLLECTOR_EXTRA: sets CPU_A and CPU_C (seconds)
run() {
	local d="$W/$1" ip hp token va vc
	ip=$(port) hp=$(port)
	mkdir -p "$d/in"
	printf '[ingest]\nlisten=tcp://127.0.0.1:%s\n[storage]\ndata_dir=%s/data\n[http]\nlisten=127.0.0.1:%s\n%s\n' \
		"$ip" "$d" "$hp" "$4" > "$d/collector.conf"
	printf '[agent]\nstate_dir=%s/state\nid=0123456789abcdef0123456789abcdef\ninventory=no\nheartbeat=0\n[metrics]\nenabled=no\n[collector]\naddress=tcp://127.0.0.1:%s\n[tail "web"]\npath=%s/in/lines.log\n%s\n' \
		"$d" "$ip" "$d" "$3" > "$d/agent.conf"
	token=$("$B/vigil-collector" --config "$d/collector.conf" --create-token bench --role admin)
	"$B/vigil-collector" --config "$d/collector.conf" 2> "$d/collector.log" &
	vc=$!; pids="$pids $vc"
	for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$hp/metrics" && break; sleep 0.1; done
	cat "$2" > /dev/null
	ln "$2" "$d/in/lines.log"
	"$B/vigil-agent" --config "$d/agent.conf" 2> "$d/agent.log" &
	va=$!; pids="$pids $va"
	stored() { curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$hp/metrics" | awk '$1 == "vigil_ingest_records_total" { print $2 }'; }
	for _ in $(seq 6000); do [ "$(stored)" = "$N" ] && break; sleep 0.05; done
	[ "$(stored)" = "$N" ] || { echo "$1: not all lines stored"; exit 1; }
	CPU_A=$(cpu $va) CPU_C=$(cpu $vc)
	kill $va $vc; wait $va $vc 2>/dev/null || true
}

NGINX='[parser "nginx"]
format=nginx
pattern=$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time'
METRIC='[logmetric "web"]
query=source:web
value=request_time
labels=status_class
step=1m'
run plain "$W/access.log" "" ""
P_A=$CPU_A P_C=$CPU_C
run nginx "$W/access.log" "parser=nginx
$NGINX" ""
N_A=$CPU_A N_C=$CPU_C
run json "$W/access.json" "parser=json
[parser \"json\"]
format=json" ""
J_A=$CPU_A J_C=$CPU_C
run metric "$W/access.log" "parser=nginx
$NGINX" "$METRIC"
M_A=$CPU_A M_C=$CPU_C

per() { printf %.2f "$(echo "$1 * 1000000 / $N" | bc -l)"; }
ratio() { printf %.2f "$(echo "$1 / $2" | bc -l)"; }
printf '\n%d lines on %s (%d cores): CPU seconds per million lines\n\n' "$N" "$(uname -m)" "$(nproc)"
printf '%-44s %8s %10s %8s %10s\n' "" "agent" "vs plain" "collector" "vs plain"
printf '%-44s %8s %10s %8s %10s\n' "plain lines (no parser)" "$(per $P_A)" "1.00" "$(per $P_C)" "1.00"
printf '%-44s %8s %10s %8s %10s\n' "format=nginx (combined + request_time)" "$(per $N_A)" "$(ratio $N_A $P_A)" "$(per $N_C)" "$(ratio $N_C $P_C)"
printf '%-44s %8s %10s %8s %10s\n' "format=json (6 keys; its own lines)" "$(per $J_A)" "$(ratio $J_A $P_A)" "$(per $J_C)" "$(ratio $J_C $P_C)"
printf '%-44s %8s %10s %8s %10s\n' "format=nginx + [logmetric] p99 by status" "$(per $M_A)" "$(ratio $M_A $P_A)" "$(per $M_C)" "$(ratio $M_C $P_C)"

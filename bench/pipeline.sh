#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/pipeline.sh [LINES]: file -> shipper -> receiver -> disk, side by side
# in one run:
#   vigil:   vigil-agent -> nng -> vigil-collector -> SQLite (fsync on both sides)
#   rsyslog: imfile -> omfwd TCP -> imtcp -> omfile, two rsyslogd on 127.0.0.1
# Prints lines/s, MB/s, CPU seconds per process, peak RSS, and the ratios.
# VIGIL_AGENT_EXTRA appends INI text to the agent's config (for experiments).
set -eu
. "$(dirname "$0")/lib.sh"
N=${1:-1000000}
bench_setup bench rsyslog

echo "generating $N lines..."
python3 "$top/bench/genlines.py" "$W/lines.log" "$N"
BYTES=$(stat -c %s "$W/lines.log")
cat "$W/lines.log" > /dev/null  # both runs start from the page cache

# cpu PID: user+system seconds; rss PID: peak RSS in MB
cpu() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }
rss() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
now() { date +%s.%N; }

# ---- vigil
IP=$(port) HP=$(port)
mkdir -p "$W/vigil/in"
cat > "$W/vigil/collector.conf" <<EOC
[ingest]
listen=tcp://127.0.0.1:$IP
[storage]
data_dir=$W/vigil/data
[http]
listen=127.0.0.1:$HP
EOC
cat > "$W/vigil/agent.conf" <<EOC
[agent]
state_dir=$W/vigil/state
id=0123456789abcdef0123456789abcdef
# A log shipper only, like rsyslog here: the stored count is the lines.
inventory=no
heartbeat=0
[metrics]
enabled=no
[collector]
address=tcp://127.0.0.1:$IP
[tail "bench"]
path=$W/vigil/in/lines.log
${VIGIL_AGENT_EXTRA:-}
EOC
TOKEN=$("$B/vigil-collector" --config "$W/vigil/collector.conf" --create-token bench --role admin)
"$B/vigil-collector" --config "$W/vigil/collector.conf" 2> "$W/vigil/collector.log" &
VC=$!; pids="$pids $VC"
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$HP/metrics" && break; sleep 0.1; done
ln "$W/lines.log" "$W/vigil/in/lines.log"
t0=$(now)
"$B/vigil-agent" --config "$W/vigil/agent.conf" 2> "$W/vigil/agent.log" &
VA=$!; pids="$pids $VA"
stored() { curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HP/metrics" | awk '$1 == "vigil_ingest_records_total" { print $2 }'; }
for _ in $(seq 6000); do [ "$(stored)" = "$N" ] && break; sleep 0.05; done
t1=$(now)
[ "$(stored)" = "$N" ] || { echo "vigil did not store all lines"; exit 1; }
V_T=$(echo "$t1 - $t0" | bc -l)
V_ACPU=$(cpu $VA) V_CCPU=$(cpu $VC) V_ARSS=$(rss $VA) V_CRSS=$(rss $VC)
V_DISK=$(du -sb "$W/vigil/data" | cut -f1)
kill $VA $VC; wait $VA $VC 2>/dev/null || true

# ---- rsyslog
RP=$(port)
mkdir -p "$W/rs/in" "$W/rs/work-s" "$W/rs/work-r"
cat > "$W/rs/recv.conf" <<EOC
global(workDirectory="$W/rs/work-r" maxMessageSize="64k")
module(load="imtcp")
template(name="raw" type="string" string="%msg%\n")
ruleset(name="out") {
  action(type="omfile" file="$W/rs/out.log" template="raw" asyncWriting="on" ioBufferSize="256k" flushOnTXEnd="off")
}
input(type="imtcp" port="$RP" ruleset="out")
EOC
cat > "$W/rs/send.conf" <<EOC
global(workDirectory="$W/rs/work-s" maxMessageSize="64k")
module(load="imfile" mode="inotify")
ruleset(name="fwd") {
  action(type="omfwd" target="127.0.0.1" port="$RP" protocol="tcp" template="RSYSLOG_ForwardFormat"
         queue.type="LinkedList" queue.size="200000" queue.dequeueBatchSize="2048")
}
input(type="imfile" file="$W/rs/in/lines.log" tag="bench" ruleset="fwd" freshStartTail="off")
EOC
rsyslogd -n -f "$W/rs/recv.conf" -i "$W/rs/recv.pid" 2> "$W/rs/recv.log" &
RR=$!; pids="$pids $RR"
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$RP) 2>/dev/null && break; sleep 0.1; done
ln "$W/lines.log" "$W/rs/in/lines.log"
t0=$(now)
rsyslogd -n -f "$W/rs/send.conf" -i "$W/rs/send.pid" 2> "$W/rs/send.log" &
RS=$!; pids="$pids $RS"
lines_out() { [ -f "$W/rs/out.log" ] && wc -l < "$W/rs/out.log" || echo 0; }
for _ in $(seq 6000); do [ "$(lines_out)" -ge "$N" ] && break; sleep 0.05; done
t1=$(now)
R_T=$(echo "$t1 - $t0" | bc -l)
R_GOT=$(lines_out)
R_SCPU=$(cpu $RS) R_RCPU=$(cpu $RR) R_SRSS=$(rss $RS) R_RRSS=$(rss $RR)
kill $RS $RR; wait $RS $RR 2>/dev/null || true

MB=$(echo "$BYTES / 1048576" | bc -l)
printf '\n%d lines, %.1f MB, on %s (%d cores)\n\n' "$N" "$MB" "$(uname -m)" "$(nproc)"
printf '%-34s %14s %14s %10s\n' "" "vigil" "rsyslog" "ratio"
row() { printf '%-34s %14s %14s %10s\n' "$1" "$2" "$3" "$(echo "scale=2; $2 / $3" | bc -l 2>/dev/null || echo -)"; }
row "seconds until all stored" "$(printf %.2f "$V_T")" "$(printf %.2f "$R_T")"
row "lines/s" "$(printf %.0f "$(echo "$N / $V_T" | bc -l)")" "$(printf %.0f "$(echo "$R_GOT / $R_T" | bc -l)")"
row "MB/s" "$(printf %.1f "$(echo "$MB / $V_T" | bc -l)")" "$(printf %.1f "$(echo "$MB * $R_GOT / $N / $R_T" | bc -l)")"
row "CPU s, shipper (agent / imfile)" "$V_ACPU" "$R_SCPU"
row "CPU s, receiver (collector / imtcp)" "$V_CCPU" "$R_RCPU"
row "CPU s, total" "$(echo "$V_ACPU + $V_CCPU" | bc -l)" "$(echo "$R_SCPU + $R_RCPU" | bc -l)"
row "CPU s per million lines" "$(printf %.2f "$(echo "($V_ACPU + $V_CCPU) * 1000000 / $N" | bc -l)")" \
	"$(printf %.2f "$(echo "($R_SCPU + $R_RCPU) * 1000000 / $R_GOT" | bc -l)")"
row "peak RSS MB, shipper" "$V_ARSS" "$R_SRSS"
row "peak RSS MB, receiver" "$V_CRSS" "$R_RRSS"
row "bytes on disk per line" "$(printf %.1f "$(echo "$V_DISK / $N" | bc -l)")" \
	"$(printf %.1f "$(echo "$(stat -c %s "$W/rs/out.log") / $R_GOT" | bc -l)")"
echo
echo "vigil: durable (fsync at every spool and storage commit), compressed, indexed, queryable."
echo "rsyslog: in-memory queues, plain text file; lines received: $R_GOT of $N."

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/pipeline.sh [LINES]: file -> shipper -> receiver -> disk, side by side
# in one run:
#   vigil:     vigil-agent -> nng -> vigil-collector -> SQLite (fsync on both sides)
#   rsyslog:   imfile -> omfwd TCP -> imtcp -> omfile, two rsyslogd on 127.0.0.1
#   syslog-ng: file() -> network() TCP -> network() -> file(), two syslog-ng on
#              127.0.0.1 (Debian's syslog-ng conflicts with rsyslog: it is
#              unpacked privately, with the libraries it needs, apt-get download
#              and dpkg -x)
#   zstd -1 -T1 on the same file: the floor of a compressing shipper's CPU
# Prints lines/s, MB/s, CPU seconds per process, peak RSS, and the ratios,
# vigil's CPU among them as a multiple of zstd's (issue 18's target: 1.9).
# VIGIL_AGENT_EXTRA appends INI text to the agent's config (for experiments).
set -eu
. "$(dirname "$0")/lib.sh"
N=${1:-1000000}
bench_setup bench "rsyslog zstd"

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

# ---- syslog-ng, unpacked privately
SNG=$W/sng
mkdir -p "$SNG/debs" "$SNG/root" "$SNG/in"
(cd "$SNG/debs" && apt-get download -q syslog-ng-core libivykis0 libnet1 libwrap0 libcap2 > "$SNG/download.log" 2>&1) ||
	{ echo "cannot download syslog-ng: $(tail -3 "$SNG/download.log")"; exit 1; }
for f in "$SNG/debs"/*.deb; do dpkg -x "$f" "$SNG/root"; done
SNG_BIN=$SNG/root/usr/sbin/syslog-ng
SNG_MODULES=$(dirname "$(find "$SNG/root" -name 'libaffile.so' | head -1)")
SNG_LIBS=$(find "$SNG/root" -name '*.so*' -printf '%h\n' | sort -u | tr '\n' ':')
SNG_VERSION=$(LD_LIBRARY_PATH=$SNG_LIBS "$SNG_BIN" --version | awk '/^Config version:/ { print $3 }')
SP=$(port)
cat > "$SNG/recv.conf" <<EOC
@version: $SNG_VERSION
options { flush_lines(1000); keep_hostname(yes); stats_freq(0); };
source s_net { network(ip("127.0.0.1") port($SP) transport("tcp") log_iw_size(200000) max_connections(4)); };
destination d_file { file("$SNG/out.log" template("\$MSG\n")); };
log { source(s_net); destination(d_file); };
EOC
cat > "$SNG/send.conf" <<EOC
@version: $SNG_VERSION
options { stats_freq(0); };
source s_file { file("$SNG/in/lines.log" flags(no-parse) follow_freq(1) log_fetch_limit(2000) log_iw_size(200000)); };
destination d_net { network("127.0.0.1" port($SP) transport("tcp") log_fifo_size(200000)); };
log { source(s_file); destination(d_net); };
EOC
sng() { # name: a syslog-ng of its own config, persist file and control socket
	LD_LIBRARY_PATH=$SNG_LIBS "$SNG_BIN" -F --no-caps -f "$SNG/$1.conf" --module-path="$SNG_MODULES" \
		-R "$SNG/$1.persist" -p "$SNG/$1.pid" -c "$SNG/$1.ctl" 2> "$SNG/$1.log" &
}
sng recv
SR=$!; pids="$pids $SR"
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$SP) 2>/dev/null && break; sleep 0.1; done
ln "$W/lines.log" "$SNG/in/lines.log"
t0=$(now)
sng send
SS=$!; pids="$pids $SS"
sng_out() { [ -f "$SNG/out.log" ] && wc -l < "$SNG/out.log" || echo 0; }
for _ in $(seq 6000); do [ "$(sng_out)" -ge "$N" ] && break; sleep 0.05; done
t1=$(now)
S_T=$(echo "$t1 - $t0" | bc -l)
S_GOT=$(sng_out)
S_SCPU=$(cpu $SS) S_RCPU=$(cpu $SR) S_SRSS=$(rss $SS) S_RRSS=$(rss $SR)
kill $SS $SR; wait $SS $SR 2>/dev/null || true

# ---- zstd -1 -T1: compressing the same file once, the least a compressing shipper spends
# (the median of three: the ratio's denominator is under a second, and this machine's noise is not)
TIMEFORMAT=%U+%S
Z_CPU=$(for _ in 1 2 3; do { time zstd -q -1 -T1 -c "$W/lines.log" > /dev/null; } 2>&1 | bc -l; done | sort -n | sed -n 2p)

MB=$(echo "$BYTES / 1048576" | bc -l)
printf '\n%d lines, %.1f MB, on %s (%d cores)\n\n' "$N" "$MB" "$(uname -m)" "$(nproc)"
printf '%-36s %11s %11s %11s %9s %9s\n' "" "vigil" "rsyslog" "syslog-ng" "/rsyslog" "/syslog-ng"
ratio() { printf %.2f "$(echo "$1 / $2" | bc -l 2>/dev/null)" 2>/dev/null || echo -; }
row() { printf '%-36s %11s %11s %11s %9s %9s\n' "$1" "$2" "$3" "$4" "$(ratio "$2" "$3")" "$(ratio "$2" "$4")"; }
rate() { printf %.0f "$(echo "$1 / $2" | bc -l)"; }
mbps() { printf %.1f "$(echo "$MB * $1 / $N / $2" | bc -l)"; }
per_m() { printf %.2f "$(echo "($1) * 1000000 / $2" | bc -l)"; }
disk() { printf %.1f "$(echo "$1 / $2" | bc -l)"; }
row "seconds until all stored" "$(printf %.2f "$V_T")" "$(printf %.2f "$R_T")" "$(printf %.2f "$S_T")"
row "lines/s" "$(rate "$N" "$V_T")" "$(rate "$R_GOT" "$R_T")" "$(rate "$S_GOT" "$S_T")"
row "MB/s" "$(mbps "$N" "$V_T")" "$(mbps "$R_GOT" "$R_T")" "$(mbps "$S_GOT" "$S_T")"
row "CPU s, shipper" "$V_ACPU" "$R_SCPU" "$S_SCPU"
row "CPU s, receiver" "$V_CCPU" "$R_RCPU" "$S_RCPU"
row "CPU s, total" "$(echo "$V_ACPU + $V_CCPU" | bc -l)" "$(echo "$R_SCPU + $R_RCPU" | bc -l)" "$(echo "$S_SCPU + $S_RCPU" | bc -l)"
row "CPU s per million lines" "$(per_m "$V_ACPU + $V_CCPU" "$N")" "$(per_m "$R_SCPU + $R_RCPU" "$R_GOT")" \
	"$(per_m "$S_SCPU + $S_RCPU" "$S_GOT")"
row "peak RSS MB, shipper" "$V_ARSS" "$R_SRSS" "$S_SRSS"
row "peak RSS MB, receiver" "$V_CRSS" "$R_RRSS" "$S_RRSS"
row "bytes on disk per line" "$(disk "$V_DISK" "$N")" "$(disk "$(stat -c %s "$W/rs/out.log")" "$R_GOT")" \
	"$(disk "$(stat -c %s "$SNG/out.log")" "$S_GOT")"
echo
printf 'zstd -1 -T1 on the same file: %.2f CPU s; vigil (agent + collector) / zstd: %.2f (target 1.9)\n' "$Z_CPU" \
	"$(echo "($V_ACPU + $V_CCPU) / $Z_CPU" | bc -l)"
echo "vigil: durable (fsync at every spool and storage commit), compressed, indexed, queryable."
echo "rsyslog: in-memory queues, plain text file; lines received: $R_GOT of $N."
echo "syslog-ng $SNG_VERSION: in-memory queues, plain text file; lines received: $S_GOT of $N."

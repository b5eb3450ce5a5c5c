#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/footprint.sh [SECONDS]: the agent's footprint next to Debian's
# zabbix-agent and monit, all three running at once, each doing 20 checks
# every 10 s against the same targets on 127.0.0.1:
#   5 TCP connects, 5 HTTP requests, 4 process lookups, 4 file checks,
#   2 Nagios plugins (check_tcp) run as child processes;
# vigil also follows a journal that gets 10 entries a second (neither peer
# reads the journal) and sends host metrics every 10 s.
# After SECONDS (default 60): RSS and PSS summed over each process tree
# (from /proc/PID/smaps_rollup), threads, and CPU seconds per hour
# extrapolated from the measured window (user + system, reaped children
# included), after 10 s to settle.
# zabbix_agentd answers passive checks, so a small poller plays its server.
# VIGIL_AGENT_EXTRA appends INI text to the agent's config (for experiments);
# VIGIL_AGENT runs another build's vigil-agent (to compare two builds).
set -eu
. "$(dirname "$0")/lib.sh"
SECS=${1:-60}
bench_setup footprint "zabbix-agent monit"
PLUGINS=/usr/lib/nagios/plugins
REMOTE=/usr/lib/systemd/systemd-journal-remote
[ -x "$REMOTE" ] || REMOTE=/lib/systemd/systemd-journal-remote

# ---- the targets: a collector (its HTTP API is the TCP and HTTP target), files
# zabbix_agentd takes ListenPort up to 32767 only.
zport() { python3 -c 'import random, socket
for p in random.sample(range(20000, 32768), 200):
    try:
        socket.socket().bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass'; }
IP=$(port) HP=$(port) ZP=$(zport)
mkdir -p "$W/files" "$W/journal"
for i in 1 2 3 4; do echo "target $i" > "$W/files/f$i"; done
cat > "$W/collector.conf" <<EOC
[ingest]
listen=tcp://127.0.0.1:$IP
[storage]
data_dir=$W/data
[http]
listen=127.0.0.1:$HP
EOC
"$B/vigil-collector" --config "$W/collector.conf" > "$W/collector.log" 2>&1 &
pids="$pids $!"
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$HP/api/v1/hosts" && break; sleep 0.1; done

# ---- a journal written as a host's would be: 10 entries a second
python3 -u - <<'PYEOF' | "$REMOTE" --output="$W/journal/remote.journal" - > "$W/remote.log" 2>&1 &
import sys, time
n = 0
while True:
    for _ in range(10):
        n += 1
        ts = int(time.time() * 1e6)
        sys.stdout.write(f"__REALTIME_TIMESTAMP={ts}\n__MONOTONIC_TIMESTAMP={n}\n_BOOT_ID=0123456789abcdef0123456789abcdef\n"
                         f"_HOSTNAME=bench\nSYSLOG_IDENTIFIER=bench\nPRIORITY=6\n_SYSTEMD_UNIT=bench.service\n"
                         f"MESSAGE=journal entry {n} from a service that talks a little\n\n")
    sys.stdout.flush()
    time.sleep(1)
PYEOF
pids="$pids $!"

# ---- vigil
{
	cat <<EOC
[agent]
state_dir=$W/vigil-state
id=0123456789abcdef0123456789abcdef
[collector]
address=tcp://127.0.0.1:$IP
[journal]
enabled=yes
directory=$W/journal
EOC
	for i in 1 2 3 4 5; do printf '[probe "tcp%s"]\ntype=tcp\naddress=127.0.0.1:%s\n' "$i" "$HP"; done
	for i in 1 2 3 4 5; do
		printf '[probe "http%s"]\ntype=http\nurl=http://127.0.0.1:%s/api/v1/hosts\nexpect_status=401\n' "$i" "$HP"
	done
	for i in 1 2 3 4; do printf '[probe "proc%s"]\ntype=process\ncmdline=vigil-collector\n' "$i"; done
	for i in 1 2 3 4; do printf '[probe "file%s"]\ntype=file\npath=%s/files/f%s\nmax_age=1d\n' "$i" "$W" "$i"; done
	for i in 1 2; do
		printf '[probe "plugin%s"]\ntype=command\ncommand=%s/check_tcp -H 127.0.0.1 -p %s\n' "$i" "$PLUGINS" "$HP"
	done
	echo "${VIGIL_AGENT_EXTRA:-}"
} > "$W/agent.conf"
"${VIGIL_AGENT:-$B/vigil-agent}" --config "$W/agent.conf" > "$W/agent.log" 2>&1 &
VIGIL=$!
pids="$pids $VIGIL"

# ---- zabbix_agentd (Debian's defaults: StartAgents=3), polled as its server would
cat > "$W/zabbix_agentd.conf" <<EOC
Server=127.0.0.1
ListenIP=127.0.0.1
ListenPort=$ZP
LogFile=$W/zabbix.log
PidFile=$W/zabbix.pid
AllowKey=system.run[*]
AllowRoot=1
EOC
zabbix_agentd -f -c "$W/zabbix_agentd.conf" > /dev/null 2>&1 &
ZABBIX=$!
# Its listeners outlive a kill -9 of the parent: SIGTERM, which stops them too, and a wait for it.
stop_zabbix() {
	kill "$ZABBIX" 2>/dev/null || return 0
	for _ in $(seq 50); do kill -0 "$ZABBIX" 2>/dev/null || return 0; sleep 0.1; done
}
at_exit="$at_exit stop_zabbix"
pids="$pids $ZABBIX"
python3 - "$ZP" "$HP" "$W" "$PLUGINS" <<'PYEOF' > "$W/zabbix-poller.log" 2>&1 &
# The passive protocol: "ZBXD\x01", the key's length (8 bytes LE), the key.
import socket, struct, sys, time
zp, hp, w, plugins = sys.argv[1:]
keys = ([f"net.tcp.port[127.0.0.1,{hp}]"] * 5 + [f"web.page.regexp[127.0.0.1,/api/v1/hosts,{hp},401]"] * 5
        + ["proc.num[,,,vigil-collector]"] * 4 + [f"vfs.file.time[{w}/files/f{i}]" for i in range(1, 5)]
        + [f"system.run[{plugins}/check_tcp -H 127.0.0.1 -p {hp}]"] * 2)
while True:
    for k in keys:
        try:
            with socket.create_connection(("127.0.0.1", int(zp)), 5) as c:
                c.sendall(b"ZBXD\x01" + struct.pack("<Q", len(k)) + k.encode())
                while c.recv(4096):
                    pass
        except OSError as e:
            print(k, e, flush=True)
    time.sleep(10)
PYEOF
pids="$pids $!"

# ---- monit
cat > "$W/monitrc" <<EOC
set daemon 10
set pidfile $W/monit.pid
set idfile $W/monit.id
set statefile $W/monit.state
set logfile $W/monit.log
EOC
for i in 1 2 3 4 5; do printf 'check host tcp%s with address 127.0.0.1\n  if failed port %s then alert\n' "$i" "$HP"; done >> "$W/monitrc"
for i in 1 2 3 4 5; do
	printf 'check host http%s with address 127.0.0.1\n  if failed port %s protocol http request "/api/v1/hosts" status = 401 then alert\n' "$i" "$HP"
done >> "$W/monitrc"
for i in 1 2 3 4; do printf 'check process proc%s matching "vigil-collector"\n' "$i"; done >> "$W/monitrc"
for i in 1 2 3 4; do printf 'check file file%s with path %s/files/f%s\n  if timestamp > 1 day then alert\n' "$i" "$W" "$i"; done >> "$W/monitrc"
for i in 1 2; do
	printf 'check program plugin%s with path "%s/check_tcp -H 127.0.0.1 -p %s"\n  if status != 0 then alert\n' "$i" "$PLUGINS" "$HP"
done >> "$W/monitrc"
chmod 600 "$W/monitrc"
monit -I -c "$W/monitrc" > /dev/null 2>&1 &
MONIT=$!
pids="$pids $MONIT"

# tree PID: the PID and its descendants
tree() { echo "$1"; for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree "$c"; done; }
# cpu PIDS...: clock ticks used (user + system, reaped children included)
cpu() { for p in "$@"; do awk '{ print $14 + $15 + $16 + $17 }' "/proc/$p/stat" 2>/dev/null; done | awk '{ s += $1 } END { print s + 0 }'; }
declare -A ROOT=([vigil]=$VIGIL [zabbix]=$ZABBIX [monit]=$MONIT) C0
echo "running vigil-agent, zabbix_agentd and monit side by side: 10 s to settle, then ${SECS}s measured..."
sleep 10
T0=$(date +%s.%N)
for name in vigil zabbix monit; do C0[$name]=$(cpu $(tree "${ROOT[$name]}")); done
sleep "$SECS"
T1=$(date +%s.%N)
# sum FIELD PIDS...: a smaps_rollup field (kB) summed, in MB
sum_smaps() {
	local f=$1
	shift
	for p in "$@"; do awk -v f="$f:" '$1 == f { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null; done |
		awk '{ s += $1 } END { printf "%.1f", s / 1024 }'
}
threads() { for p in "$@"; do awk '/^Threads:/ { print $2 }' "/proc/$p/status"; done | awk '{ s += $1 } END { print s }'; }
declare -A RSS PSS THR CPU NP
for name in vigil zabbix monit; do
	set -- $(tree "${ROOT[$name]}")
	NP[$name]=$#
	RSS[$name]=$(sum_smaps Rss "$@")
	PSS[$name]=$(sum_smaps Pss "$@")
	THR[$name]=$(threads "$@")
	CPU[$name]=$(awk -v c="$(( $(cpu "$@") - C0[$name] ))" -v t="$(getconf CLK_TCK)" -v a="$T0" -v b="$T1" \
		'BEGIN { printf "%.1f", c / t * 3600 / (b - a) }')
done
sent=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/api/v1/hosts")
[ "$sent" = 401 ] || echo "warning: the collector's API answered $sent"

printf '\n%-16s %9s %8s %8s %8s %12s\n' "" processes threads "RSS MB" "PSS MB" "CPU s/hour"
for name in vigil zabbix monit; do
	printf '%-16s %9s %8s %8s %8s %12s\n' "$name" "${NP[$name]}" "${THR[$name]}" "${RSS[$name]}" "${PSS[$name]}" "${CPU[$name]}"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
for peer in zabbix monit; do
	echo "vigil/$peer: RSS $(ratio "${RSS[vigil]}" "${RSS[$peer]}"), PSS $(ratio "${PSS[vigil]}" "${PSS[$peer]}"), CPU $(ratio "${CPU[vigil]}" "${CPU[$peer]}")"
done
grep -E "probe .*: (critical|warning|unknown)" "$W/agent.log" | head -5 || true

# What vigil's RSS and PSS are made of: its own heap and stacks, then the
# shared libraries by who brings them in (a library counts for the first
# group that needs it, in this order).
echo
echo "vigil-agent by mapping (MB):"
python3 - "$VIGIL" "${VIGIL_AGENT:-$B/vigil-agent}" <<'PYEOF'
import collections, subprocess, sys
pid, exe = sys.argv[1:]
def needs(lib):
    out = subprocess.run(["ldd", lib], capture_output=True, text=True).stdout
    return {l.split()[2] for l in out.splitlines() if "=>" in l and len(l.split()) > 2}
libs = needs(exe)
def path_of(soname):
    return next((l for l in libs if l.rsplit("/", 1)[-1] == soname), None)
groups = [("libc, libm, ld.so", ["libc.so.6", "libm.so.6"])]
for title, sonames in [("libsystemd and its libraries", ["libsystemd.so.0"]), ("SQLite", ["libsqlite3.so.0"]),
                       ("zstd", ["libzstd.so.1"]), ("nng and mbedtls", ["libnng.so.1"]),
                       ("OpenSSL (libcrypto, libssl)", ["libcrypto.so.3", "libssl.so.3"]),
                       ("libcurl and its libraries", ["libcurl.so.4"])]:
    groups.append((title, sonames))
owner, seen = {}, set()
for title, sonames in groups:
    for so in sonames:
        p = path_of(so)
        if not p:
            continue
        for lib in {p} | needs(p):
            real = subprocess.run(["readlink", "-f", lib], capture_output=True, text=True).stdout.strip()
            if real not in seen:
                seen.add(real)
                owner[real] = title
rss, pss = collections.Counter(), collections.Counter()
name = ""
for line in open(f"/proc/{pid}/smaps"):
    f = line.split()
    if "-" in f[0] and len(f) >= 5 and ":" not in f[0]:
        name = f[5] if len(f) > 5 else ""
        continue
    if f[0] not in ("Rss:", "Pss:"):
        continue
    if not name or name.startswith("["):
        key = "heap, stacks, anonymous"
    elif name.endswith(".journal"):
        key = "journal files (mapped)"
    elif name == subprocess.run(["readlink", "-f", exe], capture_output=True, text=True).stdout.strip():
        key = "vigil-agent itself"
    else:
        key = owner.get(name, "other libraries")
    (rss if f[0] == "Rss:" else pss)[key] += int(f[1])
for key, v in rss.most_common():
    print(f"  {key:32s} RSS {v / 1024:5.1f}  PSS {pss[key] / 1024:5.1f}")
PYEOF

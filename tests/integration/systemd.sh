#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The agent as a system service under a real systemd (PID 1 of a namespace
# over a Debian root), installed with the project's own unit, user and
# hardening: it starts (Type=notify), follows the local journal, and its unit
# probe sees a watched service stop, fail and start through PropertiesChanged
# (the probe's interval is 1 h, so only the signal can explain a prompt
# result); the test prints how long each change took to reach the collector's
# API. systemctl reload, a SIGKILL (Restart=on-failure) and stop work.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sandbox.sh"

sandbox_make_root

info "install the agent into the sandbox root's overlay"
mkdir -p "$SANDBOX_UP/usr/local/bin" "$SANDBOX_UP/etc/vigil" "$SANDBOX_UP/usr/lib/sysusers.d" \
	"$SANDBOX_UP/usr/lib/tmpfiles.d"
cp "$B/vigil-agent" "$SANDBOX_UP/usr/local/bin/"
sed -e 's|@bindir@|/usr/local/bin|g' -e 's|@sysconfdir@|/etc|g' "$S/packaging/vigil-agent.service.in" \
	> "$SANDBOX_UP/etc/systemd/system/vigil-agent.service"
cp "$S/packaging/vigil-agent.sysusers" "$SANDBOX_UP/usr/lib/sysusers.d/vigil-agent.conf"
cp "$S/packaging/vigil-agent.tmpfiles" "$SANDBOX_UP/usr/lib/tmpfiles.d/vigil-agent.conf"
if ldd "$B/vigil-agent" | grep -q libasan; then
	# LeakSanitizer stops the world with ptrace, which SystemCallFilter= forbids;
	# the other tests check leaks.
	mkdir -p "$SANDBOX_UP/etc/systemd/system/vigil-agent.service.d"
	printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n' \
		> "$SANDBOX_UP/etc/systemd/system/vigil-agent.service.d/asan.conf"
fi
MARK="vigil-systemd-test-$$"
cat > "$SANDBOX_UP/etc/systemd/system/web.service" <<EOF
[Unit]
Description=a service the agent watches
[Service]
ExecStart=/bin/sh -c 'echo "$MARK started"; exec sleep infinity'
EOF
cat > "$SANDBOX_UP/etc/vigil/agent.conf" <<EOF
[agent]
hostname=sandbox
heartbeat=0
[collector]
address=tcp://127.0.0.1:$INGEST_PORT
backoff_max=1s
[batch]
max_delay_ms=200
[journal]
enabled=yes
[probe "web"]
type=unit
unit=web.service
interval=1h
EOF

write_collector_conf
TOKEN=$(make_token operator)
start_collector
sandbox_boot

info "systemctl start: the agent signals READY as its own user"
sandbox systemctl start web.service vigil-agent.service || {
	sandbox journalctl -u vigil-agent --no-pager | tail -n 30
	fail "vigil-agent did not start"
}
show() { sandbox systemctl show -p "$2" --value "$1"; }
[ "$(show vigil-agent SubState)" = running ] || fail "vigil-agent: $(show vigil-agent SubState)"
AGENT_MAIN=$(show vigil-agent MainPID)
[ "$(sandbox stat -c %U "/proc/$AGENT_MAIN")" = vigil-agent ] || fail "the agent does not run as vigil-agent"
show vigil-agent StatusText | grep -q . || fail "no STATUS= from the agent"

probe_is() { "$PY" "$S/tests/integration/waitprobe.py" "$URL" "$TOKEN" sandbox web "$1" 0 -- true > /dev/null; }
wait_for 30 "web probe ok at the collector" probe_is ok
change() { # wanted-status systemctl-args...
	local want=$1 took
	shift
	took=$("$PY" "$S/tests/integration/waitprobe.py" "$URL" "$TOKEN" sandbox web "$want" 30 -- \
		nsenter -t "$SANDBOX_PID" -m -p -u chroot "$SANDBOX_MNT" systemctl "$@") ||
		fail "systemctl $* not seen as $want"
	echo "# systemctl $*: $want at the collector after $took"
}
change critical stop web.service
change ok start web.service
# The main process only: systemd 252 signalling the whole cgroup in the
# sandbox at times fails with EIO ("auxiliary processes").
change critical kill --kill-who=main -s KILL web.service
[ "$(show web SubState)" = failed ] || fail "web: $(show web SubState)"
change ok restart web.service

info "the watched service's journal entries reach the collector"
has_mark() { pull_messages "q=$MARK" | grep -q "$MARK started"; }
wait_for 30 "journal entry of web.service stored" has_mark

info "reload, then SIGKILL: systemd restarts the agent, which goes on"
sandbox systemctl reload vigil-agent.service || {
	sandbox journalctl -u vigil-agent --no-pager -o short-precise | tail -n 40
	fail "systemctl reload vigil-agent"
}
# systemctl reload returns once SIGHUP is sent; the agent says RELOADING=1, drains, then READY=1
# (under ASan on a loaded machine that can outlast the command: SubState "reload" until then).
reloaded() { [ "$(show vigil-agent SubState)" = running ]; }
wait_for 20 "vigil-agent running after its reload" reloaded
sandbox systemctl kill --kill-who=main -s KILL vigil-agent.service
restarted() { [ "$(show vigil-agent SubState)" = running ] && [ "$(show vigil-agent MainPID)" != "$AGENT_MAIN" ]; }
wait_for 20 "vigil-agent restarted" restarted
change critical stop web.service

info "systemctl stop: a clean exit"
sandbox systemctl stop vigil-agent.service
[ "$(show vigil-agent Result)" = success ] || fail "stop: Result=$(show vigil-agent Result)"
sandbox journalctl -u vigil-agent --no-pager > "$T/agent-journal.log" 2>&1 || true
sandbox_poweroff
echo "PASS"

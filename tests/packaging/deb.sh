#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# deb.sh DIR: the .debs of scripts/package.sh deb (in DIR) pass lintian, and
# behave under a real systemd (the sandbox's Debian 12 root) the way Debian's
# administrators expect: apt-get install makes the users, starts the
# collector and enables the agent without starting it; the agent, configured,
# enrolled with a token, ships its journal lines and probes to the collector
# over mutual TLS; configurations there before the packages are kept (their
# modes set); an upgrade keeps data
# and the edited configuration and restarts both; remove keeps data and
# configuration, purge deletes them.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/sandbox.sh"
DEBS=$(cd "${1:?usage: deb.sh DIR}" && pwd)
ARCH=$(dpkg --print-architecture)
VERSION=$(dpkg-deb -f "$DEBS/vigil-collector_"*"_$ARCH.deb" Version)
# Built with PostgreSQL ([storage] backend=postgresql): the collector needs libpq, the agent does not.
dpkg-deb -f "$DEBS/vigil-collector_"*"_$ARCH.deb" Depends | grep -q 'libpq5' || fail "the collector package does not depend on libpq5"
dpkg-deb -f "$DEBS/vigil-agent_"*"_$ARCH.deb" Depends | grep -q 'libpq5' && fail "the agent package depends on libpq5"

info "lintian: no errors, no warnings"
lintian --fail-on error,warning "$DEBS"/vigil*_"$VERSION"_"$ARCH".changes \
	> "$T/lintian.log" 2>&1 || fail "lintian: $(cat "$T/lintian.log")"

# A newer build of the same packages, for the upgrade: the version alone differs.
newer() { # deb
	local d=$T/repack/$(basename "$1" .deb)
	dpkg-deb -R "$1" "$d"
	sed -i "s/^Version: .*/Version: $VERSION+t1/" "$d/DEBIAN/control"
	dpkg-deb -b "$d" "$T/new/" > /dev/null
}
mkdir -p "$T/repack" "$T/new" "$SANDBOX_UP/root/old"
for p in vigil-agent vigil-collector vigilctl; do
	cp "$DEBS/${p}_${VERSION}_$ARCH.deb" "$SANDBOX_UP/root/old/"
	newer "$DEBS/${p}_${VERSION}_$ARCH.deb"
done
cp -r "$T/new" "$SANDBOX_UP/root/new"

# The administrator's configurations are there before the packages (the test's ports, not the
# defaults: the sandbox shares the host's network); dpkg keeps them, tmpfiles.d fixes the mode.
mkdir -p "$SANDBOX_UP/etc/vigil"
sed -e "s|^listen=tcp://127.0.0.1:5170|listen=tcp://127.0.0.1:$INGEST_PORT|" -e "s|^listen=127.0.0.1:8080|listen=127.0.0.1:$HTTP_PORT|" \
	"$S/packaging/collector.conf" > "$SANDBOX_UP/etc/vigil/collector.conf"
sed -e "s|^address=tcp://127.0.0.1:5170|address=tcp://127.0.0.1:$INGEST_PORT|" "$S/packaging/agent.conf" > "$SANDBOX_UP/etc/vigil/agent.conf"
# Enrollment on, as docs/operations.md says (the end of packaging/collector.conf), on the test's ports.
mkdir -p "$SANDBOX_UP/etc/vigil/collector.conf.d"
sed -n '/^# Enrollment:/,$ { s/^#\(\[enroll\]\|enabled=\|\[ingest\]\|tls_\|\[http\]\)/\1/p; s/^#names=.*/names=localhost 127.0.0.1/p;
	s|^#listen=tls+tcp://0.0.0.0:5171|listen=tls+tcp://127.0.0.1:'"$INGEST_PORT"'|p; s|^#listen=0.0.0.0:8443|listen=127.0.0.1:'"$HTTP_PORT"'|p; }' \
	"$S/packaging/collector.conf" > "$SANDBOX_UP/etc/vigil/collector.conf.d/50-enroll.conf"
[ "$(grep -c . "$SANDBOX_UP/etc/vigil/collector.conf.d/50-enroll.conf")" = 12 ] ||
	fail "packaging/collector.conf's enrollment block changed: $(cat "$SANDBOX_UP/etc/vigil/collector.conf.d/50-enroll.conf")"
URL="https://127.0.0.1:$HTTP_PORT"
# curl and pull.py trust the CA the collector makes at its first start.
export CURL_CA_BUNDLE="$SANDBOX_UP/var/lib/vigil/ca/ca.pem" SSL_CERT_FILE="$SANDBOX_UP/var/lib/vigil/ca/ca.pem"
sed -i 's/^\[agent\]$/[agent]\nhostname=pkg-host/' "$SANDBOX_UP/etc/vigil/agent.conf"
cat >> "$SANDBOX_UP/etc/vigil/agent.conf" <<EOF
[batch]
max_delay_ms=200
[probe "journald"]
type=unit
unit=systemd-journald.service
interval=2s
EOF
grep -q "$INGEST_PORT" "$SANDBOX_UP/etc/vigil/collector.conf" && grep -q "$HTTP_PORT" "$SANDBOX_UP/etc/vigil/collector.conf" &&
	grep -q "$INGEST_PORT" "$SANDBOX_UP/etc/vigil/agent.conf" || fail "packaging/*.conf no longer have the default addresses"
MARK="vigil-package-test-$$"

sandbox_make_root
sandbox_boot
show() { sandbox systemctl show -p "$2" --value "$1"; }
debs() { for p in vigil-collector vigil-agent vigilctl; do echo "/root/$1/${p}_$2_$ARCH.deb"; done; }
apt_in() { sandbox env DEBIAN_FRONTEND=noninteractive apt-get -o Dpkg::Options::=--force-confold "$@" > "$T/apt.log" 2>&1 || fail "apt-get $*: $(tail -n 20 "$T/apt.log")"; }

info "apt-get install: users made, collector started, agent enabled and not started"
apt_in install -y $(debs old "$VERSION")
sandbox getent passwd vigil > /dev/null || fail "no user vigil"
sandbox getent passwd vigil-agent > /dev/null || fail "no user vigil-agent"
[ "$(sandbox stat -c '%a %U %G' /etc/vigil/collector.conf)" = "640 root vigil" ] ||
	fail "collector.conf is $(sandbox stat -c '%a %U %G' /etc/vigil/collector.conf)"
[ "$(sandbox stat -c '%a %U' /var/lib/vigil)" = "750 vigil" ] || fail "/var/lib/vigil: $(sandbox stat -c '%a %U' /var/lib/vigil)"
wait_for 30 "the collector started on installation (its API)" api_up
[ "$(show vigil-agent.service UnitFileState)" = enabled ] || fail "agent: $(show vigil-agent.service UnitFileState)"
[ "$(show vigil-agent.service ActiveState)" = inactive ] || fail "agent started before it was configured"
sandbox test -f /usr/share/man/man5/vigil-collector.conf.5.gz || fail "no manual page"

info "the sample dial tests are valid"
sandbox sh -c 'mkdir -p /etc/vigil/secrets && echo k > /etc/vigil/secrets/exchange.key &&
	printf "[storage]\ndata_dir=/tmp/check\n[dialtests]\ndir=/usr/share/doc/vigil-collector/examples\n" > /tmp/check.conf &&
	vigil-collector --config /tmp/check.conf --check-config' > "$T/check.log" 2>&1 || fail "sample dial tests: $(cat "$T/check.log")"

info "an API token, an enrollment token, the agent enrolled as root: files the agent's, key 0600"
sandbox test -f /var/lib/vigil/ca/ca.key || fail "the collector made no CA"
[ "$(sandbox stat -c '%a %U' /var/lib/vigil/ca/ca.key)" = "600 vigil" ] || fail "ca.key: $(sandbox stat -c '%a %U' /var/lib/vigil/ca/ca.key)"
sandbox systemctl stop vigil-collector
TOKEN=$(sandbox runuser -u vigil -- vigil-collector --config /etc/vigil/collector.conf --create-token "pkg-$$" --role admin) ||
	fail "--create-token as vigil"
sandbox systemctl start vigil-collector
wait_for 30 "the collector's API" api_up
ENROLL=$(sandbox vigilctl --url "$URL" --token "$TOKEN" --cacert /var/lib/vigil/ca/ca.pem \
	enroll-token create --labels zone=pkg --expires 1h --uses 1 | head -n 1)
sandbox vigil-agent --config /etc/vigil/agent.conf --enroll "$URL" --token "$ENROLL" > "$T/enroll.log" 2>&1 ||
	fail "vigil-agent --enroll: $(cat "$T/enroll.log")"
[ "$(sandbox stat -c '%a %U' /var/lib/vigil-agent/enroll/agent.key)" = "600 vigil-agent" ] ||
	fail "agent.key: $(sandbox stat -c '%a %U' /var/lib/vigil-agent/enroll/agent.key)"
sandbox vigil-agent --config /etc/vigil/agent.conf --check-config > "$T/check.log" 2>&1 || fail "$(cat "$T/check.log")"

info "the agent enabled: its journal lines and probe at the collector, over mutual TLS, as its certificate"
sandbox systemctl enable --now vigil-agent > /dev/null 2>&1 || {
	sandbox journalctl -u vigil-agent --no-pager | tail -n 20
	fail "systemctl enable --now vigil-agent"
}
sandbox logger -t pkgtest "$MARK one"
has_line() { pull_messages "q=$MARK" | grep -q "$MARK $1"; }
wait_for 30 "the agent's journal line at the collector" has_line one
probe_ok() { [ "$(api GET "/api/v1/probes?status=ok" "$TOKEN")" = 200 ] && grep -q '"journald"' "$T/answer.json"; }
wait_for 30 "the agent's probe at the collector" probe_ok
api GET /api/v1/hosts "$TOKEN" > /dev/null
grep -q '"certificate": *"pkg-host"' "$T/answer.json" || fail "the agent is not known by its certificate: $(cat "$T/answer.json")"

info "upgrade: configuration and data kept, both restarted"
agent_pid=$(show vigil-agent.service MainPID) collector_pid=$(show vigil-collector.service MainPID)
apt_in install -y $(debs new "$VERSION+t1")
[ "$(sandbox dpkg-query -W -f '${Version}' vigil-collector)" = "$VERSION+t1" ] || fail "not upgraded"
sandbox grep -q "^listen=127.0.0.1:$HTTP_PORT" /etc/vigil/collector.conf || fail "collector.conf replaced on upgrade"
restarted() { [ "$(show "$1" ActiveState)" = active ] && [ "$(show "$1" MainPID)" != "$2" ] && [ "$(show "$1" MainPID)" != 0 ]; }
wait_for 30 "the collector restarted" restarted vigil-collector.service "$collector_pid"
wait_for 30 "the agent restarted" restarted vigil-agent.service "$agent_pid"
wait_for 30 "the API after the upgrade" api_up
has_line one || fail "the stored line is gone after the upgrade"
sandbox logger -t pkgtest "$MARK two"
wait_for 30 "a line shipped after the upgrade" has_line two

info "remove: stopped, data and configuration kept; purge: gone"
apt_in remove -y vigil-agent vigil-collector
[ "$(show vigil-collector.service ActiveState)" != active ] || fail "collector still running after remove"
[ -n "$(sandbox ls -A /var/lib/vigil)" ] || fail "data removed by remove"
sandbox test -f /etc/vigil/collector.conf || fail "configuration removed by remove"
sandbox dpkg --purge vigil-agent vigil-collector > "$T/purge.log" 2>&1 || fail "dpkg --purge: $(cat "$T/purge.log")"
for p in /var/lib/vigil /var/lib/vigil-agent /etc/vigil/collector.conf /etc/vigil/agent.conf \
	/etc/vigil/agent.conf.d/50-enroll.conf; do
	! sandbox test -e "$p" || fail "$p left after purge"
done
sandbox_poweroff
echo "PASS"

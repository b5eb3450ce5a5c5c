#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# rpm.sh DIR: the .rpms of scripts/package.sh rpm (in DIR) pass rpmlint with
# the project's settings, hold the files, scriptlets and requirements their
# distributions expect, and install with rpm --root into an empty folder with
# the files where systemd and the units look for them, with their modes.
. "$(dirname "$0")/../integration/lib.sh"
RPMS=$(cd "${1:?usage: rpm.sh DIR}" && pwd)
ARCH=$(rpm --eval '%{_arch}')
rpms=$(ls "$RPMS"/vigil-agent-[0-9]*."$ARCH".rpm "$RPMS"/vigil-collector-[0-9]*."$ARCH".rpm "$RPMS"/vigilctl-[0-9]*."$ARCH".rpm) ||
	fail "no RPMs in $RPMS"
q() { rpm -qp "$@" "$RPMS"/"$pkg"-[0-9]*."$ARCH".rpm 2> /dev/null; }
has() { # what-to-query expected-line...
	local what=$1 line
	shift
	q "$what" > "$T/q.out"
	for line in "$@"; do grep -qxF -- "$line" "$T/q.out" || fail "$pkg $what: no '$line' in: $(cat "$T/q.out")"; done
}

info "rpmlint: no errors"
rpmlint -c "$S/packaging/rpm/rpmlint.toml" $rpms > "$T/rpmlint.log" 2>&1 || fail "rpmlint: $(cat "$T/rpmlint.log")"
grep -q " 0 errors, " "$T/rpmlint.log" || fail "rpmlint: $(tail -n 1 "$T/rpmlint.log")"

info "files, configuration files, requirements, scriptlets"
pkg=vigil-agent
has -l /usr/bin/vigil-agent /usr/lib/systemd/system/vigil-agent.service /usr/lib/sysusers.d/vigil-agent.conf \
	/usr/lib/tmpfiles.d/vigil-agent.conf /var/lib/vigil-agent /usr/share/man/man8/vigil-agent.8.gz
has --configfiles /etc/vigil/agent.conf
has --requires /usr/sbin/useradd "libnng.so.1()(64bit)" "libsystemd.so.0()(64bit)"
pkg=vigil-collector
has -l /usr/bin/vigil-collector /usr/lib/systemd/system/vigil-collector.service /usr/share/vigil/console/index.html \
	/etc/vigil/dialtests.d /var/lib/vigil /usr/share/man/man5/vigil-collector.conf.5.gz
has --configfiles /etc/vigil/collector.conf
has --requires /usr/sbin/useradd "libmicrohttpd.so.12()(64bit)" "libsqlite3.so.0()(64bit)"
q -l | grep -q "/usr/share/doc/vigil-collector[^/]*/dialtests/exchange-api.json" || fail "no sample dial tests"
pkg=vigilctl
has -l /usr/bin/vigilctl /usr/share/man/man1/vigilctl.1.gz
for pkg in vigil-agent vigil-collector; do
	q --scripts > "$T/scripts.out"
	user=${pkg#vigil-collector}; user=${user:-vigil}
	for want in "useradd -r -g $user" "systemd-tmpfiles --create $pkg.conf" "systemctl --no-reload preset $pkg.service" \
		"systemctl --no-reload disable --now $pkg.service" "systemctl try-restart $pkg.service"; do
		grep -qF -- "$want" "$T/scripts.out" || fail "$pkg's scriptlets: no '$want'"
	done
	# systemd's macros decide on install (preset) and removal ($1 = 0), never on upgrade.
	grep -q 'if \[ $1 -eq 1 \]' "$T/scripts.out" || fail "$pkg: preset not limited to the first install"
done

info "rpm --root into an empty folder: placement and modes"
R=$T/root
rpm --root "$R" --initdb
rpm --root "$R" --nodeps --noscripts -i $rpms > "$T/rpm-i.log" 2>&1 || fail "rpm -i: $(cat "$T/rpm-i.log")"
mode() { stat -c %a "$R$1"; }
[ "$(mode /etc/vigil/collector.conf)" = 640 ] || fail "collector.conf is $(mode /etc/vigil/collector.conf)"
[ "$(mode /etc/vigil/agent.conf)" = 644 ] || fail "agent.conf is $(mode /etc/vigil/agent.conf)"
[ "$(mode /var/lib/vigil)" = 750 ] || fail "/var/lib/vigil is $(mode /var/lib/vigil)"
[ "$(mode /var/lib/vigil-agent)" = 750 ] || fail "/var/lib/vigil-agent is $(mode /var/lib/vigil-agent)"
for b in vigil-agent vigil-collector vigilctl; do [ "$(mode "/usr/bin/$b")" = 755 ] || fail "$b is $(mode "/usr/bin/$b")"; done
grep -q "^ExecStart=/usr/bin/vigil-agent --config /etc/vigil/agent.conf" "$R/usr/lib/systemd/system/vigil-agent.service" ||
	fail "the agent's unit does not start the installed program"
grep -q "^StateDirectory=vigil$" "$R/usr/lib/systemd/system/vigil-collector.service" || fail "the collector's unit's state"
[ -z "$(find "$R/usr/com" "$R/usr/local" -mindepth 1 2> /dev/null)" ] || fail "files outside the distribution's folders"
# What rpm installed is what the packages hold (the users are made by %pre, not run here).
rpm --root "$R" -V --nodeps vigil-agent vigil-collector vigilctl > "$T/verify.log" 2>&1 || true
! grep -vE "^\.{5}[U.][G.]\.{2} " "$T/verify.log" | grep -q . || fail "rpm -V: $(cat "$T/verify.log")"
rpm --root "$R" --nodeps --noscripts -e vigil-agent vigil-collector vigilctl || fail "rpm -e"
[ ! -e "$R/usr/bin/vigil-collector" ] || fail "rpm -e left the programs"
echo "PASS"

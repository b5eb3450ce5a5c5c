#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make install into a folder: what lands where, and with which modes; the
# collector's configuration, which may hold secrets, is not world-readable.
. "$(dirname "$0")/lib.sh"

make -C "$B" install DESTDIR="$T/root" > "$T/install.log" 2>&1 || fail "make install: $(tail -n 20 "$T/install.log")"
prefix=$(sed -n 's/^prefix = //p' "$B/Makefile")
sysconf=$(sed -n 's/^sysconfdir = //p' "$B/Makefile" | sed "s|\${prefix}|$prefix|")
conf="$T/root$sysconf/vigil/collector.conf"
[ -f "$conf" ] || fail "no $conf: $(cat "$T/install.log" | tail -n 5)"
[ "$(stat -c %a "$conf")" = 640 ] || fail "collector.conf is $(stat -c %a "$conf")"
[ "$(stat -c %a "$T/root$sysconf/vigil/agent.conf")" = 644 ] || fail "agent.conf mode"
grep -q "^z /etc/vigil/collector.conf 0640 root vigil" "$T/root$prefix/lib/tmpfiles.d/vigil-collector.conf" ||
	fail "tmpfiles.d does not give collector.conf to the vigil group"
for p in vigil-agent vigil-collector vigilctl; do [ -x "$T/root$prefix/bin/$p" ] || fail "no $p"; done
for p in vigil-agent vigil-collector; do
	for d in sysusers.d tmpfiles.d; do [ -f "$T/root$prefix/lib/$d/$p.conf" ] || fail "no $d/$p.conf"; done
done
echo ok

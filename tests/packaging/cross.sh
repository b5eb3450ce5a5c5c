#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cross.sh ARCH TREE DIR: the .debs cross-built for ARCH (scripts/package.sh
# deb --arch ARCH; TREE is the source tree it built in, DIR where the .debs
# went) are ARCH's, their programs run under qemu-user, and the unit tests of
# that build pass there: proof that the code is not x86-only.
. "$(dirname "$0")/../integration/lib.sh"
ARCH=${1:?usage: cross.sh ARCH TREE DIR}
TREE=$(cd "${2:?}" && pwd)
DEBS=$(cd "${3:?}" && pwd)
cpu=$(dpkg-architecture -a"$ARCH" -qDEB_HOST_GNU_CPU 2> /dev/null)
QEMU=$(command -v "qemu-$cpu-static" || command -v "qemu-$cpu") || fail "no qemu-user for $cpu (scripts/cross-deps.sh)"

info "lintian on the $ARCH .debs: no errors, no warnings"
lintian --fail-on error,warning "$DEBS"/vigil_*_"$ARCH".changes > "$T/lintian.log" 2>&1 || fail "lintian: $(cat "$T/lintian.log")"

info "the .debs are $ARCH's, and their programs run under $(basename "$QEMU")"
for p in vigil-agent vigil-collector vigilctl; do
	deb=$(ls "$DEBS/${p}_"*"_$ARCH.deb") || fail "no $p .deb for $ARCH in $DEBS"
	[ "$(dpkg-deb -f "$deb" Architecture)" = "$ARCH" ] || fail "$deb: $(dpkg-deb -f "$deb" Architecture)"
	dpkg-deb -x "$deb" "$T/root"
	file -b "$T/root/usr/bin/$p" | grep -q "ARM aarch64\|$cpu" || fail "$p is $(file -b "$T/root/usr/bin/$p")"
	"$QEMU" "$T/root/usr/bin/$p" --version > "$T/version.out" 2>&1 || fail "$p --version under qemu: $(cat "$T/version.out")"
	grep -q "$(dpkg-deb -f "$deb" Version | sed 's/[+~].*//')" "$T/version.out" || fail "$p --version: $(cat "$T/version.out")"
done

info "the build's unit tests, cross-compiled, under qemu"
make -C "$TREE" -j2 check TESTS='$(UNIT_TESTS)' LOG_COMPILER="$QEMU" > "$T/check.log" 2>&1 ||
	fail "unit tests under qemu: $(grep -E '^(FAIL|ERROR)' "$T/check.log"; tail -n 30 "$T/check.log")"
passed=$(sed -n 's/^# PASS: *//p' "$T/check.log")
[ "${passed:-0}" -gt 0 ] || fail "no unit test ran: $(tail -n 20 "$T/check.log")"
file -b "$TREE/test-export" | grep -q "ARM aarch64\|$cpu" || fail "the unit tests ran were not $ARCH's: $(file -b "$TREE/test-export")"
echo "# $passed unit test programs passed under qemu-user for $ARCH"
echo "PASS"

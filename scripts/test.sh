#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing, builds, and runs the whole test suite twice: in
# `make distcheck` (the release tarball configured, built with -Werror and
# checked in a tree of its own, so a file missing from the tarball fails a
# test), and in an AddressSanitizer+UBSan build. Then builds everything with
# clang and its fuzzers, and runs each fuzzer a while from its corpus; builds
# the .deb and .rpm packages and tests them (tests/packaging), and the .debs
# for arm64, whose unit tests run under qemu-user. Ends
# with one line "N passed, N failed" counted from the test logs.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
EXTRA_PKGS="clang libclang-rt-14-dev chromium nodejs" "$top/scripts/deps.sh" || exit 1
# Debian's nodejs comes without npm (a NodeSource nodejs has its own, which Debian's npm would conflict with).
command -v npm > /dev/null || EXTRA_PKGS=npm "$top/scripts/deps.sh" || exit 1
# The browser tests' tooling, at the versions package-lock.json pins: playwright-core (which
# downloads no browser: the tests drive Debian's Chromium) and axe-core.
(cd "$top/tests/console" && npm ci --no-audit --no-fund --loglevel=error > /dev/null) || { echo "FAIL: npm ci in tests/console"; exit 1; }
export VIGIL_NODE_MODULES=$top/tests/console/node_modules
status=0
FUZZ_SECONDS=${FUZZ_SECONDS:-30}

echo "== sanitizers build in $top/build/asan"
if "$top/scripts/build.sh" "$top/build/asan" --enable-sanitizers; then
	make -C "$top/build/asan" -j2 check > "$top/build/asan/check.out" 2>&1 || status=1
	grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' "$top/build/asan/check.out" || true
else
	echo "build failed"
	status=1
fi
echo "== distcheck (the plain -Werror build of the tarball and its tests)"
[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh > /dev/null 2>&1)
mkdir -p "$top/build/plain"
if (cd "$top/build/plain" && { [ -f Makefile ] || "$top/configure" -q; } &&
	make -j2 distcheck > "$top/build/distcheck.out" 2>&1); then
	echo "PASS: distcheck"
else
	echo "FAIL: distcheck"
	status=1
fi
grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' "$top/build/distcheck.out" || true
echo "== clang, with the fuzzers, in $top/build/clang ($FUZZ_SECONDS s each)"
clang_results=$top/build/clang-results
: > "$clang_results"
if "$top/scripts/build.sh" "$top/build/clang" --enable-fuzzing CC=clang > "$top/build/clang-build.out" 2>&1; then
	echo "PASS: clang build" >> "$clang_results"
	for target in export batch frame defs query parse syslog; do
		work=$(mktemp -d)
		cp "$top/tests/fuzz/corpus/$target/"* "$work/"
		if (cd "$top/build/clang" && ./fuzz-$target -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=1024 \
			-timeout=10 "$work") > "$top/build/clang/fuzz-$target.out" 2>&1; then
			echo "PASS: fuzz-$target" >> "$clang_results"
		else
			echo "FAIL: fuzz-$target (its crash input is in $top/build/clang)" >> "$clang_results"
			tail -n 30 "$top/build/clang/fuzz-$target.out"
		fi
		rm -rf "$work"
	done
else
	echo "FAIL: clang build" >> "$clang_results"
	tail -n 30 "$top/build/clang-build.out"
fi
cat "$clang_results"
echo "== packages: built into $top/dist, checked, installed under systemd"
package_results=$top/build/package-results
: > "$package_results"
for kind in deb rpm; do
	if "$top/scripts/package.sh" "$kind" > "$top/build/package-$kind.out" 2>&1; then
		echo "PASS: package.sh $kind" >> "$package_results"
		if bash "$top/tests/packaging/$kind.sh" "$top/dist" > "$top/build/packaging-$kind.out" 2>&1; then
			echo "PASS: packaging/$kind" >> "$package_results"
		else
			echo "FAIL: packaging/$kind" >> "$package_results"
			tail -n 40 "$top/build/packaging-$kind.out"
		fi
	else
		echo "FAIL: package.sh $kind" >> "$package_results"
		tail -n 40 "$top/build/package-$kind.out"
	fi
done
# arm64 (Kunpeng, Phytium): the .debs cross-built, their unit tests under qemu-user.
if "$top/scripts/package.sh" deb --arch arm64 > "$top/build/package-arm64.out" 2>&1; then
	echo "PASS: package.sh deb --arch arm64" >> "$package_results"
	if bash "$top/tests/packaging/cross.sh" arm64 "$top"/build/package/deb-arm64/vigil-[0-9]* "$top/dist/arm64" \
		> "$top/build/packaging-arm64.out" 2>&1; then
		echo "PASS: packaging/cross arm64" >> "$package_results"
	else
		echo "FAIL: packaging/cross arm64" >> "$package_results"
		tail -n 40 "$top/build/packaging-arm64.out"
	fi
else
	echo "FAIL: package.sh deb --arch arm64" >> "$package_results"
	tail -n 40 "$top/build/package-arm64.out"
fi
cat "$package_results"
"$top/scripts/count-results.sh" "$top/build/asan" "distcheck:$top/build/distcheck.out:$top/build/plain" \
	"lines:$clang_results" "lines:$package_results" || status=1
exit $status

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing, builds, and runs the whole test suite twice: in
# `make distcheck` (the release tarball configured, built with -Werror and
# checked in a tree of its own, so a file missing from the tarball fails a
# test), and in an AddressSanitizer+UBSan build. Ends with one line
# "N passed, N failed" counted from the test logs.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh" || exit 1
status=0

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
"$top/scripts/count-results.sh" "$top/build/asan" "distcheck:$top/build/distcheck.out:$top/build/plain" || status=1
exit $status

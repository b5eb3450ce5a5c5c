#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing, builds, and runs the whole test suite twice: a
# plain -Werror build and an AddressSanitizer+UBSan build; then distcheck.
# Ends with one line "N passed, N failed" counted from the test logs.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh" || exit 1
status=0

run() { # name dir [configure args]
	local name=$1 dir=$2
	shift 2
	echo "== $name build in $dir"
	"$top/scripts/build.sh" "$dir" "$@" || { echo "build failed"; status=1; return; }
	make -C "$dir" -j2 check > "$dir/check.out" 2>&1 || status=1
	grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' "$dir/check.out" || true
}

run plain "$top/build/plain"
run sanitizers "$top/build/asan" --enable-sanitizers
if [ "${VIGIL_SKIP_DISTCHECK:-0}" != 1 ]; then
	echo "== distcheck"
	if make -C "$top/build/plain" distcheck > "$top/build/distcheck.out" 2>&1; then
		echo "PASS: distcheck"
	else
		echo "FAIL: distcheck"
		tail -n 40 "$top/build/distcheck.out"
		status=1
	fi
fi
dist=""
[ "${VIGIL_SKIP_DISTCHECK:-0}" = 1 ] || dist="distcheck:$top/build/distcheck.out"
"$top/scripts/count-results.sh" "$top/build/plain" "$top/build/asan" $dist || status=1
exit $status

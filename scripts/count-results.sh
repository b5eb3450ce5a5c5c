#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# count-results.sh BUILDDIR... [distcheck:FILE:DIR] [lines:FILE]: sums test
# results from the automake logs (cmocka programs count each case) and prints
# failing logs. distcheck: FILE is its output, whose test summary counts (the
# tree it checked in is gone when it passed), and DIR where it ran (its tree
# is kept when it failed, with the logs to show). lines: FILE holds a line
# "PASS: name" or "FAIL: name" per check. Prints "N passed, N failed"; exits
# 1 if anything failed or nothing ran.
set -u
passed=0 failed=0
for arg in "$@"; do
	case $arg in
	distcheck:*)
		spec=${arg#distcheck:}
		f=${spec%%:*}
		dir=${spec#*:}
		sum() { sed -n "s/^# $1: *\([0-9]*\)/\1/p" "$f" | awk '{ n += $1 } END { print n + 0 }'; }
		passed=$((passed + $(sum PASS)))
		failed=$((failed + $(sum FAIL) + $(sum ERROR) + $(sum XPASS)))
		if grep -q "archives ready for distribution" "$f" 2>/dev/null; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
			tail -n 40 "$f"
			for log in $(grep -l -E '^:test-result: (FAIL|ERROR)' $(find "$dir" -path '*/_build/*' -name '*.trs' 2>/dev/null) 2>/dev/null); do
				echo "---- ${log%.trs}.log"
				tail -n 60 "${log%.trs}.log"
			done
		fi
		continue ;;
	lines:*)
		passed=$((passed + $(grep -c '^PASS: ' "${arg#lines:}")))
		failed=$((failed + $(grep -c '^FAIL: ' "${arg#lines:}")))
		continue ;;
	esac
	for trs in $(find "$arg" -name '*.trs' -not -path '*/_build/*' | sort); do
		log=${trs%.trs}.log
		res=$(sed -n 's/^:test-result: //p' "$trs")
		ok=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
		bad=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
		if [ -n "$ok$bad" ]; then
			passed=$((passed + ${ok:-0}))
			failed=$((failed + ${bad:-0}))
			[ "$res" = PASS ] || [ -n "$bad" ] || failed=$((failed + 1))
		elif [ "$res" = PASS ]; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
		fi
		if [ "$res" != PASS ]; then
			echo "---- $log"
			tail -n 60 "$log"
		fi
	done
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]

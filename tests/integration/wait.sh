# SPDX-License-Identifier: Apache-2.0
# wait_for SECONDS DESCRIPTION COMMAND...: polls every 0.2 s, fails (the
# sourcing script's fail) after SECONDS. The tests' lib.sh and the benches'.
wait_for() {
	local secs=$1 what=$2 i=0
	shift 2
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -le $((secs * 5)) ] || fail "timed out after ${secs}s waiting for: $what"
		sleep 0.2
	done
}

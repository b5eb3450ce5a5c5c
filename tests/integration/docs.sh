#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every configuration key the programs accept is documented in its man page.
. "$(dirname "$0")/lib.sh"

check() { # program manpage
	local n=0 key section
	while read -r section key _; do
		key=${key%%=*}
		grep -q "^\.B ${key}=$" "$S/man/$2" || fail "$2 does not document $section $key"
		n=$((n + 1))
	done < <("$B/$1" --list-config-keys | sed 's/^\[\([a-z]*\)[^]]*\] /[\1] /')
	[ $n -gt 5 ] || fail "$1 listed only $n keys"
	info "$2: all $n keys documented"
}
check vigil-agent vigil-agent.conf.5
check vigil-collector vigil-collector.conf.5
echo ok

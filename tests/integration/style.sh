#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Style enforced by a tool, not by memory (curl's checksrc): no banned
# functions in the programs' sources, an SPDX line in every source file.
set -eu
S=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$S"
src=$(find common fetch probes alerts dialtests store api agent collector ctl -name '*.[ch]' 2>/dev/null | sort)
[ -n "$src" ] || { echo "no sources found"; exit 1; }
banned='\b(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|atoi|atol|atof|gets|tmpnam|mktemp|rand|system)[[:space:]]*\('
if grep -nE "$banned" $src; then
	echo "FAIL: banned function (use snprintf, memcpy with a bound, strtoull/conf_parse_*, getrandom)"
	exit 1
fi
missing=$(grep -L 'SPDX-License-Identifier: Apache-2.0' $src tests/*/*.c tests/*/*.sh 2>/dev/null || true)
if [ -n "$missing" ]; then
	echo "FAIL: no SPDX line in: $missing"
	exit 1
fi
echo "ok: $(echo "$src" | wc -w) files checked"

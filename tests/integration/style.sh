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
# The console builds its page from data: nothing turns a string into markup or code.
js=$(find console/src -name '*.js' | sort)
ours=$(find console/src -name '*.js' -not -path '*/vendor/*' | sort)
if grep -nE '\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval|Function)\b|set(Timeout|Interval)\([[:space:]]*["'"'"'`]' $js; then
	echo "FAIL: markup or code from a string in the console (build elements with dom.js's h(); text is a text node)"
	exit 1
fi
missing=$(grep -L 'SPDX-License-Identifier: Apache-2.0' $src $ours console/src/style.css tests/*/*.c tests/*/*.sh tests/console/*.mjs \
	2>/dev/null || true)
if [ -n "$missing" ]; then
	echo "FAIL: no SPDX line in: $missing"
	exit 1
fi
echo "ok: $(echo "$src $js" | wc -w) files checked"

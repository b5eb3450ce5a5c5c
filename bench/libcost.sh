#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/libcost.sh: what each library the agent links costs a process,
# mapped, loaded and initialised as the agent does it (bench/libcost.c,
# built once per library): its RSS and private memory (what PSS cannot
# share away) beside a process of libc alone, and the agent's whole set.
# The figures that say which of issue 18's memory targets the libraries
# allow (docs/performance.md).
set -eu
. "$(dirname "$0")/lib.sh"
bench_setup libcost ""
flags() { # modules: pkg-config's flags (Debian's libnng-dev has no .pc)
	for m in "$@"; do
		if [ "$m" = nng ]; then echo -lnng; else pkg-config --cflags --libs "$m"; fi
	done
}
variant() { # name cflags modules
	local name=$1 def=$2
	shift 2
	# shellcheck disable=SC2046
	gcc -O2 $def -o "$W/$name" "$top/bench/libcost.c" $(flags "$@")
}
variant libc ""
variant systemd -DLIBCOST_SYSTEMD libsystemd
variant sqlite -DLIBCOST_SQLITE sqlite3
variant nng -DLIBCOST_NNG nng
variant zstd -DLIBCOST_ZSTD libzstd
variant openssl -DLIBCOST_OPENSSL openssl
variant curl -DLIBCOST_CURL libcurl
variant all "-DLIBCOST_SYSTEMD -DLIBCOST_SQLITE -DLIBCOST_NNG -DLIBCOST_ZSTD -DLIBCOST_OPENSSL -DLIBCOST_CURL" \
	libsystemd sqlite3 nng libzstd openssl libcurl
variant all-but-curl "-DLIBCOST_SYSTEMD -DLIBCOST_SQLITE -DLIBCOST_NNG -DLIBCOST_ZSTD -DLIBCOST_OPENSSL" \
	libsystemd sqlite3 nng libzstd openssl
mb() { awk -v k="$2" '$1 == k ":" { printf "%.1f", $2 / 1024 }' "$1"; }
base=""
printf '%-14s %8s %8s %8s %10s\n' "" "RSS MB" "private" "libs" "over libc"
for v in libc systemd sqlite nng zstd openssl curl all all-but-curl; do
	"$W/$v" > "$W/$v.out"
	rss=$(mb "$W/$v.out" Rss)
	base=${base:-$rss}
	priv=$(awk '$1 ~ /^Private_(Clean|Dirty):$/ { s += $2 } END { printf "%.1f", s / 1024 }' "$W/$v.out")
	libs=$(ldd "$W/$v" | grep -c '=>' || true)
	printf '%-14s %8s %8s %8s %10s\n' "$v" "$rss" "$priv" "$libs" "$(echo "$rss - $base" | bc -l | sed 's/^\./0./; s/^-\./-0./')"
done

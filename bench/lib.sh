# SPDX-License-Identifier: Apache-2.0
# What the bench scripts share, sourced after `set -eu`:
#   bench_setup NAME "PACKAGES": installs the peers' Debian packages and what
#   vigil needs, builds build/plain, and sets top, B (the build) and W (a
#   work folder removed at exit, or kept with KEEP=1). Processes added to
#   $pids are killed at exit, after the functions named in $at_exit ran.
#   bench_pg_start: a PostgreSQL of its own the tests' way
#   (tests/integration/pg.sh: an unprivileged server on a Unix socket in a
#   folder of its own, $PG_URL and $PG_PASSWORD_FILE name it), durable
#   (fsync on, as the SQLite store is); bench_pg_stop removes it.
top=$(cd "$(dirname "$0")/.." && pwd)
pids=""
at_exit=""

bench_setup() { # name packages
	EXTRA_PKGS="$2" "$top/scripts/deps.sh"
	"$top/scripts/build.sh" "$top/build/plain"
	B=$top/build/plain
	W=$(mktemp -d "${TMPDIR:-/tmp}/vigil-$1.XXXXXX")
	trap '{ for f in $at_exit; do $f || true; done; for p in $pids; do kill -9 $p || true; wait $p || true; done; } 2>/dev/null
		[ "${KEEP:-0}" = 1 ] && echo "kept $W" || rm -rf "$W"' EXIT
}

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# What pg.sh takes from the tests' lib.sh.
T="" PIDS="" AT_EXIT=""
fail() { echo "bench: $*" >&2; exit 1; }
. "$top/tests/integration/wait.sh"
bench_pg_start() {
	[ -n "$T" ] || { T=$W/pg; mkdir -p "$T"; . "$top/tests/integration/pg.sh"; make -C "$B" -s pgrace; }
	PG_FSYNC=on pg_start
	at_exit="$at_exit pg_stop"
}
bench_pg_stop() {
	pg_stop
	PG_ROOT=""
}

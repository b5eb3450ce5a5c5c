# SPDX-License-Identifier: Apache-2.0
# What the bench scripts share, sourced after `set -eu`:
#   bench_setup NAME "PACKAGES": installs the peers' Debian packages and what
#   vigil needs, builds build/plain, and sets top, B (the build) and W (a
#   work folder removed at exit, or kept with KEEP=1). Processes added to
#   $pids are killed at exit.
top=$(cd "$(dirname "$0")/.." && pwd)
pids=""

bench_setup() { # name packages
	EXTRA_PKGS="$2" "$top/scripts/deps.sh"
	"$top/scripts/build.sh" "$top/build/plain"
	B=$top/build/plain
	W=$(mktemp -d "${TMPDIR:-/tmp}/vigil-$1.XXXXXX")
	trap '{ for p in $pids; do kill -9 $p || true; wait $p || true; done; } 2>/dev/null
		[ "${KEEP:-0}" = 1 ] && echo "kept $W" || rm -rf "$W"' EXIT
}

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# SPDX-License-Identifier: Apache-2.0
# A real systemd for tests: booted as PID 1 of a new PID and mount namespace
# over a Debian root made by debootstrap (cached, never changed: each boot
# writes to an overlay of its own under $T). It shares the host's network,
# so services inside reach a collector on the host's 127.0.0.1.
# Sourced after lib.sh. Needs root, debootstrap, unshare and overlayfs.

SANDBOX_PKGS="systemd,systemd-sysv,dbus,procps,libnng1,libzstd1,libsqlite3-0,libcurl4,libinih1,libssl3,libjansson4,libasan8,libubsan1,libmicrohttpd12,libgnutls30,libargon2-1,libqrencode4"
SANDBOX_CACHE=${VIGIL_SANDBOX_CACHE:-/var/cache/vigil-test}
SANDBOX_MIRROR=${VIGIL_SANDBOX_MIRROR:-http://deb.debian.org/debian}
SANDBOX_ROOT="$SANDBOX_CACHE/bookworm-$(printf '%s' "$SANDBOX_PKGS" | sha256sum | cut -c1-12)"
SANDBOX_PID=""

# The cached root, made once (about 40 s); a lock keeps two runs from making it together.
sandbox_make_root() {
	[ "$(id -u)" = 0 ] || fail "the systemd sandbox needs root"
	command -v debootstrap > /dev/null || fail "debootstrap is not installed (scripts/deps.sh installs it)"
	mkdir -p "$SANDBOX_CACHE"
	(
		flock 9
		[ -x "$SANDBOX_ROOT/lib/systemd/systemd" ] && exit 0
		rm -rf "$SANDBOX_ROOT.tmp"
		info "debootstrap of the sandbox root into $SANDBOX_ROOT"
		debootstrap --variant=minbase --include="$SANDBOX_PKGS" bookworm "$SANDBOX_ROOT.tmp" \
			"$SANDBOX_MIRROR" > "$T/debootstrap.out" 2>&1 || { tail -n 20 "$T/debootstrap.out"; exit 1; }
		mv "$SANDBOX_ROOT.tmp" "$SANDBOX_ROOT"
	) 9> "$SANDBOX_CACHE/.lock" || fail "cannot make the sandbox root"
}

# Files to add to the root before boot go under $SANDBOX_UP (the overlay's upper dir).
SANDBOX_UP="$T/sandbox/up"
SANDBOX_MNT="$T/sandbox/merged"
mkdir -p "$SANDBOX_UP/etc/systemd/system" "$T/sandbox/work" "$SANDBOX_MNT"
# No consoles in a test: their gettys would wait 90 s for a tty device.
ln -s /dev/null "$SANDBOX_UP/etc/systemd/system/getty.target"

sandbox_boot() {
	local up
	cat > "$T/sandbox/boot" <<EOB
#!/bin/sh
set -e
mount -t overlay overlay -o lowerdir=$SANDBOX_ROOT,upperdir=$SANDBOX_UP,workdir=$T/sandbox/work $SANDBOX_MNT
mount -t proc proc $SANDBOX_MNT/proc
mount --rbind /sys $SANDBOX_MNT/sys
mount --rbind /dev $SANDBOX_MNT/dev
mount -t tmpfs tmpfs $SANDBOX_MNT/run
mount -t tmpfs tmpfs $SANDBOX_MNT/tmp
exec chroot $SANDBOX_MNT /lib/systemd/systemd --system --unit=multi-user.target
EOB
	chmod +x "$T/sandbox/boot"
	setsid unshare --pid --fork --mount --uts --propagation private "$T/sandbox/boot" \
		> "$T/sandbox-boot.out" 2>&1 < /dev/null &
	up=$!
	PIDS="$PIDS $up"
	wait_for 10 "systemd started in the sandbox" pgrep -P "$up"
	SANDBOX_PID=$(pgrep -P "$up")
	# Killing the namespace's PID 1 ends every process in it.
	PIDS="$SANDBOX_PID $PIDS"
	wait_for 60 "the sandbox's systemd running" sandbox_running
}

# A command run inside, in the sandbox's namespaces and root.
sandbox() { nsenter -t "$SANDBOX_PID" -m -p -u chroot "$SANDBOX_MNT" "$@"; }
sandbox_running() {
	case "$(sandbox systemctl is-system-running 2> /dev/null)" in running | degraded) return 0 ;; esac
	return 1
}

sandbox_poweroff() {
	[ -n "$SANDBOX_PID" ] || return 0
	sandbox systemctl poweroff > /dev/null 2>&1 || true
	for _ in $(seq 50); do kill -0 "$SANDBOX_PID" 2> /dev/null || break; sleep 0.1; done
	kill -9 "$SANDBOX_PID" 2> /dev/null || true
	SANDBOX_PID=""
}

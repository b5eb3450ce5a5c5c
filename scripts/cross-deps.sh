#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cross-deps.sh ARCH: installs, on Debian 12, what cross-building vigil's
# .debs for ARCH (arm64) and running their unit tests under qemu-user needs:
# the foreign architecture, its cross compiler, the :ARCH -dev packages of
# debian/control's Build-Depends, and qemu-user-static.
set -eu
arch=${1:?usage: cross-deps.sh ARCH}
top=$(cd "$(dirname "$0")/.." && pwd)
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
# Build-Depends without the tools that run on the build machine, nor those the cross-build's
# profile (pkg.vigil.nopq, package.sh) leaves out.
devs=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' "$top/debian/control" | tr ',' '\n' | grep -v '<!pkg.vigil.nopq>' |
	sed -n 's/^[^a-z]*\(lib[a-z0-9.+-]*-dev\).*/\1/p')
# pkgconf is Multi-Arch: same: its :ARCH package gives the cross pkg-config.
pkgs="crossbuild-essential-$arch qemu-user-static pkgconf:$arch"
for d in $devs; do pkgs="$pkgs $d:$arch"; done
dpkg --print-foreign-architectures | grep -qx "$arch" || $SUDO dpkg --add-architecture "$arch"
EXTRA_PKGS="$pkgs" "$top/scripts/deps.sh"

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# package.sh deb|rpm [--arch ARCH]: builds vigil-agent, vigil-collector and
# vigilctl packages into dist/, the distributions' way, from the release
# tarball (make dist) so that nothing but the released sources goes in: deb
# with debian/ and dpkg-buildpackage, rpm with packaging/rpm/vigil.spec and
# rpmbuild. --arch arm64 cross-builds the .debs with Debian's multiarch into
# dist/ARCH/ (tests/packaging/cross.sh runs their unit tests under qemu).
# Installs what it needs. See docs/packaging.md.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-}
arch=""
[ "${2:-}" = --arch ] && arch=${3:?--arch needs an architecture}
[ "$arch" = "$(dpkg --print-architecture 2> /dev/null)" ] && arch=""
out=$top/dist${arch:+/$arch}
work=$top/build/package
die() { echo "package.sh: $*" >&2; exit 1; }

case $kind in
deb) EXTRA_PKGS="debhelper dpkg-dev fakeroot lintian" "$top/scripts/deps.sh" ;;
rpm) EXTRA_PKGS="rpm rpmlint" "$top/scripts/deps.sh" ;;
*) die "usage: package.sh deb|rpm [--arch ARCH]" ;;
esac
[ -z "$arch" ] || [ "$kind" = deb ] || die "--arch is for the .debs"
[ -z "$arch" ] || "$top/scripts/cross-deps.sh" "$arch"

# The tarball, from a configured tree of its own.
mkdir -p "$work/conf" "$out"
[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh > /dev/null)
(cd "$work/conf" && { [ -f Makefile ] || "$top/configure" -q; } && make -s dist-gzip > /dev/null) ||
	die "make dist failed"
version=$(sed -n 's/^PACKAGE_VERSION = //p' "$work/conf/Makefile")
tarball=$work/conf/vigil-$version.tar.gz

deb() {
	local tree=$work/deb${arch:+-$arch} flags="-b -us -uc"
	# A cross-build's tests cannot run on the build machine: cross.sh runs them under qemu.
	[ -z "$arch" ] || flags="$flags -a$arch -Pcross,nocheck,pkg.vigil.nopq"
	rm -rf "$tree" && mkdir -p "$tree"
	rm -f "$out"/*.deb "$out"/*.buildinfo "$out"/*.changes
	tar -xzf "$tarball" -C "$tree"
	# shellcheck disable=SC2086
	(cd "$tree/vigil-$version" && DEB_BUILD_OPTIONS="${arch:+nocheck }${DEB_BUILD_OPTIONS:-}" \
		dpkg-buildpackage $flags) > "$tree/build.log" 2>&1 ||
		{ tail -n 40 "$tree/build.log"; die "dpkg-buildpackage failed (log: $tree/build.log)"; }
	cp "$tree"/*.deb "$tree"/*.buildinfo "$tree"/*.changes "$out/"
	ls "$tree"/*.deb
}

rpm_() {
	local topdir=$work/rpm opts=""
	rm -rf "$topdir" && mkdir -p "$topdir"
	rm -f "$out"/*.rpm
	# On Debian: the RPM distributions' macros, and no build dependencies in an rpm database
	# (they are Debian's packages); the unit tests run in the deb's build and in make check.
	[ -f /etc/debian_version ] && opts="--nodeps --nocheck --load=$top/packaging/rpm/macros.debian"
	# shellcheck disable=SC2086
	rpmbuild -tb $opts --define "_topdir $topdir" "$tarball" > "$topdir/build.log" 2>&1 ||
		{ tail -n 40 "$topdir/build.log"; die "rpmbuild failed (log: $topdir/build.log)"; }
	cp "$topdir"/RPMS/*/*.rpm "$out/"
	ls "$topdir"/RPMS/*/*.rpm
}

case $kind in
deb) deb ;;
rpm) rpm_ ;;
esac

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs, on Debian 12, what building and testing vigil needs and is missing.
set -eu
PKGS="build-essential autoconf automake libtool pkg-config
 libsystemd-dev libzstd-dev zstd libsqlite3-dev sqlite3 libcurl4-openssl-dev curl
 libmicrohttpd-dev libgnutls28-dev libjansson-dev libargon2-dev libqrencode-dev libinih-dev libnng-dev libcmocka-dev libssl-dev libpq-dev
 python3 openssl procps systemd-journal-remote monitoring-plugins-basic
 postgresql-15 debootstrap util-linux iproute2 nginx-light zbar-tools fonts-wqy-microhei rsyslog rsyslog-gnutls rsyslog-relp ${EXTRA_PKGS:-}"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing > /dev/null

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/syslog.sh [MESSAGES]: syslog in, side by side in one run: a local
# sender (bench/syslogload.c) to vigil's [syslog] and to rsyslog's imtcp and
# imudp (-> omfile), over TCP and UDP. Prints messages/s received and stored,
# CPU seconds per million, UDP's loss, and the ratios.
set -eu
. "$(dirname "$0")/lib.sh"
N=${1:-1000000}
bench_setup syslog "rsyslog"
cc -O2 -o "$W/syslogload" "$top/bench/syslogload.c"
python3 "$top/bench/syslog.py" "$B" "$W" "$N" "$W/syslogload"

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/forward.sh [LINES]: syslog out to a SIEM, side by side in one run:
#   vigil:   LINES stored, then a [forward] sends them all (RFC 5424, LF framing;
#            over TCP, then over TLS) from the store to a counting receiver
#   rsyslog: imfile -> omfwd TCP (RFC 5424 template) -> the same receiver
# Prints messages/s, CPU seconds per million messages, and the ratios.
set -eu
. "$(dirname "$0")/lib.sh"
N=${1:-1000000}
bench_setup forward "rsyslog openssl"
make -C "$B" nngsend > /dev/null
python3 "$top/bench/forward.py" "$B" "$W" "$N"

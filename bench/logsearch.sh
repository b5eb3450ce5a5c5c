#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/logsearch.sh [N]: the log center's search over N stored lines
# (default 1,000,000), with and without the token index, side by side with
# grep on the raw file and zstdcat | grep on it compressed with zstd -1, in
# one run; then counts per minute, a full pull by cursor, the ingest CPU and
# the stored size with and without the index. See bench/logsearch.py.
set -eu
. "$(dirname "$0")/lib.sh"
N=${1:-1000000}
bench_setup logsearch "zstd"
make -C "$B" nngsend > /dev/null
python3 "$top/bench/logsearch.py" "$B" "$W" "$N"

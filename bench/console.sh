#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/console.sh [N]: the alert console and its API with N open problems
# (default 10,000), side by side with Debian's Prometheus Alertmanager 0.25
# holding the same N alerts (its API and its own UI), in Debian's Chromium;
# ratios vigil / Alertmanager. See bench/console.py.
set -eu
. "$(dirname "$0")/lib.sh"
N=${1:-10000}
bench_setup console "prometheus-alertmanager chromium"
(cd "$top/tests/console" && npm ci --no-audit --no-fund --loglevel=error > /dev/null)
python3 "$top/bench/console.py" "$B" "$W" "$N" "$top/tests/console/node_modules"

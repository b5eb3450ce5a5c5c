#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/alerts.sh [ALERTS] [HOSTS] [PROBES]: the alert path.
#   latency:   a failing probe result sent to the collector as an agent
#              would -> the webhook received, over ALERTS alerts (default 200)
#   evaluator: one evaluation of a probe rule over HOSTS x PROBES probe
#              states (default 1000 x 50, 1% failing), and the CPU it costs
set -eu
. "$(dirname "$0")/lib.sh"
ALERTS=${1:-200}
HOSTS=${2:-1000}
PROBES=${3:-50}
bench_setup alerts ""
make -C "$B" -s nngsend
python3 "$top/bench/alerts.py" latency "$B" "$W/latency" "$ALERTS"
python3 "$top/bench/alerts.py" evaluator "$B" "$W/evaluator" "$HOSTS" "$PROBES" $((HOSTS * PROBES / 100))

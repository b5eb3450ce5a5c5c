#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Replays every stored fuzz input through both targets (no libFuzzer needed).
set -eu
B=${BUILDDIR:-.}
S=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
"$B/fuzz-export-replay" "$S/tests/fuzz/corpus/export"
"$B/fuzz-batch-replay" "$S/tests/fuzz/corpus/batch"

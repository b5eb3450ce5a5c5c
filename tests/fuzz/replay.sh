#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Replays every stored fuzz input through its target (no libFuzzer needed):
# corpus/NAME through fuzz-NAME-replay.
set -eu
B=${BUILDDIR:-.}
S=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
for target in export batch frame defs query parse syslog; do
	"$B/fuzz-$target-replay" "$S/tests/fuzz/corpus/$target"
done

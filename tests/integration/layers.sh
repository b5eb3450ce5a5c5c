#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The layout's rules (docs/architecture.md), by a tool: libraries include
# only those below them, one file holds a table's SQL, no file grows past
# what can be read at once. layers.py says what and where.
set -eu
S=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
exec "${PYTHON:-python3}" "$S/tests/integration/layers.py" "$S"

#!/usr/bin/env bash
# The project's benchmark: one markdown table of start-up, config step,
# image size, build (with -build) and memory, each against its target.
# Flags: go run ./bench -h. Progress on stderr, the table on stdout.
#
#   bash scripts/bench.sh                 # all but the build, a few minutes
#   bash scripts/bench.sh -build          # also cold, warm and no-change builds
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./bench "$@"

#!/usr/bin/env bash
# The test command: set up (packages, configure, build), then run the whole
# GoogleTest suite through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --with-test-tools
cd build
ctest --output-on-failure -j"$(nproc 2>/dev/null || echo 2)" "$@"

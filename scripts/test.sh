#!/usr/bin/env bash
# The test command: set up (packages, configure, build), then run the whole
# GoogleTest suite (and the fuzz targets' smoke runs) through ctest.
#   scripts/test.sh              the suite, g++ Release build in build/
#   scripts/test.sh --sanitize   the suite built by clang with AddressSanitizer
#                                and UBSan in build-sanitize/, fuzz targets
#                                linked with libFuzzer (README: how long it takes)
# Further arguments go to ctest (e.g. -R Oracle).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--sanitize" ]; then
  shift
  scripts/setup.sh --with-test-tools --sanitize
  cd build-sanitize
  # leak detection off: LibTorch keeps process-lifetime allocations (thread
  # pools, registries) that LeakSanitizer reports at exit; halt on any other error.
  export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:halt_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  ctest --output-on-failure -j"$(nproc 2>/dev/null || echo 2)" "$@"
  exit
fi
scripts/setup.sh --with-test-tools
cd build
ctest --output-on-failure -j"$(nproc 2>/dev/null || echo 2)" "$@"

#!/bin/bash
# clang-tidy's bugprone and performance checks (.clang-tidy) over MUROAN's
# sources, with the compile commands of build/ (scripts/setup.sh writes them).
# Slow (LibTorch's headers): about a minute per file on 2 cores.
#   scripts/tidy.sh                 # every source under src/ and apps/
#   scripts/tidy.sh src/eval/*.cpp  # some
set -euo pipefail
cd "$(dirname "$0")/.."
test -f build/compile_commands.json || { echo "build/compile_commands.json missing: run scripts/setup.sh" >&2; exit 1; }
files=("$@")
if ((${#files[@]} == 0)); then mapfile -t files < <(git ls-files 'src/*.cpp' 'apps/*.cpp'); fi
status=0
for f in "${files[@]}"; do
  clang-tidy -p build --quiet "$f" 2>/dev/null || status=1
done
exit $status

#!/bin/bash
# The installed package: `cmake --install` into a temporary prefix, then
# examples/cpp built against it twice (find_package(muroan) and pkg-config
# muroan), each run on the tiny TorchScript fixture; both must print the ASR the
# installed `muroan attack` measures on the same ten samples.
#   tests/package_test.sh SOURCE_DIR BINARY_DIR
set -euo pipefail
src=$1
bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$bin" --prefix "$prefix" > "$tmp/install.log"
test -f "$prefix/lib/cmake/muroan/muroanConfig.cmake"
test -f "$prefix/include/muroan/analysis.h"
data=$src/tests/data/package

# 1. CMake: find_package(muroan) -> muroan::muroan
cmake -S "$src/examples/cpp" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
  > "$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/cmake-build" > "$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
"$tmp/cmake-build/attack_ten" "$data/manifest.json" > "$tmp/cmake.out"

# 2. pkg-config muroan
PKG_CONFIG_PATH=$prefix/lib/pkgconfig g++ -O1 -o "$tmp/attack_ten_pc" "$src/examples/cpp/attack_ten.cpp" \
  $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs muroan)
"$tmp/attack_ten_pc" "$data/manifest.json" > "$tmp/pc.out"

# 3. the installed program on the same samples
"$prefix/bin/muroan" attack --manifest "$data/manifest.json" --method greedy --samples 10 --device cpu --quiet \
  --out "$tmp/attack" > "$tmp/attack.out" 2> /dev/null
# "ASR (any flip) 100.0% [95% CI 72.2-100.0%]" -> the table's "100.0% [95% CI 72.2%-100.0%]"
line=$(grep -o 'ASR (any flip) [0-9.]*% \[95% CI [0-9.]*-[0-9.]*%\]' "$tmp/attack.out" || true)
test -n "$line" || { echo "no ASR in: $(cat "$tmp/attack.out")"; exit 1; }
expected=$(echo "$line" | sed -E 's/ASR \(any flip\) ([0-9.]+%) \[95% CI ([0-9.]+)-([0-9.]+%)\]/\1 [95% CI \2%-\3] (10 of 10 attacked)/')
for out in "$tmp/cmake.out" "$tmp/pc.out"; do
  grep -qF "ASR (any flip)  $expected" "$out" || {
    echo "expected 'ASR (any flip)  $expected' in $out:"; cat "$out"; exit 1; }
done
# The same results; only the time per sample may differ between the runs.
untimed() { sed -E 's/[0-9.]+ s per attacked sample/T s per attacked sample/' "$1"; }
cmp <(untimed "$tmp/cmake.out") <(untimed "$tmp/pc.out")
echo "package test passed: $expected"

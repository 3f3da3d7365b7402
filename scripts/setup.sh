#!/usr/bin/env bash
# Installs MUROAN's Debian packages (when missing), configures and builds it.
# Used by scripts/main.sh and scripts/test.sh; safe to run again.
# MUROAN_BUILD_TARGETS: build only these targets (the main job builds the
# program only, bench/fuzz.sh the fuzzers only).
#   scripts/setup.sh [--with-test-tools] [--sanitize]
# --with-test-tools also installs what only the test suite uses: Debian's
# PyTorch (to export a TorchScript model in the bring-your-own-model test) and
# Chromium (to load the HTML report in a real browser).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ccache pkg-config
  libtorch-dev libopenblas0-pthread        # LibTorch; OpenBLAS makes matrix products ~20x faster
  nlohmann-json3-dev libcli11-dev libstb-dev zlib1g-dev
  libsentencepiece-dev                     # SentencePiece tokenizers for raw text
  libsndfile1-dev                          # WAV (and FLAC, ...) files of audio inputs
  libgtest-dev libbenchmark-dev
  dataset-fashion-mnist                    # items of the fashion-match and spoken-fashion tasks
  espeak-ng                                # the speech of the spoken-fashion task
)
with_test_tools=0 sanitize=0
for arg in "$@"; do
  case "$arg" in
    --with-test-tools) with_test_tools=1 ;;
    --sanitize) sanitize=1 ;;  # a clang ASan + UBSan + libFuzzer build in build-sanitize/
    *) echo "setup: unknown option $arg" >&2; exit 2 ;;
  esac
done
if ((with_test_tools)); then
  packages+=(python3-torch chromium openmpi-bin sentencepiece clang-format)  # sentencepiece: spm_train for a test model
fi
if ((sanitize)); then
  packages+=(clang libclang-rt-14-dev)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc 2>/dev/null || echo 2)
if ((sanitize)); then
  CXX=clang++ cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMUROAN_SANITIZE=ON \
    -DMUROAN_FUZZ=ON -DMUROAN_BUILD_BENCH=OFF ${MUROAN_CMAKE_ARGS:-} >/dev/null
  cmake --build build-sanitize -j"$jobs" ${MUROAN_BUILD_TARGETS:+--target $MUROAN_BUILD_TARGETS}
  exit
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${MUROAN_CMAKE_ARGS:-} >/dev/null
cmake --build build -j"$jobs" ${MUROAN_BUILD_TARGETS:+--target $MUROAN_BUILD_TARGETS}

#!/usr/bin/env bash
# The CUDA path, checked and timed in one run on a machine with an NVIDIA GPU
# and a pip-installed PyTorch but none of MUROAN's Debian packages (the
# workplace's lent GPU machine). Builds the program against that PyTorch's
# LibTorch with the kit of bench/gpu_kit.sh, then trains, attacks, certifies,
# analyzes and benchmarks on the GPU; each step has its own time limit and the
# run goes on after a failed step.
#   bench/gpu_check.sh [KIT]        (default .gpu)
# Results: $OUT/steps.txt (one line per step: exit code, seconds) and
# $OUT/gpu.tar.gz (every log, JSON and results file), refreshed after each step.
set -uo pipefail
cd "$(dirname "$0")/.."
kit=$(realpath "${1:-.gpu}")
OUT=${OUT:-runs/gpu}
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
work=${WORK:-/tmp/muroan-gpu}
rm -rf "$work" && mkdir -p "$work"
jobs=$(nproc)

pack() { tar -czf "$OUT/gpu.tar.gz" -C "$work" . 2>/dev/null; }
# step NAME SECONDS COMMAND...: runs COMMAND with its output in $work/NAME.log.
step() {
  local name=$1 limit=$2 start rc
  shift 2
  start=$(date +%s%N)
  timeout --kill-after=5 "$limit" "$@" >"$work/$name.log" 2>&1
  rc=$?
  printf '%-26s rc=%-3s %7.1f s\n' "$name" "$rc" "$(((($(date +%s%N) - start) / 100000000)))e-1" | tee -a "$OUT/steps.txt"
  pack
  return $rc
}

{
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm --format=csv
  g++ --version | head -1
  cmake --version | head -1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), "cxx11abi", torch.compiled_with_cxx11_abi())'
  nproc
} >"$work/env.log" 2>&1
cat "$work/env.log"
torch_root=$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))')
abi=$(python3 -c 'import torch; print(int(torch.compiled_with_cxx11_abi()))')

# pkg-config: the machine's, else the kit's (its library beside it).
pkgconfig=$(command -v pkg-config || true)
if [ -z "$pkgconfig" ]; then
  printf '#!/bin/sh\nLD_LIBRARY_PATH=%s/lib exec %s/bin/pkgconf "$@"\n' "$kit" "$kit" >"$kit/bin/pkg-config"
  chmod +x "$kit/bin/pkg-config"
  pkgconfig=$kit/bin/pkg-config
fi
# The machine's own copy of a shared library (SONAME), by path.
system_lib() { ldconfig -p | awk -v name="$1" '$1 == name && /x86-64/ {print $NF; exit}'; }
stdcxx=$(system_lib libstdc++.so.6)
prefix="$kit;$PWD/bench/gpu"
[ -f /usr/include/zlib.h ] || prefix="$prefix;$kit/zlib"
# LibTorch headers that need C++20 say so with an #error; build as C++20 then.
standard=17
grep -rqs "C++20 or later" "$torch_root/include/ATen/" "$torch_root/include/c10/macros/" && standard=20
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
build=build-gpu
step configure 120 env PKG_CONFIG_PATH="$kit/lib/pkgconfig" cmake -S . -B "$build" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_STANDARD="$standard" -DMUROAN_BUILD_TESTS=OFF -DMUROAN_BUILD_BENCH=OFF -DMUROAN_USE_CCACHE=OFF \
  -DCMAKE_PREFIX_PATH="$prefix" -DMUROAN_TORCH_ROOT="$torch_root" -DMUROAN_TORCH_CXX11_ABI="$abi" \
  -DPKG_CONFIG_EXECUTABLE="$pkgconfig" -DMUROAN_STDCXX="$stdcxx" || exit 1
# Keep going after an error: one run lists every file that does not compile.
keep_going=(-k 0)
[ ${#generator[@]} -eq 0 ] && keep_going=(-k)
step build 330 cmake --build "$build" -j"$jobs" --target muroan -- "${keep_going[@]}" || {
  grep -E "error|Error" "$work/build.log" | head -40
  exit 1
}
# The kit's libraries need each other (libsndfile's codecs): the program runs
# with them on its library path (and with PRELOAD, see below, preloaded).
bin=$PWD/$build/apps/muroan/muroan
M=$work/muroan
wrap() {
  printf '#!/bin/sh\n%sLD_LIBRARY_PATH=%s/lib exec %s "$@"\n' "${1:+LD_PRELOAD=$1 }" "$kit" "$bin" >"$M"
  chmod +x "$M"
}
repo=$PWD
export MUROAN_FASHION_MNIST_DIR=$kit/fashion-mnist
cd "$work"
fm=$kit/fm-concat triage=$kit/triage-concat byom=(--manifest "$kit/byom/manifest.json" --data "$kit/byom/samples.jsonl")

# The program must read a model: if it cannot, a backtrace (cuda-gdb is the
# debugger there) and the libraries it loads go to diagnosis.log, and library
# preloads are tried in turn; the first that works is used for the rest.
smoke=$work/smoke.sh
printf '#!/bin/sh\nset -ex\n%s info --manifest %s/byom/manifest.json --device cpu\n%s' "$M" "$kit" "$M" >"$smoke"
printf ' attack --checkpoint %s --method greedy --samples 2 --device cpu --no-timing --quiet --out smoke-$1\n' "$fm" >>"$smoke"
chmod +x "$smoke"
wrap ""
if ! step smoke 60 "$smoke" plain; then
  {
    ldd "$bin"
    ls "$torch_root/include"
    ldconfig -p | grep -E "libz\.so|libstdc|libgomp"
    LD_LIBRARY_PATH=$kit/lib timeout 120 cuda-gdb -batch -ex run -ex bt -ex "info sharedlibrary" --args "$bin" info \
      --manifest "$kit/byom/manifest.json" --device cpu
  } >diagnosis.log 2>&1
  pack
  for preload in "$(system_lib libz.so.1)" "$torch_root/lib/libtorch_cpu.so" "$stdcxx"; do
    [ -n "$preload" ] || continue
    wrap "$preload"
    step "smoke-preload-$(basename "$preload")" 60 "$smoke" "$(basename "$preload")" && break
    wrap ""
  done
fi

step info 60 "$M" info --manifest "$kit/byom/manifest.json" --device cuda
# In order of what matters most, each step within its own limit. Every attack,
# timed against the model's forward rows/s (--parallel-samples default: 64 on a GPU).
step bench-fm-cuda 150 "$M" bench --checkpoint "$fm" --device cuda --batch-sizes 1,16,64,256,1024,4096 \
  --thread-counts "$jobs" --methods greedy,reference,saliency,sparse-rs --samples 100 --min-seconds 0.5 \
  --out bench-fm-cuda.json
# Training on the GPU, with the settings of the kit's checkpoint (trained on the CPU).
step train-fm-concat 150 "$M" train --task fashion-match --fusion concat --epochs 4 --seed 1 --device cuda --quiet \
  --out fm-concat-cuda
# Same results at K = 1 and K = 64 on the GPU, and against the CPU of the same machine.
attack() {  # METHOD SUFFIX ARGS...
  local method=$1 suffix=$2
  shift 2
  step "attack-$method-$suffix" 90 "$M" attack --checkpoint "$fm" --method "$method" --samples 100 --no-timing \
    --quiet --out "attack-$method-$suffix" "$@"
}
attack greedy k1 --device cuda --parallel-samples 1
attack greedy k64 --device cuda --parallel-samples 64
step certify-fm-cuda 90 "$M" certify --checkpoint "$fm" --device cuda --samples 20 --keep 45,all --out certify-fm-cuda
step bench-byom-cuda 120 "$M" bench "${byom[@]}" --device cuda --batch-sizes 1,64,256,1024,4096 \
  --thread-counts "$jobs" --methods greedy,reference,saliency --samples 100 --min-seconds 0.5 --out bench-byom-cuda.json
step analyze-triage-cuda 150 "$M" analyze --task triage --fusions concat,late --methods greedy,reference \
  --samples 50 --epochs 3 --device cuda --quiet --out analyze-triage-cuda
step mixed-precision 90 python3 "$repo/bench/gpu_mixed_precision.py" "$kit/byom"
step train-fm-xattn 90 "$M" train --task fashion-match --fusion xattn --epochs 1 --seed 1 --device cuda --quiet \
  --out fm-xattn-cuda
step attack-xattn-saliency 60 "$M" attack --checkpoint fm-xattn-cuda --device cuda --method saliency --samples 30 \
  --quiet --out attack-xattn-saliency
step attack-xattn-on-cpu 60 "$M" attack --checkpoint fm-xattn-cuda --device cpu --method greedy --samples 5 \
  --quiet --out attack-xattn-on-cpu
step attack-triage-cuda 60 "$M" attack --checkpoint "$triage" --device cuda --method greedy --samples 100 --quiet \
  --out attack-triage-cuda
attack greedy cpu --device cpu
attack reference k1 --device cuda --parallel-samples 1
attack reference k64 --device cuda --parallel-samples 64
attack saliency k1 --device cuda --parallel-samples 1
attack saliency k64 --device cuda --parallel-samples 64
step bench-fm-cuda-k1 90 "$M" bench --checkpoint "$fm" --device cuda --batch-sizes 256 --thread-counts "$jobs" \
  --methods greedy,reference --samples 100 --parallel-samples 1 --min-seconds 0.5 --out bench-fm-cuda-k1.json
step bench-fm-cpu 120 "$M" bench --checkpoint "$fm" --device cpu --batch-sizes 64,256,1024 --thread-counts "$jobs" \
  --methods greedy,reference --samples 100 --min-seconds 0.5 --out bench-fm-cpu.json
attack reference cpu --device cpu
attack saliency cpu --device cpu
python3 - greedy reference saliency <<'PY' | tee -a "$OUT/steps.txt"
import json, sys
def load(d):
    try:
        return [json.loads(l) for l in open(d + "/results.jsonl")]
    except OSError:
        return None
for m in sys.argv[1:]:
    base = load(f"attack-{m}-k1")
    for other in (f"attack-{m}-k64", f"attack-{m}-cpu"):
        o = load(other)
        if base is None or o is None:
            print(f"{m}: attack-{m}-k1 vs {other}: missing")
            continue
        same = sum(a == b for a, b in zip(base, o))
        succ = lambda rs: sum(bool(r.get("success")) for r in rs)
        print(f"{m}: attack-{m}-k1 vs {other}: {len(base)} vs {len(o)} records, {same} identical, "
              f"successes {succ(base)} vs {succ(o)}")
PY
pack

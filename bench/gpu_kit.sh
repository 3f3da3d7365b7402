#!/usr/bin/env bash
# Packs what bench/gpu_check.sh needs on a GPU machine that has PyTorch but
# none of MUROAN's Debian packages (the workplace's lent machine: no network):
# the headers, libraries, pkg-config files and CMake package files of
# nlohmann-json, CLI11, stb, libsndfile, SentencePiece and zlib, pkgconf itself,
# Fashion-MNIST, and the models and samples measured there (trained here).
#   bench/gpu_kit.sh [KIT]      (default .gpu; trains with build/apps/muroan/muroan)
# KIT is ignored by git (.git/info/exclude) and travels with `carry`.
set -euo pipefail
cd "$(dirname "$0")/.."
kit=${1:-.gpu}
muroan=build/apps/muroan/muroan
grep -qx "/$kit/" .git/info/exclude 2>/dev/null || echo "/$kit/" >>.git/info/exclude
rm -rf "$kit/include" "$kit/lib" "$kit/share" "$kit/bin" "$kit/zlib"
mkdir -p "$kit"/{include,lib/pkgconfig,share/cmake,bin,fashion-mnist}
multiarch=/usr/lib/x86_64-linux-gnu

cp -r /usr/include/nlohmann /usr/include/CLI "$kit/include/"
cp -r /usr/include/stb "$kit/include/"
cp /usr/include/{sndfile.h,sndfile.hh,sentencepiece_processor.h,sentencepiece_trainer.h} "$kit/include/"
cp -r /usr/share/cmake/nlohmann_json /usr/share/cmake/CLI11 "$kit/share/cmake/"

# Each library with the ones it needs beyond glibc and libstdc++ (ldd), under
# their sonames, plus the unversioned names the linker looks for.
copy_lib() {
  local real
  real=$(readlink -f "$1")
  cp "$real" "$kit/lib/$(objdump -p "$real" | awk '/SONAME/ {print $2}')"
  ldd "$real" | awk '/=> \// {print $1, $3}' | while read -r soname path; do
    case "$soname" in libc.so*|libm.so*|libstdc++*|libgcc_s*|ld-linux*|libpthread*|libdl*) continue ;; esac
    [ -e "$kit/lib/$soname" ] || cp "$(readlink -f "$path")" "$kit/lib/$soname"
  done
}
for lib in libsndfile libsentencepiece libsentencepiece_train libstb; do
  copy_lib "$multiarch/$lib.so"
  (cd "$kit/lib" && ln -sf "$(objdump -p "$(readlink -f "$multiarch/$lib.so")" | awk '/SONAME/ {print $2}')" "$lib.so")
done
# zlib apart: used only where the machine has no zlib.h (gpu_check.sh), so that
# the machine's own libz is the one loaded otherwise.
mkdir -p "$kit/zlib/include" "$kit/zlib/lib"
cp /usr/include/{zlib.h,zconf.h} "$kit/zlib/include/"
cp "$(readlink -f $multiarch/libz.so)" "$kit/zlib/lib/libz.so.1" && ln -sf libz.so.1 "$kit/zlib/lib/libz.so"
cp "$(command -v pkgconf)" "$kit/bin/pkgconf"
copy_lib "$multiarch/libpkgconf.so.3"

# pkg-config files relative to the kit (no Requires.private: the libraries are shared).
pc() {  # name libs cflags
  printf 'prefix=${pcfiledir}/../..\nName: %s\nDescription: %s (MUROAN GPU kit)\nVersion: 0\nLibs: -L${prefix}/lib %s\nCflags: %s\n' \
    "$1" "$1" "$2" "$3" >"$kit/lib/pkgconfig/$1.pc"
}
pc stb "-lstb" '-I${prefix}/include/stb'
pc sndfile "-lsndfile" '-I${prefix}/include'
pc sentencepiece "-lsentencepiece -lsentencepiece_train" '-I${prefix}/include'

cp /usr/share/datasets/fashion-mnist/*.gz "$kit/fashion-mnist/"

# What is measured there: a fashion-match concat checkpoint, a triage concat
# checkpoint, and the bring-your-own TorchScript model of examples/export_pytorch.py,
# each trained here (CPU) with fixed seeds.
[ -x "$muroan" ] || { echo "gpu_kit: build $muroan first (the models are trained with it)" >&2; exit 2; }
if [ ! -f "$kit/fm-concat/checkpoint.json" ]; then
  "$muroan" train --task fashion-match --fusion concat --epochs 4 --seed 1 --out "$kit/fm-concat" --device cpu
fi
if [ ! -f "$kit/triage-concat/checkpoint.json" ]; then
  "$muroan" train --task triage --fusion concat --seed 1 --out "$kit/triage-concat" --device cpu
fi
if [ ! -f "$kit/byom/model.pt" ]; then
  tmp=$(mktemp -d)
  "$muroan" export-data --task fashion-match --split train --samples 12000 --out "$tmp/train"
  "$muroan" export-data --task fashion-match --split test --samples 1000 --out "$tmp/test"
  /usr/bin/python3 examples/export_pytorch.py --train "$tmp/train" --test "$tmp/test" --out "$kit/byom" --epochs 6
  rm -rf "$tmp"
fi
du -sh "$kit"

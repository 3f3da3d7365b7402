#!/bin/bash
# Fails, listing the files, when a tracked C++ file differs from what
# clang-format makes of it with the repository's .clang-format.
#   tests/format_check.sh CLANG_FORMAT SOURCE_DIR
set -euo pipefail
clang_format=$1
cd "$2"
mapfile -t files < <(git ls-files '*.cpp' '*.h' 2>/dev/null || find src include apps tests examples fuzz bench \( -name '*.cpp' -o -name '*.h' \))
bad=()
for f in "${files[@]}"; do
  "$clang_format" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  echo "not formatted (run: clang-format -i ${bad[*]}):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "${#files[@]} files formatted"

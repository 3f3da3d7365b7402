#!/usr/bin/env bash
# Fuzzes every reader of untrusted files with libFuzzer (clang, ASan + UBSan):
# RUNS executions each (default 10^6), seeded from fuzz/corpus/<target>/, and
# writes the outcome to docs/fuzz.md (the rows of targets not run this time are
# kept, each row says which commit it fuzzed). A crash leaves its input beside
# the log in runs/fuzz/<target>/ and makes the script exit non-zero.
#   bench/fuzz.sh [RUNS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1000000}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(manifest samples image text checkpoint results)
MUROAN_BUILD_TARGETS="${targets[*]/%/_fuzzer}" scripts/setup.sh --sanitize
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
out=docs/fuzz.md
commit=$(git rev-parse --short HEAD 2>/dev/null || echo "?")
git diff --quiet 2>/dev/null || commit="$commit+changes"
declare -A rows
status=0
for t in "${targets[@]}"; do
  work="runs/fuzz/$t"
  rm -rf "$work" && mkdir -p "$work/found"
  start=$(date +%s)
  set +e
  (cd "$work" && "../../../build-sanitize/fuzz/${t}_fuzzer" -runs="$runs" -max_len=4096 -timeout=20 \
      -rss_limit_mb=4096 -print_final_stats=1 found "../../../fuzz/corpus/$t" > log.txt 2>&1)
  rc=$?
  set -e
  secs=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log.txt" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$work/log.txt" | tail -1 | grep -o '[0-9]*' || echo "?")
  corpus=$(ls "$work/found" | wc -l)
  verdict="no crash"
  ((rc == 0)) || { verdict="**failed (rc $rc), see $work/log.txt**"; status=1; }
  rows[$t]="| ${t} | ${execs} | ${secs} s | ${cov} | ${corpus} | ${verdict} | $(date -u +%Y-%m-%d) ${commit} |"
  echo "fuzz: $t: $execs executions in ${secs}s, rc $rc" >&2
done
[ -f "$out" ] && cp "$out" "$out.old"
{
  echo "# Fuzzing the readers"
  echo
  echo "Written by \`bench/fuzz.sh\`: libFuzzer (clang $(clang++ -dumpversion)), AddressSanitizer +"
  echo "UBSan, every MUROAN library instrumented; seeds from \`fuzz/corpus/\`; inputs up to 4096"
  echo "bytes; $(nproc) cores ($(uname -m)), shared, one target at a time. A target passes an input"
  echo "when the reader answers or throws \`muroan::Error\` (one clear line); any other exception, a"
  echo "crash, a sanitizer report, 4 GiB of memory or a 20 s hang is a finding."
  echo
  echo "| target | executions | wall time | coverage (edges) | new corpus inputs | result | run, commit |"
  echo "| --- | ---: | ---: | ---: | ---: | --- | --- |"
  for t in manifest samples image text checkpoint results; do
    if [ -n "${rows[$t]:-}" ]; then echo "${rows[$t]}"; else grep "^| $t |" "$out.old" 2>/dev/null || true; fi
  done
} > "$out.new"
mv "$out.new" "$out"
rm -f "$out.old"
echo "fuzz: wrote $out" >&2
exit $status

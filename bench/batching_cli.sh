#!/usr/bin/env bash
# Batched versus one-query-at-a-time reference attack on a trained checkpoint:
# the same algorithm, model and samples, run alternately (so machine load hits
# both alike), REPEATS times each; prints the medians and their ratio.
#   bench/batching_cli.sh CHECKPOINT [SAMPLES=20] [REPEATS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
MUROAN=${MUROAN:-build/apps/muroan/muroan}
ck=$1; samples=${2:-20}; repeats=${3:-3}
tmp=$(mktemp -d)
for i in $(seq "$repeats"); do
  for b in 256 1; do
    "$MUROAN" attack --checkpoint "$ck" --method reference --samples "$samples" --batch-size "$b" \
      --device cpu --quiet --no-resume --out "$tmp/b$b-$i" >/dev/null
  done
done
python3 - "$tmp" "$repeats" <<'PY'
import json, statistics, sys
tmp, repeats = sys.argv[1], int(sys.argv[2])
res = {}
for b in (256, 1):
    sec, q = [], []
    for i in range(1, repeats + 1):
        s = json.load(open(f"{tmp}/b{b}-{i}/summary.json"))
        sec.append(s["seconds_per_sample"]); q.append(s["queries_per_sample"])
    res[b] = (statistics.median(sec), statistics.median(q))
    print(f"batch {b:>3}: {res[b][0]*1000:.1f} ms/sample (median of {repeats}), "
          f"{res[b][1]:.1f} queries/sample, {res[b][1]/res[b][0]:.0f} queries/s")
print(f"ratio (one query at a time / batched): {res[1][0]/res[256][0]:.2f}x")
PY
rm -rf "$tmp"

#!/usr/bin/env bash
# Batched versus one-query-at-a-time reference attack on a trained checkpoint:
# the same algorithm, model and samples, run alternately (so machine load hits
# all variants alike), REPEATS times each; prints the medians and their ratios.
#   batched        --batch-size 256 (rows that leave a modality clean share its encoding)
#   batched-full   --batch-size 256 --no-encoder-sharing (every row encoded in full)
#   one-at-a-time  --batch-size 1
#   bench/batching_cli.sh CHECKPOINT [SAMPLES=20] [REPEATS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
MUROAN=${MUROAN:-build/apps/muroan/muroan}
ck=$1; samples=${2:-20}; repeats=${3:-3}
tmp=$(mktemp -d)
declare -A flags=([batched]="--batch-size 256" [batched-full]="--batch-size 256 --no-encoder-sharing"
                  [one-at-a-time]="--batch-size 1")
variants=(batched batched-full one-at-a-time)
for i in $(seq "$repeats"); do
  for v in "${variants[@]}"; do
    # shellcheck disable=SC2086
    "$MUROAN" attack --checkpoint "$ck" --method reference --samples "$samples" ${flags[$v]} \
      --device cpu --quiet --no-resume --out "$tmp/$v-$i" >/dev/null
  done
done
python3 - "$tmp" "$repeats" "${variants[@]}" <<'PY'
import json, statistics, sys
tmp, repeats, variants = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
res = {}
for v in variants:
    sec, q = [], []
    for i in range(1, repeats + 1):
        s = json.load(open(f"{tmp}/{v}-{i}/summary.json"))
        sec.append(s["seconds_per_sample"]); q.append(s["queries_per_sample"])
    res[v] = (statistics.median(sec), statistics.median(q))
    print(f"{v:>14}: {res[v][0]*1000:.1f} ms/sample (median of {repeats}), "
          f"{res[v][1]:.1f} queries/sample, {res[v][1]/res[v][0]:.0f} queries/s")
one = res["one-at-a-time"][0]
print(f"ratio one-at-a-time / batched:      {one/res['batched'][0]:.2f}x")
print(f"ratio one-at-a-time / batched-full: {one/res['batched-full'][0]:.2f}x")
PY
rm -rf "$tmp"

#!/usr/bin/env bash
# How good are the attacks? greedy, saliency, sparse-rs and reference at equal
# query budgets, and the exact minimum as the yardstick (docs/attacks.md).
#   bench/attack_baselines.sh CHECKPOINT_OR_MANIFEST [OUT]
# Environment, with defaults: MUROAN=build/apps/muroan/muroan SAMPLES=60
#   BUDGETS="1000 10000" METHODS="greedy saliency sparse-rs reference" MAX_SIZE=2
#   EXTRA="" (more muroan attack options, e.g. --success flip); a method may
#   carry flags after "+": greedy+refine runs `--method greedy --refine`
# Writes OUT/<method>-q<budget>/ and OUT/exact/ (results resumed when present)
# and prints a markdown table: fooled ASR [95% Wilson CI], median rate, queries,
# and the optimality gap on the samples whose exact minimum is known.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: bench/attack_baselines.sh CHECKPOINT_OR_MANIFEST [OUT]}
OUT=${2:-runs/attack-baselines}
MUROAN=${MUROAN:-build/apps/muroan/muroan}
SAMPLES=${SAMPLES:-60}
BUDGETS=${BUDGETS:-1000 10000}
METHODS=${METHODS:-greedy saliency sparse-rs reference}
MAX_SIZE=${MAX_SIZE:-2}
if [ -f "$model/checkpoint.json" ]; then source_opt=(--checkpoint "$model"); else source_opt=(--manifest "$model"); fi
run() {  # OUT-subdir, options...
  local dir=$OUT/$1; shift
  "$MUROAN" attack "${source_opt[@]}" --samples "$SAMPLES" --quiet ${EXTRA:-} "$@" --out "$dir" >/dev/null
}
run exact --method exact --max-size "$MAX_SIZE"
for q in $BUDGETS; do
  for m in $METHODS; do
    IFS=+ read -r -a parts <<< "$m"
    flags=()
    for f in "${parts[@]:1}"; do flags+=("--$f"); done
    run "$m-q$q" --method "${parts[0]}" "${flags[@]}" --max-queries "$q"
  done
done
python3 bench/attack_baselines_table.py "$OUT" "$MAX_SIZE" $BUDGETS -- $METHODS

#!/usr/bin/env bash
# Attacks every model of the zoo (trained by bench/train_zoo.sh, reused here)
# with each decoupling attack and writes docs/attacks.md (ASR, median decoupling
# rate, ASR-versus-budget data) from the analyze result folders.
#   bench/attack_zoo.sh [tasks...]    (default: fashion-match shapes-vqa)
# Environment: SAMPLES (default 50), METHODS (reference,greedy,saliency,random),
# EPOCHS (8: must match the zoo so its checkpoints are reused), ZOO (runs/zoo),
# OUT (runs/attack-zoo), MUROAN (build/apps/muroan/muroan)
set -euo pipefail
cd "$(dirname "$0")/.."
MUROAN=${MUROAN:-build/apps/muroan/muroan}
SAMPLES=${SAMPLES:-50}
METHODS=${METHODS:-reference,greedy,saliency,random}
EPOCHS=${EPOCHS:-8}
ZOO=${ZOO:-runs/zoo}
OUT=${OUT:-runs/attack-zoo}
tasks=("$@")
((${#tasks[@]})) || tasks=(fashion-match shapes-vqa)
for task in "${tasks[@]}"; do
  fusions=$(ls "$ZOO/$task" | paste -sd, -)
  mkdir -p "$OUT/$task/checkpoints"
  for f in ${fusions//,/ }; do
    [ -d "$OUT/$task/checkpoints/$f" ] || cp -r "$ZOO/$task/$f" "$OUT/$task/checkpoints/$f"
  done
  "$MUROAN" analyze --task "$task" --fusions "$fusions" --methods "$METHODS" --samples "$SAMPLES" \
    --epochs "$EPOCHS" --device cpu --quiet --out "$OUT/$task"
done
python3 bench/attack_table.py "$OUT" > docs/attacks.md
echo "wrote docs/attacks.md"

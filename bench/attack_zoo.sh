#!/usr/bin/env bash
# Attacks every model of the zoo (trained by bench/train_zoo.sh, reused here)
# with each decoupling attack and writes docs/attacks.md (ASR, median decoupling
# rate, ASR-versus-budget data) from the analyze result folders.
#   bench/attack_zoo.sh [tasks...]    (default: fashion-match shapes-vqa)
# Environment: SAMPLES (default 50), METHODS (reference,greedy,saliency,random),
# ZOO (runs/zoo), OUT (runs/attack-zoo), MUROAN (build/apps/muroan/muroan).
# The training settings given to analyze are read from the zoo's concat
# checkpoint, so that analyze reuses the zoo's checkpoints instead of training.
set -euo pipefail
cd "$(dirname "$0")/.."
MUROAN=${MUROAN:-build/apps/muroan/muroan}
SAMPLES=${SAMPLES:-50}
METHODS=${METHODS:-reference,greedy,saliency,random}
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
  read -r epochs lr patience < <(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["training"]; print(t["epochs_max"], repr(t["learning_rate"]), t["patience"])' "$ZOO/$task/concat/checkpoint.json")
  "$MUROAN" analyze --task "$task" --fusions "$fusions" --methods "$METHODS" --samples "$SAMPLES" \
    --epochs "$epochs" --lr "$lr" --patience "$patience" --device cpu --quiet --out "$OUT/$task"
done
python3 bench/attack_table.py "$OUT" > docs/attacks.md
echo "wrote docs/attacks.md"

#!/usr/bin/env bash
# Trains every model of the zoo on the built-in tasks and writes the accuracy
# table docs/zoo_accuracy.md from the checkpoints' records.
#   bench/train_zoo.sh [tasks...]     (default: fashion-match shapes-vqa)
# Environment: EPOCHS, LR, PATIENCE (default 0: each task's own recipe, `muroan
# tasks`: fashion-match and triage 12, 5e-4, 3; shapes-vqa 60, 1e-3, 10;
# spoken-fashion 30, 5e-4, 5), SEED (1), OUT (runs/zoo), MUROAN (build/apps/muroan/muroan),
# FUSIONS (default: every model of `muroan models` that takes the task's inputs;
# split the list to run two trainings side by side), DOC (docs/zoo_accuracy.md).
set -euo pipefail
cd "$(dirname "$0")/.."
MUROAN=${MUROAN:-build/apps/muroan/muroan}
SEED=${SEED:-1}
OUT=${OUT:-runs/zoo}
DOC=${DOC:-docs/zoo_accuracy.md}
tasks=("$@")
((${#tasks[@]})) || tasks=(fashion-match shapes-vqa)
fusions=${FUSIONS:-$("$MUROAN" models | awk '{print $1}')}
for task in "${tasks[@]}"; do
  epochs=${EPOCHS:-0} lr=${LR:-0} patience=${PATIENCE:-0}
  for fusion in $fusions; do
    dir="$OUT/$task/$fusion"
    if [ -f "$dir/checkpoint.json" ]; then echo "have $dir"; continue; fi
    # The unimodal baselines of kinds the task does not have.
    case "$task:$fusion" in
      triage:image-only | fashion-match:tabular-only | fashion-match:audio-only | shapes-vqa:tabular-only | \
        shapes-vqa:audio-only | spoken-fashion:tabular-only | *:signal-only) continue ;;
    esac
    "$MUROAN" train --task "$task" --fusion "$fusion" --epochs "$epochs" --lr "$lr" --patience "$patience" --seed "$SEED" --device cpu \
      --quiet --out "$dir"
  done
done
python3 bench/zoo_table.py "$OUT" "${tasks[@]}" > "$DOC"  # only the tasks trained here
echo "wrote $DOC"

#!/usr/bin/env bash
# Trains every model of the zoo on the built-in tasks and writes the accuracy
# table docs/zoo_accuracy.md from the checkpoints' records.
#   bench/train_zoo.sh [tasks...]     (default: fashion-match shapes-vqa)
# Environment: EPOCHS (default 12), LR (5e-4), PATIENCE (3) -- muroan train's
# defaults --, SEED (1), OUT (runs/zoo), MUROAN (build/apps/muroan/muroan),
# FUSIONS (default: every model of `muroan models`; split the list to run two
# trainings side by side).
set -euo pipefail
cd "$(dirname "$0")/.."
MUROAN=${MUROAN:-build/apps/muroan/muroan}
EPOCHS=${EPOCHS:-12}
LR=${LR:-5e-4}
PATIENCE=${PATIENCE:-3}
SEED=${SEED:-1}
OUT=${OUT:-runs/zoo}
tasks=("$@")
((${#tasks[@]})) || tasks=(fashion-match shapes-vqa)
fusions=${FUSIONS:-$("$MUROAN" models | awk '{print $1}')}
for task in "${tasks[@]}"; do
  for fusion in $fusions; do
    dir="$OUT/$task/$fusion"
    if [ -f "$dir/checkpoint.json" ]; then echo "have $dir"; continue; fi
    "$MUROAN" train --task "$task" --fusion "$fusion" --epochs "$EPOCHS" --lr "$LR" --patience "$PATIENCE" --seed "$SEED" --device cpu \
      --quiet --out "$dir"
  done
done
python3 bench/zoo_table.py "$OUT" > docs/zoo_accuracy.md
echo "wrote docs/zoo_accuracy.md"

#!/usr/bin/env bash
# Label-preserving success versus any flip, measured side by side on the same
# models and samples, and written to docs/label_preserving.md:
#   1. DIR: an analyze folder made with the default --success auto (fooled
#      where the task has an oracle), e.g. the main job's runs/analyze-fashion-match;
#   2. DIR-flip: the same checkpoints (copied) attacked with --success flip, the
#      paper's criterion, whose every flip the oracle still classifies;
#   3. DIR-share-S: greedy on the first fusion at other --garment-share limits
#      (fashion-match), to show how much the headline depends on that choice.
#   bench/fooled_vs_flip.sh [DIR]
# Environment: MUROAN (build/apps/muroan/muroan), SHARES ("0.1 0.4"),
# TABLE_ONLY=1 (only rewrite the doc from existing folders).
set -euo pipefail
cd "$(dirname "$0")/.."
MUROAN=${MUROAN:-build/apps/muroan/muroan}
DIR=${1:-runs/analyze-fashion-match}
SHARES=${SHARES:-0.1 0.4}
[ -f "$DIR/summary.json" ] || { echo "error: $DIR/summary.json not found (run muroan analyze first)" >&2; exit 1; }
read -r task fusions methods samples seed epochs lr patience < <(python3 - "$DIR/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
t = s["settings"]
print(s["task"], ",".join(s["fusions"]), ",".join(s["methods"]), s["samples"], s["seed"],
      t["epochs"], repr(t["learning_rate"]), t["patience"])
PY
)
if [ "${TABLE_ONLY:-0}" != 1 ]; then
  mkdir -p "$DIR-flip/checkpoints"
  for f in ${fusions//,/ }; do
    [ -d "$DIR-flip/checkpoints/$f" ] || cp -r "$DIR/checkpoints/$f" "$DIR-flip/checkpoints/$f"
  done
  "$MUROAN" analyze --task "$task" --fusions "$fusions" --methods "$methods" --samples "$samples" --seed "$seed" \
    --epochs "$epochs" --lr "$lr" --patience "$patience" --success flip --quiet --out "$DIR-flip"
  first=${fusions%%,*}
  if [ "$task" = fashion-match ]; then
    for share in $SHARES; do
      "$MUROAN" attack --checkpoint "$DIR/checkpoints/$first" --method greedy --samples "$samples" --seed "$seed" \
        --garment-share "$share" --quiet --no-timing --out "$DIR-share-$share/$first-greedy"
    done
  fi
fi
python3 bench/label_preserving_table.py "$DIR" "$SHARES" > docs/label_preserving.md
echo "wrote docs/label_preserving.md"
